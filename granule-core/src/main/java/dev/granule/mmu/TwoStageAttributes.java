package dev.granule.mmu;

import dev.granule.format.Shareability;

/**
 * The memory attributes of a two-stage translation, as a MAIR-style byte (what PAR_EL1.ATTR reports
 * for AT S12E*), from stage 1's MAIR byte and stage 2's MemAttr[3:0] (Arm ARM S2CombineS1MemAttrs,
 * S2CombineS1AttrHints, S2CombineS1Shareability; with HCR_EL2.FWB the FEAT_S2FWB encodings).
 */
final class TwoStageAttributes {

    private TwoStageAttributes() {}

    static final int NC = 0b0100;

    /** The combined attribute byte. */
    static int combine(int s1Attr, int s2MemAttr, boolean fwb) {
        boolean s1Device = (s1Attr & 0xF0) == 0;
        if (fwb) return combineFwb(s1Attr, s1Device, s2MemAttr);
        if ((s2MemAttr & 0b1100) == 0) {
            // Stage 2 Device: the more restrictive Device type (nGnRnE 00 < nGnRE 01 < nGRE 10 < GRE 11).
            int s2Type = s2MemAttr & 3;
            return (s1Device ? Math.min(s1Attr >>> 2 & 3, s2Type) : s2Type) << 2;
        }
        if (s1Device) return s1Attr;
        int outer = nibble(s1Attr >>> 4, s2MemAttr >>> 2 & 3);
        int inner = nibble(s1Attr & 0xF, s2MemAttr & 3);
        return outer << 4 | inner;
    }

    /**
     * One cache level: Non-cacheable if either stage says so, else Write-Through if either does,
     * else Write-Back; the allocation and transient hints are stage 1's (stage 2 assigns none).
     *
     * @param s1 MAIR nibble: 0b0100 NC, 0b00RW transient WT, 0b01RW transient WB, 0b10RW WT, 0b11RW WB
     * @param s2 stage-2 MemAttr pair: 0b01 NC, 0b10 WT, 0b11 WB
     */
    private static int nibble(int s1, int s2) {
        if (s1 == NC || s2 == 0b01) return NC;
        int hints = s1 & 3;
        boolean transientHint = (s1 & 0b1000) == 0;
        boolean s1WriteThrough = (s1 & 0b0100) == 0;
        if (s1WriteThrough || s2 == 0b10) return (transientHint ? 0b0000 : 0b1000) | hints;
        return s1;
    }

    /**
     * FEAT_S2FWB (AArch64.S2ApplyFWBMemAttrs): 0b00xx Device (the more restrictive with a stage-1
     * Device type), 0b0101 Normal Non-cacheable unless stage 1 is Device, 0b0110 Normal Write-Back
     * whatever stage 1 says (with stage 1's allocation and transient hints where stage 1 is Normal
     * cacheable at that level, else read/write-allocate, non-transient), 0b0111 stage 1's
     * attributes; the other encodings are reserved and taken as 0b0111.
     */
    private static int combineFwb(int s1Attr, boolean s1Device, int s2MemAttr) {
        return switch (s2MemAttr) {
            case 0b0000, 0b0001, 0b0010, 0b0011 -> (s1Device ? Math.min(s1Attr >>> 2 & 3, s2MemAttr) : s2MemAttr) << 2;
            case 0b0101 -> s1Device ? s1Attr : NC << 4 | NC;
            case 0b0110 -> s1Device ? 0xFF : forcedWriteBack(s1Attr >>> 4) << 4 | forcedWriteBack(s1Attr & 0xF);
            default -> s1Attr;
        };
    }

    /** One level forced to Write-Back: transient 0b01RW or 0b11RW with stage 1's hints, 0b1111 after NC. */
    private static int forcedWriteBack(int s1) {
        if (s1 == NC || (s1 & 3) == 0) return 0b1111;
        boolean transientHint = (s1 & 0b1000) == 0;
        return (transientHint ? 0b0100 : 0b1100) | (s1 & 3);
    }

    /** The more shareable of the two stages (Non-shareable, then Inner, then Outer Shareable). */
    static Shareability shareability(Shareability s1, Shareability s2) {
        return rank(s1) >= rank(s2) ? s1 : s2;
    }

    private static int rank(Shareability s) {
        return switch (s) {
            case NON_SHAREABLE -> 0;
            case INNER_SHAREABLE -> 1;
            case OUTER_SHAREABLE -> 2;
        };
    }
}
