package dev.granule.format;

/**
 * The attributes of a leaf (block or page) descriptor as a typed value, independent of how a
 * particular format lays them out. The Contiguous bit is not here: it is a property of how the
 * engine laid out a run of entries, not something a caller asks for.
 *
 * @param attrIndex   AttrIndx[2:0], an index into MAIR (see the {@code MT_*} constants)
 * @param permission  AP[2:1]
 * @param shareability SH[1:0]; with FEAT_LPA2 (TCR.DS=1) descriptors have no SH field and the
 *                    shareability comes from TCR, so it is not stored in the descriptor
 * @param accessFlag  AF: clear means the first access faults (or sets it, with TCR.HA)
 * @param notGlobal   nG: the translation is tied to the current ASID
 * @param nonSecure   NS (only meaningful in Secure state)
 * @param dirtyBitModifier DBM: with TCR.HD, a write to a read-only page makes it writable
 * @param privilegedExecuteNever PXN
 * @param unprivilegedExecuteNever UXN (XN for a regime with one privilege level)
 * @param guarded     GP (FEAT_BTI): the page is a guarded page
 * @param software    the four bits [58:55] reserved for software use (VMSAv9-128: bits [94:91], the
 *                    low four of its ten software bits; Armv7 short descriptors: TEX[2:1], values 0..3,
 *                    which SCTLR.TRE=1 leaves to the OS)
 * @param domain      the Armv7 short-descriptor domain (0..15) of a section; 0 in every other format
 *                    and for pages, whose domain lives in the first-level descriptor
 *                    ({@link TableAttributes#domain()})
 */
public record Attributes(
        int attrIndex,
        AccessPermission permission,
        Shareability shareability,
        boolean accessFlag,
        boolean notGlobal,
        boolean nonSecure,
        boolean dirtyBitModifier,
        boolean privilegedExecuteNever,
        boolean unprivilegedExecuteNever,
        boolean guarded,
        int software,
        int domain) {

    // MAIR indices as Linux's asm/memory.h assigns them, so kernel engineers read familiar numbers.
    public static final int MT_NORMAL = 0;
    public static final int MT_NORMAL_TAGGED = 1;
    public static final int MT_NORMAL_NC = 2;
    public static final int MT_DEVICE_nGnRnE = 3;
    public static final int MT_DEVICE_nGnRE = 4;

    public Attributes {
        if (attrIndex < 0 || attrIndex > 7) {
            throw new IllegalArgumentException("AttrIndx must be 0..7 (a MAIR index), was " + attrIndex);
        }
        if (software < 0 || software > 15) {
            throw new IllegalArgumentException("software bits [58:55] hold 0..15, was " + software);
        }
        if (permission == null || shareability == null) {
            throw new IllegalArgumentException("permission and shareability are required");
        }
        if (domain < 0 || domain > 15) {
            throw new IllegalArgumentException("a domain is 0..15 (a DACR field), was " + domain);
        }
    }

    /** Attributes without a domain (0), as every format but Armv7 short descriptors has them. */
    public Attributes(int attrIndex, AccessPermission permission, Shareability shareability, boolean accessFlag,
                      boolean notGlobal, boolean nonSecure, boolean dirtyBitModifier, boolean privilegedExecuteNever,
                      boolean unprivilegedExecuteNever, boolean guarded, int software) {
        this(attrIndex, permission, shareability, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, 0);
    }

    /**
     * The stage 1 permission index these direct permissions occupy when permission indirection is
     * on: {@code UXN:PXN:DBM:AP[1]}, the bits AArch64.S1ApplyOutputPerms reads as PIIndex from a
     * VMSAv8-64 descriptor with TCR2_ELx.PIE=1 (descriptor[54:53], [51], [6]) and that Linux's
     * {@code pte_pi_index()} computes. VMSAv9-128, which has only indirect permissions, stores this
     * value in its PIIndex field; AP[2] goes to its nDirty bit.
     */
    public int permissionIndex() {
        return (unprivilegedExecuteNever ? 8 : 0) | (privilegedExecuteNever ? 4 : 0) | (dirtyBitModifier ? 2 : 0)
                | (permission.encoding() & 1);
    }

    /** Kernel read/write data, never executable (Linux PAGE_KERNEL without DBM). */
    public static Attributes kernelData() {
        return new Attributes(MT_NORMAL, AccessPermission.PRIVILEGED_READ_WRITE, Shareability.INNER_SHAREABLE,
                true, false, false, false, true, true, false, 0);
    }

    /** Kernel text: read-only, executable at EL1 only (Linux PAGE_KERNEL_ROX). */
    public static Attributes kernelText() {
        return kernelData().withPermission(AccessPermission.PRIVILEGED_READ_ONLY).withPrivilegedExecuteNever(false);
    }

    /** Kernel read-only data (Linux PAGE_KERNEL_RO). */
    public static Attributes kernelReadOnly() {
        return kernelData().withPermission(AccessPermission.PRIVILEGED_READ_ONLY);
    }

    /** User read/write data: EL0 RW, not global, never executable. */
    public static Attributes userData() {
        return kernelData().withPermission(AccessPermission.READ_WRITE).withNotGlobal(true);
    }

    /** User text: EL0 read-only and executable, never executable at EL1. */
    public static Attributes userText() {
        return userData().withPermission(AccessPermission.READ_ONLY).withUnprivilegedExecuteNever(false);
    }

    /** Device-nGnRE registers, read/write at EL1, never executable. */
    public static Attributes device() {
        return kernelData().withAttrIndex(MT_DEVICE_nGnRE).withShareability(Shareability.OUTER_SHAREABLE);
    }

    public Attributes withAttrIndex(int v) {
        return new Attributes(v, permission, shareability, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, domain);
    }

    public Attributes withPermission(AccessPermission v) {
        return new Attributes(attrIndex, v, shareability, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, domain);
    }

    public Attributes withShareability(Shareability v) {
        return new Attributes(attrIndex, permission, v, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, domain);
    }

    public Attributes withAccessFlag(boolean v) {
        return new Attributes(attrIndex, permission, shareability, v, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, domain);
    }

    public Attributes withNotGlobal(boolean v) {
        return new Attributes(attrIndex, permission, shareability, accessFlag, v, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, domain);
    }

    public Attributes withNonSecure(boolean v) {
        return new Attributes(attrIndex, permission, shareability, accessFlag, notGlobal, v, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, domain);
    }

    public Attributes withDirtyBitModifier(boolean v) {
        return new Attributes(attrIndex, permission, shareability, accessFlag, notGlobal, nonSecure, v,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, domain);
    }

    public Attributes withPrivilegedExecuteNever(boolean v) {
        return new Attributes(attrIndex, permission, shareability, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                v, unprivilegedExecuteNever, guarded, software, domain);
    }

    public Attributes withUnprivilegedExecuteNever(boolean v) {
        return new Attributes(attrIndex, permission, shareability, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, v, guarded, software, domain);
    }

    public Attributes withGuarded(boolean v) {
        return new Attributes(attrIndex, permission, shareability, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, v, software, domain);
    }

    public Attributes withSoftware(int v) {
        return new Attributes(attrIndex, permission, shareability, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, v, domain);
    }

    public Attributes withDomain(int v) {
        return new Attributes(attrIndex, permission, shareability, accessFlag, notGlobal, nonSecure, dirtyBitModifier,
                privilegedExecuteNever, unprivilegedExecuteNever, guarded, software, v);
    }

    /** A compact ptdump-style rendering, e.g. {@code RW/-- PXN UXN AF ISH MT0}. */
    public String summary() {
        StringBuilder b = new StringBuilder();
        b.append(permission.privilegedLabel()).append('/').append(permission.unprivilegedLabel());
        b.append(privilegedExecuteNever ? " PXN" : " x  ");
        b.append(unprivilegedExecuteNever ? " UXN" : " ux ");
        b.append(accessFlag ? " AF" : " --");
        b.append(notGlobal ? " NG" : "   ");
        b.append(' ').append(shareability.label());
        b.append(" MT").append(attrIndex);
        if (dirtyBitModifier) b.append(" DBM");
        if (nonSecure) b.append(" NS");
        if (guarded) b.append(" GP");
        if (software != 0) b.append(" SW").append(Integer.toHexString(software));
        if (domain != 0) b.append(" D").append(domain);
        return b.toString();
    }
}
