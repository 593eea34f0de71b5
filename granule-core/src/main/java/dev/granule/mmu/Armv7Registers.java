package dev.granule.mmu;

/**
 * The raw register values that control Armv7-A (AArch32) PL1&amp;0 stage-1 translation.
 *
 * @param sctlr SCTLR: M [0], WXN [19], UWXN [20], TRE [28], AFE [29]
 * @param ttbcr TTBCR: EAE [31] selects LPAE; short descriptors: N [2:0], PD0 [4], PD1 [5];
 *              LPAE: T0SZ [2:0], EPD0 [7], SH0 [13:12], T1SZ [18:16], A1 [22], EPD1 [23]
 * @param ttbr0 TTBR0, 64 bits with LPAE (BADDR [39:x], ASID [55:48]), else the low 32 bits
 * @param ttbr1 TTBR1, likewise
 * @param dacr  DACR: two bits per domain (00 no access, 01 client, 10 reserved, 11 manager);
 *              short descriptors only
 * @param mair0 MAIR0 with LPAE, PRRR without (TEX remap)
 * @param mair1 MAIR1 with LPAE, NMRR without
 * @param pan   PSTATE.PAN (CPSR.PAN, FEAT_PAN)
 * @param contextidr CONTEXTIDR: with short descriptors its ASID field [7:0] tags non-global TLB
 *              entries (with LPAE the ASID is in TTBR0 or TTBR1, as TTBCR.A1 selects)
 */
public record Armv7Registers(long sctlr, long ttbcr, long ttbr0, long ttbr1, long dacr, long mair0, long mair1,
                             boolean pan, long contextidr) {

    /** The registers with CONTEXTIDR = 0 (ASID 0). */
    public Armv7Registers(long sctlr, long ttbcr, long ttbr0, long ttbr1, long dacr, long mair0, long mair1, boolean pan) {
        this(sctlr, ttbcr, ttbr0, ttbr1, dacr, mair0, mair1, pan, 0);
    }

    /** The current ASID: CONTEXTIDR.ASID with short descriptors, TTBR{TTBCR.A1}.ASID [55:48] with LPAE. */
    public int asid() {
        if (!lpae()) return (int) (contextidr & 0xFF);
        return (int) (((ttbcr >>> 22 & 1) != 0 ? ttbr1 : ttbr0) >>> 48 & 0xFF);
    }

    public boolean lpae() { return (ttbcr >>> 31 & 1) != 0; }

    boolean mmuEnabled() { return (sctlr & 1) != 0; }

    boolean wxn() { return (sctlr >>> 19 & 1) != 0; }

    boolean uwxn() { return (sctlr >>> 20 & 1) != 0; }

    boolean texRemap() { return (sctlr >>> 28 & 1) != 0; }

    boolean accessFlagEnable() { return (sctlr >>> 29 & 1) != 0; }
}
