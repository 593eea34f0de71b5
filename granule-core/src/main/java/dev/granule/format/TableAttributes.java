package dev.granule.format;

/**
 * Hierarchical attributes of a table descriptor: limits that apply to everything the table maps
 * (ignored when TCR.HPDn=1).
 *
 * @param apTable  APTable[1:0]: bit 0 removes EL0 access, bit 1 removes write access
 * @param unprivilegedExecuteNeverTable UXNTable (XNTable)
 * @param privilegedExecuteNeverTable   PXNTable
 * @param nonSecureTable NSTable
 */
public record TableAttributes(int apTable, boolean unprivilegedExecuteNeverTable,
                              boolean privilegedExecuteNeverTable, boolean nonSecureTable) {

    /** No restriction: what an engine writes unless asked otherwise. */
    public static final TableAttributes NONE = new TableAttributes(0, false, false, false);

    public TableAttributes {
        if (apTable < 0 || apTable > 3) throw new IllegalArgumentException("APTable is two bits, was " + apTable);
    }
}
