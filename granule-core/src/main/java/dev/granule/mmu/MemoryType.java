package dev.granule.mmu;

/** A MAIR_EL1 attribute byte decoded (Arm ARM, MAIR_ELx.Attr&lt;n&gt;). */
public enum MemoryType {
    DEVICE_nGnRnE, DEVICE_nGnRE, DEVICE_nGRE, DEVICE_GRE, NORMAL_NON_CACHEABLE, NORMAL_CACHEABLE,
    /** 0xF0 with FEAT_MTE: Normal, Tagged. */
    NORMAL_TAGGED,
    /** An encoding the architecture leaves UNPREDICTABLE (e.g. 0b0000xx11 with xx != 00 is reserved). */
    RESERVED;

    public static MemoryType decode(int attr) {
        int hi = attr >>> 4 & 0xF;
        int lo = attr & 0xF;
        if (hi == 0) {
            return switch (lo) {
                case 0x0 -> DEVICE_nGnRnE;
                case 0x4 -> DEVICE_nGnRE;
                case 0x8 -> DEVICE_nGRE;
                case 0xC -> DEVICE_GRE;
                default -> RESERVED;
            };
        }
        if (attr == 0xF0) return NORMAL_TAGGED;
        if (hi == 0x4 && lo == 0x4) return NORMAL_NON_CACHEABLE;
        if (lo == 0) return RESERVED;
        return NORMAL_CACHEABLE;
    }
}
