package dev.granule.mmu;

/**
 * A MAIR_EL1 attribute byte decoded (Arm ARM, MAIR_ELx.Attr&lt;n&gt;, and the pseudocode's
 * S1DecodeMemAttrs with S1ConstrainUnpredictableRESMAIR), for an AArch64 PE with FEAT_XS and
 * FEAT_MTE2 as QEMU's {@code -cpu max} has: the XS = 0 forms are their memory types. Without those
 * features the same encodings are reserved (CONSTRAINED UNPREDICTABLE: any attribute may be used),
 * so taking the feature's meaning is one of the permitted answers.
 */
public enum MemoryType {
    DEVICE_nGnRnE, DEVICE_nGnRE, DEVICE_nGRE, DEVICE_GRE, NORMAL_NON_CACHEABLE, NORMAL_CACHEABLE,
    /** 0xF0 with FEAT_MTE2: Normal, Tagged. */
    NORMAL_TAGGED,
    /** An encoding the architecture leaves UNPREDICTABLE (0b0000xx1x, and 0bxxxx0000 outside the ones above). */
    RESERVED;

    public static MemoryType decode(int attr) {
        int hi = attr >>> 4 & 0xF;
        int lo = attr & 0xF;
        if (hi == 0) {
            // 0b0000dd00 Device-dd; 0b0000dd01 the same Device type with XS = 0 (FEAT_XS); 0b0000ddx1x reserved.
            if ((lo & 0b10) != 0) return RESERVED;
            return switch (lo >>> 2) {
                case 0 -> DEVICE_nGnRnE;
                case 1 -> DEVICE_nGnRE;
                case 2 -> DEVICE_nGRE;
                default -> DEVICE_GRE;
            };
        }
        return switch (attr) {
            case 0xF0 -> NORMAL_TAGGED;
            case 0x40 -> NORMAL_NON_CACHEABLE;   // FEAT_XS: Inner and Outer Non-cacheable, XS = 0
            case 0xA0 -> NORMAL_CACHEABLE;       // FEAT_XS: Inner and Outer Write-Through, Read-Allocate, XS = 0
            case 0x44 -> NORMAL_NON_CACHEABLE;
            default -> lo == 0 ? RESERVED : NORMAL_CACHEABLE;
        };
    }
}
