package dev.granule.geometry;

/**
 * The descriptor format of a translation regime. The geometry depends on it because the number
 * of entries in a table is the granule divided by the descriptor size.
 */
public enum TranslationFormat {
    /** VMSAv8-64: 64-bit descriptors. */
    D64(3, "d64", "VMSAv8-64"),
    /** VMSAv9-128 (FEAT_D128): 128-bit descriptors. */
    D128(4, "d128", "VMSAv9-128"),
    /**
     * Armv7-A long-descriptor format (LPAE): 64-bit descriptors laid out as VMSAv8-64's, for a
     * 32-bit VA, 4K granule only, 40-bit output addresses.
     */
    LPAE(3, "lpae", "Armv7 LPAE (long descriptor)"),
    /**
     * Armv7-A short-descriptor format: 32-bit descriptors in two levels (Arm ARM B3.5). The first
     * level (16 KiB table, 4096 entries, fewer with TTBCR.N) holds 1 MiB sections, 16 MiB
     * supersections and pointers to 1 KiB second-level tables of 256 entries, which hold 4 KiB small
     * and 64 KiB large pages. granule numbers the two levels 2 and 3 so that the leaf level is 3 in
     * every format; {@link Geometry#architecturalLevelName} prints Arm's names.
     */
    SHORT(2, "short", "Armv7 short descriptor");

    private final int descriptorShift;
    private final String option;
    private final String archName;

    TranslationFormat(int descriptorShift, String option, String archName) {
        this.descriptorShift = descriptorShift;
        this.option = option;
        this.archName = archName;
    }

    /** log2 of the descriptor size in bytes. */
    public int descriptorShift() { return descriptorShift; }

    public int descriptorBytes() { return 1 << descriptorShift; }

    /** The value used on the boot command line ({@code granule.format=}). */
    public String option() { return option; }

    public String archName() { return archName; }

    /** Whether this is an AArch32 (Armv7) format: 32-bit virtual addresses, no AArch64 ID registers. */
    public boolean isAArch32() { return this == LPAE || this == SHORT; }

    /**
     * VA bits a full (non-start-level) table resolves for a granule of {@code pageShift}: the
     * granule over the descriptor size (9 for 4K/d64, 8 for 4K/d128), except for short
     * descriptors, whose second-level tables are 1 KiB (256 entries, VA[19:12]) whatever the page.
     */
    public int bitsPerLevel(int pageShift) {
        return this == SHORT ? 8 : pageShift - descriptorShift;
    }

    /** Width of the virtual address space the format's regime addresses: 64 or 32 bits. */
    public int addressBits() { return isAArch32() ? 32 : 64; }

    public static TranslationFormat ofOption(String value) {
        for (TranslationFormat f : values()) {
            if (f.option.equalsIgnoreCase(value)) return f;
        }
        return null;
    }
}
