package dev.granule.geometry;

/**
 * The three VMSAv8-64 translation granules. The TCR encodings differ between TG0 and TG1 on
 * purpose in the architecture (TG1 has no all-zeros value), so both are kept here.
 */
public enum Granule {
    FOUR_K(12, 0b00, 0b10, "4K"),
    SIXTEEN_K(14, 0b10, 0b01, "16K"),
    SIXTY_FOUR_K(16, 0b01, 0b11, "64K");

    private final int pageShift;
    private final int tg0;
    private final int tg1;
    private final String label;

    Granule(int pageShift, int tg0, int tg1, String label) {
        this.pageShift = pageShift;
        this.tg0 = tg0;
        this.tg1 = tg1;
        this.label = label;
    }

    public int pageShift() { return pageShift; }

    public long pageSize() { return 1L << pageShift; }

    /** TCR_ELx.TG0 encoding (bits [15:14]). */
    public int tg0() { return tg0; }

    /** TCR_ELx.TG1 encoding (bits [31:30]). */
    public int tg1() { return tg1; }

    public String label() { return label; }

    public static Granule ofPageSize(long bytes) {
        for (Granule g : values()) {
            if (g.pageSize() == bytes) return g;
        }
        throw new IllegalArgumentException("no arm64 granule has a page size of " + bytes
                + " bytes; expected 4096, 16384 or 65536");
    }

    /** Decodes TCR.TG0; reserved encodings return null (the architecture treats them as IMPLEMENTATION DEFINED). */
    public static Granule fromTg0(int tg0) {
        return switch (tg0 & 3) {
            case 0b00 -> FOUR_K;
            case 0b01 -> SIXTY_FOUR_K;
            case 0b10 -> SIXTEEN_K;
            default -> null;
        };
    }

    /** Decodes TCR.TG1; reserved encodings return null. */
    public static Granule fromTg1(int tg1) {
        return switch (tg1 & 3) {
            case 0b01 -> SIXTEEN_K;
            case 0b10 -> FOUR_K;
            case 0b11 -> SIXTY_FOUR_K;
            default -> null;
        };
    }

    @Override
    public String toString() { return label; }
}
