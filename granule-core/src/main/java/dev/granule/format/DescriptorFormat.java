package dev.granule.format;

import dev.granule.geometry.Geometry;

/**
 * How one translation-table format lays out its descriptors. The engine, the slot handle and the
 * walker know nothing else about bits: they ask the format. Values travel as {@link Descriptor}
 * (128 bits wide) whatever the format's own size.
 *
 * <p>Implementations are immutable and bound to one geometry, so that per-level masks are
 * computed once and every method is a few shifts.
 */
public sealed interface DescriptorFormat permits Vmsa64Format {

    /** The geometry this format instance encodes for. */
    Geometry geometry();

    /** log2 of the descriptor size in bytes (3 for 64-bit descriptors). */
    default int descriptorShift() { return geometry().format().descriptorShift(); }

    DescriptorKind kind(Descriptor d, int level);

    /** Output address of a block or page descriptor at {@code level}. */
    long outputAddress(Descriptor d, int level);

    /** Next-level table address of a table descriptor. */
    long tableAddress(Descriptor d);

    Attributes attributes(Descriptor d);

    TableAttributes tableAttributes(Descriptor d);

    boolean contiguous(Descriptor d);

    /** Writes into {@code out} a table descriptor pointing at {@code tablePa}. */
    void encodeTable(Descriptor out, long tablePa, TableAttributes attributes);

    /** Writes into {@code out} a block (level &lt; 3) or page (level 3) descriptor. */
    void encodeLeaf(Descriptor out, long pa, int level, Attributes attributes, boolean contiguous);

    /** Replaces the output address of leaf {@code d}, keeping every attribute: the inner loop of map. */
    void setOutputAddress(Descriptor d, long pa, int level);

    /** Sets or clears the Contiguous bit of leaf {@code d}. */
    void setContiguous(Descriptor d, boolean contiguous);

    /**
     * Writes into {@code out} a leaf at {@code level} for {@code pa} that keeps every other bit of
     * leaf {@code template} (read at {@code templateLevel}): how a block is split into smaller
     * leaves without losing bits the typed {@link Attributes} do not model (PBHA, nT, ...).
     */
    void encodeLeafLike(Descriptor out, Descriptor template, int templateLevel, long pa, int level, boolean contiguous);

    /** Whether two leaves at {@code level} differ only in output address and Contiguous bit. */
    boolean sameLeafAttributes(Descriptor a, Descriptor b, int level);

    /** The format for a geometry. */
    static DescriptorFormat of(Geometry geometry) {
        return switch (geometry.format()) {
            case D64, LPAE -> new Vmsa64Format(geometry, Shareability.INNER_SHAREABLE);
            case D128 -> throw new UnsupportedOperationException(
                    "VMSAv9-128 (D128) descriptors are not implemented yet; boot with granule.format=d64");
        };
    }
}
