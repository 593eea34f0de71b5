package dev.granule.mmu;

/**
 * The raw register values that control EL1&amp;0 stage-1 translation.
 *
 * @param tcr   TCR_EL1
 * @param ttbr0 TTBR0_EL1
 * @param ttbr1 TTBR1_EL1
 * @param mair  MAIR_EL1
 * @param sctlr SCTLR_EL1 (M bit 0, WXN bit 19)
 * @param pan   PSTATE.PAN
 * @param ttbr0High TTBR0_EL1 bits [127:64], read only when TCR2_EL1.D128 makes the TTBRs 128-bit
 *                  (BADDR[55:48] at bits [87:80]); 0 otherwise
 * @param ttbr1High TTBR1_EL1 bits [127:64], likewise
 * @param mair2 MAIR2_EL1: the attributes of AttrIndx 8..15 under TCR2_EL1.AIE (FEAT_AIE)
 */
public record Registers(long tcr, long ttbr0, long ttbr1, long mair, long sctlr, boolean pan,
                        long ttbr0High, long ttbr1High, long mair2) {

    /** 64-bit TTBRs and no MAIR2_EL1: every regime before FEAT_D128 and FEAT_AIE. */
    public Registers(long tcr, long ttbr0, long ttbr1, long mair, long sctlr, boolean pan) {
        this(tcr, ttbr0, ttbr1, mair, sctlr, pan, 0, 0, 0);
    }

    /** TCR_EL1 field positions (Arm ARM D19, TCR_EL1). */
    static int t0sz(long tcr) { return (int) (tcr & 0x3F); }
    static boolean epd0(long tcr) { return (tcr >>> 7 & 1) != 0; }
    static int sh0(long tcr) { return (int) (tcr >>> 12 & 3); }
    static int tg0(long tcr) { return (int) (tcr >>> 14 & 3); }
    static int t1sz(long tcr) { return (int) (tcr >>> 16 & 0x3F); }
    static boolean a1(long tcr) { return (tcr >>> 22 & 1) != 0; }
    static boolean epd1(long tcr) { return (tcr >>> 23 & 1) != 0; }
    static int sh1(long tcr) { return (int) (tcr >>> 28 & 3); }
    static int tg1(long tcr) { return (int) (tcr >>> 30 & 3); }
    static int ips(long tcr) { return (int) (tcr >>> 32 & 7); }
    static boolean as(long tcr) { return (tcr >>> 36 & 1) != 0; }
    static boolean tbi0(long tcr) { return (tcr >>> 37 & 1) != 0; }
    static boolean tbi1(long tcr) { return (tcr >>> 38 & 1) != 0; }
    static boolean ha(long tcr) { return (tcr >>> 39 & 1) != 0; }
    static boolean hd(long tcr) { return (tcr >>> 40 & 1) != 0; }
    static boolean hpd0(long tcr) { return (tcr >>> 41 & 1) != 0; }
    static boolean hpd1(long tcr) { return (tcr >>> 42 & 1) != 0; }
    static boolean ds(long tcr) { return (tcr >>> 59 & 1) != 0; }

    boolean mmuEnabled() { return (sctlr & 1) != 0; }

    boolean wxn() { return (sctlr >>> 19 & 1) != 0; }
}
