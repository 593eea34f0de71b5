package dev.granule.table;

/**
 * The TLB-miss walk compiled for one geometry: an instance of a class defined for that geometry
 * alone (see {@link Vmsa64Walk}) that holds the tables' root and VA range too, so the JIT sees the geometry as a constant however late it was
 * chosen. {@link TableWalker#outputAddress(long)} takes this path where one exists.
 */
interface GeometryWalk {

    /**
     * Output address of {@code va} through the walk's tables, or -1 where {@code va} is outside
     * their half of the address space, no leaf maps it or a table lies outside memory.
     */
    long outputAddress(long va);
}
