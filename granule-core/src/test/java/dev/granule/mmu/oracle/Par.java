package dev.granule.mmu.oracle;

import dev.granule.mmu.FaultType;
import dev.granule.mmu.Translation;

/**
 * PAR_EL1 as an AT instruction leaves it (Arm ARM D19, PAR_EL1; fault status codes from the ESR
 * DFSC table), reduced to the fields the oracle compares: F; on success PA[51:12], ATTR and SH; on a
 * fault FST. NS (bit 9) and the IMPLEMENTATION DEFINED bits are not compared.
 */
public final class Par {

    private Par() {}

    static final long PA_MASK = 0x000F_FFFF_FFFF_F000L;
    static final long SUCCESS_MASK = PA_MASK | 0xFFL << 56 | 3L << 7 | 1;
    static final long FAULT_MASK = 0x37FL; // F, FST, PTW [8] and S [9] (stage 2)

    /** The compared fields of PAR_EL1 for {@code t}. */
    public static long expected(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> (ok.pa() & PA_MASK) | (long) ok.mairAttr() << 56
                    | (long) ok.effectiveShareability().encoding() << 7;
            case Translation.Fault f -> 1 | (long) faultStatus(f.type(), f.level()) << 1
                    | (f.s1ptw() ? 1L << 8 : 0) | (f.stage() == 2 ? 1L << 9 : 0);
        };
    }

    /**
     * Whether an exception syndrome (ESR_EL2, or HSR in AArch32 Hyp mode) is the Data Abort an
     * address translation instruction takes, instead of reporting in PAR, for an external abort
     * on its walk: EC 0x25 (Data Abort without a change in Exception level) and the fault's DFSC.
     */
    public static boolean isWalkAbort(long syndrome, Translation.Fault f) {
        return (syndrome >>> 26 & 0x3F) == 0x25 && (syndrome & 0x3F) == faultStatus(f.type(), f.level());
    }

    /** The compared fields of a PAR_EL1 value QEMU reported. */
    public static long compared(long par) {
        return par & ((par & 1) == 0 ? SUCCESS_MASK : FAULT_MASK);
    }

    /**
     * FST/DFSC: 0b0000ll address size, 0b0001ll translation, 0b0010ll access flag, 0b0011ll
     * permission, 0b0101ll external abort on walk, 0b1111ll domain (AArch32 long-descriptor FSR);
     * level -1 has its own codes (FEAT_LPA2).
     */
    static int faultStatus(FaultType type, int level) {
        if (level == -1) {
            return switch (type) {
                case ADDRESS_SIZE -> 0b101001;
                case TRANSLATION -> 0b101011;
                case EXTERNAL_ABORT_ON_WALK -> 0b010011;
                default -> throw new IllegalArgumentException(type + " has no level -1 code");
            };
        }
        int base = switch (type) {
            case ADDRESS_SIZE -> 0b000000;
            case TRANSLATION -> 0b000100;
            case ACCESS_FLAG -> 0b001000;
            case PERMISSION -> 0b001100;
            case EXTERNAL_ABORT_ON_WALK -> 0b010100;
            case DOMAIN -> 0b111100; // long-descriptor FSC of an Armv7 short-descriptor domain fault (levels 1, 2)
        };
        return base | level;
    }

    /** The kind of answer, for grouping mismatches: a fault name or which success fields are set. */
    public static String kind(long par) {
        if ((par & 1) != 0) {
            return ((par >>> 9 & 1) != 0 ? "S2 " + ((par >>> 8 & 1) != 0 ? "PTW " : "") : "") + fstName((int) (par >>> 1 & 0x3F));
        }
        return String.format("ok SH %d", par >>> 7 & 3);
    }

    /** A PAR value in words, for mismatch reports. */
    public static String describe(long par) {
        if ((par & 1) == 0) {
            return String.format("PA 0x%x ATTR 0x%02x SH %d", par & PA_MASK, par >>> 56, par >>> 7 & 3);
        }
        int fst = (int) (par >>> 1 & 0x3F);
        return String.format("fault FST 0x%02x (%s)%s", fst, fstName(fst),
                (par >>> 9 & 1) != 0 ? ((par >>> 8 & 1) != 0 ? " stage 2, stage-1 walk" : " stage 2") : "");
    }

    private static String fstName(int fst) {
        return switch (fst) {
            case 0b101001 -> "address size L-1";
            case 0b101011 -> "translation L-1";
            case 0b010011 -> "external abort on walk L-1";
            default -> switch (fst >> 2) {
                case 0 -> "address size L" + (fst & 3);
                case 1 -> "translation L" + (fst & 3);
                case 2 -> "access flag L" + (fst & 3);
                case 3 -> "permission L" + (fst & 3);
                case 5 -> "external abort on walk L" + (fst & 3);
                case 15 -> "domain L" + (fst & 3);
                default -> "other";
            };
        };
    }
}
