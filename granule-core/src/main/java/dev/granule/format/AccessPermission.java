package dev.granule.format;

/**
 * Stage-1 data access permissions, the AP[2:1] field (descriptor bits [7:6]). The names say who
 * may do what: {@code PRIVILEGED_*} grants nothing to EL0.
 */
public enum AccessPermission {
    /** AP[2:1]=00: EL1 read/write, EL0 none. */
    PRIVILEGED_READ_WRITE(0b00, "RW", "--"),
    /** AP[2:1]=01: EL1 and EL0 read/write. */
    READ_WRITE(0b01, "RW", "RW"),
    /** AP[2:1]=10: EL1 read-only, EL0 none. */
    PRIVILEGED_READ_ONLY(0b10, "RO", "--"),
    /** AP[2:1]=11: EL1 and EL0 read-only. */
    READ_ONLY(0b11, "RO", "RO");

    private final int encoding;
    private final String privileged;
    private final String unprivileged;

    AccessPermission(int encoding, String privileged, String unprivileged) {
        this.encoding = encoding;
        this.privileged = privileged;
        this.unprivileged = unprivileged;
    }

    /** AP[2:1] as a two-bit value (AP[2] is bit 1 of the result). */
    public int encoding() { return encoding; }

    public boolean writable() { return (encoding & 0b10) == 0; }

    /** AP[1]: whether EL0 has any data access. */
    public boolean unprivilegedAccess() { return (encoding & 0b01) != 0; }

    public String privilegedLabel() { return privileged; }

    public String unprivilegedLabel() { return unprivileged; }

    public static AccessPermission decode(int ap) {
        return switch (ap & 3) {
            case 0b00 -> PRIVILEGED_READ_WRITE;
            case 0b01 -> READ_WRITE;
            case 0b10 -> PRIVILEGED_READ_ONLY;
            default -> READ_ONLY;
        };
    }
}
