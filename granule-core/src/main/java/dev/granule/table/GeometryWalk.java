package dev.granule.table;

/**
 * The TLB-miss walk compiled for one geometry: an instance of a class defined for that geometry
 * alone (see {@link Vmsa64Walk}), so the JIT sees the geometry as a constant however late it was
 * chosen. {@link TableWalker#outputAddress(long)} takes this path where one exists.
 */
interface GeometryWalk {

    /**
     * Output address of {@code va} through the tables at {@code root}, or -1 where no leaf maps it or
     * a table lies outside memory; {@code rootMask} is the start-level table's entries minus one.
     */
    long outputAddress(long root, long rootMask, long va);
}
