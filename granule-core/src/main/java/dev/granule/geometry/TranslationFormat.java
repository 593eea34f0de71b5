package dev.granule.geometry;

/**
 * The descriptor format of a translation regime. The geometry depends on it because the number
 * of entries in a table is the granule divided by the descriptor size.
 */
public enum TranslationFormat {
    /** VMSAv8-64: 64-bit descriptors. */
    D64(3, "d64", "VMSAv8-64"),
    /** VMSAv9-128 (FEAT_D128): 128-bit descriptors. */
    D128(4, "d128", "VMSAv9-128");

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

    public static TranslationFormat ofOption(String value) {
        for (TranslationFormat f : values()) {
            if (f.option.equalsIgnoreCase(value)) return f;
        }
        return null;
    }
}
