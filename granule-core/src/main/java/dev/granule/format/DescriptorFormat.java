package dev.granule.format;

import dev.granule.geometry.Geometry;

/**
 * How one translation-table format lays out its descriptors. The engine, the slot handle and the
 * walker know nothing else about bits: they ask the format. Values travel as {@link Descriptor}
 * (128 bits wide) whatever the format's own size.
 *
 * <p>Implementations are immutable and bound to one geometry, so that per-level masks are
 * computed once and every method is a few shifts.
 *
 * <p>Three formats: {@link Vmsa64Format} (VMSAv8-64 and Armv7 LPAE), {@link Vmsa128Format}
 * (VMSAv9-128, FEAT_D128) and {@link ShortFormat} (Armv7 short descriptors). Where a format's
 * layout depends on the level (short descriptors: sections and small pages put the same fields in
 * different bits), the methods that take a level are the ones to use; the engine and the walker use
 * only those. The level-less {@link #attributes(Descriptor)}, {@link #contiguous(Descriptor)} and
 * {@link #setContiguous(Descriptor, boolean)} serve formats whose leaves look alike at every level
 * and throw for {@link ShortFormat}.
 */
public sealed interface DescriptorFormat permits Vmsa64Format, Vmsa128Format, ShortFormat {

    /** The geometry this format instance encodes for. */
    Geometry geometry();

    /** log2 of the descriptor size in bytes (3 for 64-bit descriptors). */
    default int descriptorShift() { return geometry().format().descriptorShift(); }

    DescriptorKind kind(Descriptor d, int level);

    /**
     * Output address of a block or page descriptor at {@code level}: its OA base. For the
     * replicated entries of a short-descriptor supersection or large page this is the base of the
     * whole 16 MiB or 64 KiB region, which every one of the 16 entries carries; {@link #translate}
     * gives the address of one VA.
     */
    long outputAddress(Descriptor d, int level);

    /**
     * The output address {@code va} translates to through leaf {@code d} at {@code level}: the OA
     * base with the VA bits below the size the descriptor maps (Arm ARM StageOA). That size is the
     * entry's span, except for replicated short-descriptor entries, which map 16 times their span.
     */
    default long translate(Descriptor d, int level, long va) {
        return outputAddress(d, level) | (va & (geometry().entrySpan(level) - 1));
    }

    /** Next-level table address of a table descriptor. */
    long tableAddress(Descriptor d);

    Attributes attributes(Descriptor d);

    /** Attributes of leaf {@code d} read at {@code level}. */
    default Attributes attributes(Descriptor d, int level) { return attributes(d); }

    TableAttributes tableAttributes(Descriptor d);

    boolean contiguous(Descriptor d);

    /** Whether leaf {@code d} at {@code level} is part of a contiguous run (or is a replicated entry). */
    default boolean contiguous(Descriptor d, int level) { return contiguous(d); }

    /**
     * Levels table descriptor {@code d} at {@code level} skips: the next table is at
     * {@code level + 1 + skip} and is indexed with {@code (1 + skip)} levels' worth of VA bits.
     * Only VMSAv9-128 has this (the SKL field); the engine never writes such tables, but the
     * walker follows them.
     */
    default int skippedLevels(Descriptor d, int level) { return 0; }

    /**
     * Whether leaf {@code d} at {@code level} can be made part of a contiguous run. A short
     * descriptor section with a domain other than 0 cannot: a supersection has no domain field.
     */
    default boolean contiguousAllowed(Descriptor d, int level) { return true; }

    /** Bits of a physical address a table descriptor (or the TTBR) can hold: 32 for short descriptors. */
    default int tableAddressBits() { return geometry().paBits(); }

    /** Writes into {@code out} a table descriptor pointing at {@code tablePa}. */
    void encodeTable(Descriptor out, long tablePa, TableAttributes attributes);

    /** Writes into {@code out} a block (level &lt; 3) or page (level 3) descriptor. */
    void encodeLeaf(Descriptor out, long pa, int level, Attributes attributes, boolean contiguous);

    /** Replaces the output address of leaf {@code d}, keeping every attribute: the inner loop of map. */
    void setOutputAddress(Descriptor d, long pa, int level);

    /** Sets or clears the Contiguous bit of leaf {@code d}. */
    void setContiguous(Descriptor d, boolean contiguous);

    /**
     * Makes leaf {@code d} at {@code level} part of a contiguous run or not. For short descriptors
     * this converts between a section and a supersection, or a small and a large page, and the
     * output address is rounded down to the replicated base; after clearing, set each entry's own
     * address with {@link #setOutputAddress}.
     */
    default void setContiguous(Descriptor d, boolean contiguous, int level) { setContiguous(d, contiguous); }

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
            case D128 -> new Vmsa128Format(geometry);
            case SHORT -> new ShortFormat(geometry, Shareability.INNER_SHAREABLE);
        };
    }
}
