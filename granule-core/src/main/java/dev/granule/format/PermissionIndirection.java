package dev.granule.format;

/**
 * Stage 1 permission indirection (FEAT_S1PIE, always on with VMSAv9-128): a leaf's 4-bit PIIndex
 * selects a 4-bit permission from PIR_EL1 (privileged) and PIRE0_EL1 (unprivileged), field n in
 * bits [4n+3:4n]. The meaning of a permission value is AArch64.S1IndirectBasePermissions'.
 *
 * @param pir   PIR_EL1
 * @param pire0 PIRE0_EL1
 */
public record PermissionIndirection(long pir, long pire0) {

    // Linux's permission encodings (arch/arm64/include/asm/sysreg.h, PIE_*).
    private static final int NONE_O = 0x0, R_O = 0x1, X_O = 0x2, RX_O = 0x3, RWX_O = 0x7, RW_O = 0x5;
    private static final int R = 0x8, GCS = 0x9, RX = 0xa, RW = 0xc, RWX = 0xe;

    /**
     * Linux's PIE_E1 / PIE_E0 (arch/arm64/include/asm/pgtable-prot.h since GCS support): indices are
     * {@code pte_pi_index()} of the kernel's page protections, that is UXN:PXN:WRITE(DBM):USER(AP[1])
     * (see {@link Attributes#permissionIndex()}); unlisted indices grant nothing.
     */
    public static final PermissionIndirection LINUX = new PermissionIndirection(
            field(0xb, NONE_O) | field(0x9, NONE_O) | field(0x4, NONE_O) | field(0x5, R) | field(0x7, RW)
                    | field(0xd, R) | field(0xf, RW) | field(0x8, RX) | field(0xa, RWX) | field(0xc, R)
                    | field(0xe, RW),
            field(0xb, GCS) | field(0x9, R) | field(0x4, X_O) | field(0x5, RX_O) | field(0x7, RWX_O)
                    | field(0xd, R_O) | field(0xf, RW_O));

    private static long field(int index, int perm) {
        return (long) perm << (4 * index);
    }

    /** Permission value PIR_EL1 gives {@code index}. */
    public int privileged(int index) { return (int) (pir >>> (4 * checkIndex(index))) & 0xF; }

    /** Permission value PIRE0_EL1 gives {@code index}. */
    public int unprivileged(int index) { return (int) (pire0 >>> (4 * checkIndex(index))) & 0xF; }

    private static int checkIndex(int index) {
        if (index < 0 || index > 15) throw new IllegalArgumentException("PIIndex is 0..15, was " + index);
        return index;
    }

    /**
     * What one permission value grants at its Exception level, before overlays and before the rule
     * that an index executable at EL1 and writable at EL0 grants nothing at either.
     *
     * @param overlay whether stage 1 overlay permissions (POR_ELx) apply: values 0b0xxx
     * @param wxn     the value 0b0110 (read, write, execute, with WXN applied)
     */
    public record Access(boolean read, boolean write, boolean execute, boolean gcs, boolean overlay, boolean wxn) {

        /** AArch64.S1IndirectBasePermissions' table for one 4-bit value. */
        public static Access of(int perm) {
            return switch (perm & 0xF) {
                case 0b0001 -> new Access(true, false, false, false, true, false);
                case 0b0010 -> new Access(false, false, true, false, true, false);
                case 0b0011 -> new Access(true, false, true, false, true, false);
                case 0b0101 -> new Access(true, true, false, false, true, false);
                case 0b0110 -> new Access(true, true, true, false, true, true);
                case 0b0111 -> new Access(true, true, true, false, true, false);
                case 0b1000 -> new Access(true, false, false, false, false, false);
                case 0b1001 -> new Access(true, false, false, true, false, false);
                case 0b1010 -> new Access(true, false, true, false, false, false);
                case 0b1100 -> new Access(true, true, false, false, false, false);
                case 0b1110 -> new Access(true, true, true, false, false, false);
                // 0b0000 and 0b0100 (no access, overlay applies); 0b1011, 0b1101, 0b1111 (reserved, no access).
                default -> new Access(false, false, false, false, (perm & 0b1000) == 0, false);
            };
        }
    }
}
