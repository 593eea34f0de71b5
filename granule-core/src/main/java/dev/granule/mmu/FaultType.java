package dev.granule.mmu;

/** Stage-1 fault kinds, as the Arm ARM's fault status codes name them (DFSC/IFSC, PAR_EL1.FST). */
public enum FaultType {
    /** No valid descriptor (or the VA is outside both halves, or EPDn=1). */
    TRANSLATION,
    /** A TTBR, table or output address wider than the regime's PA size. */
    ADDRESS_SIZE,
    /** AF=0 and hardware Access flag update (TCR.HA) off. */
    ACCESS_FLAG,
    /** The leaf's (and its tables') permissions deny the access. */
    PERMISSION,
    /** A table descriptor read outside RAM: synchronous external abort on translation table walk. */
    EXTERNAL_ABORT_ON_WALK,
    /** Armv7 short descriptors: the DACR gives the section's or page's domain no access (0b00, or the reserved 0b10). */
    DOMAIN
}
