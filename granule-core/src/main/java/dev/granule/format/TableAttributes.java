package dev.granule.format;

/**
 * Hierarchical attributes of a table descriptor: limits that apply to everything the table maps
 * (ignored when TCR.HPDn=1).
 *
 * @param apTable  APTable[1:0]: bit 0 removes EL0 access, bit 1 removes write access
 * @param unprivilegedExecuteNeverTable UXNTable (XNTable)
 * @param privilegedExecuteNeverTable   PXNTable; in an Armv7 short-descriptor page-table entry the
 *                 PXN bit [2], which is the only PXN the pages below have
 * @param nonSecureTable NSTable; the NS bit [3] of a short-descriptor page-table entry
 * @param domain   the domain (0..15, bits [8:5]) of a short-descriptor page-table entry, which every
 *                 page below inherits; 0 in the other formats
 */
public record TableAttributes(int apTable, boolean unprivilegedExecuteNeverTable,
                              boolean privilegedExecuteNeverTable, boolean nonSecureTable, int domain) {

    /** No restriction: what an engine writes unless asked otherwise. */
    public static final TableAttributes NONE = new TableAttributes(0, false, false, false, 0);

    public TableAttributes {
        if (apTable < 0 || apTable > 3) throw new IllegalArgumentException("APTable is two bits, was " + apTable);
        if (domain < 0 || domain > 15) throw new IllegalArgumentException("a domain is 0..15, was " + domain);
    }

    /** Table attributes without a domain, as every format but Armv7 short descriptors has them. */
    public TableAttributes(int apTable, boolean unprivilegedExecuteNeverTable, boolean privilegedExecuteNeverTable,
                           boolean nonSecureTable) {
        this(apTable, unprivilegedExecuteNeverTable, privilegedExecuteNeverTable, nonSecureTable, 0);
    }
}
