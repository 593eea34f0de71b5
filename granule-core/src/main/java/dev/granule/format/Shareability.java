package dev.granule.format;

/** The SH[1:0] field of a stage-1 descriptor (Arm ARM: "Shareability attribute"). 0b01 is reserved. */
public enum Shareability {
    NON_SHAREABLE(0b00, "NSH"),
    OUTER_SHAREABLE(0b10, "OSH"),
    INNER_SHAREABLE(0b11, "ISH");

    private final int encoding;
    private final String label;

    Shareability(int encoding, String label) {
        this.encoding = encoding;
        this.label = label;
    }

    public int encoding() { return encoding; }

    public String label() { return label; }

    /**
     * Decodes SH[1:0]. The reserved value 0b01 behaves as an allowed value chosen by the
     * implementation (CONSTRAINED UNPREDICTABLE); like QEMU we treat it as Non-shareable.
     */
    public static Shareability decode(int sh) {
        return switch (sh & 3) {
            case 0b10 -> OUTER_SHAREABLE;
            case 0b11 -> INNER_SHAREABLE;
            default -> NON_SHAREABLE;
        };
    }
}
