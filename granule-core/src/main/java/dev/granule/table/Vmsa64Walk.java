package dev.granule.table;

import dev.granule.format.Vmsa64Format;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.PhysicalMemory;

import java.lang.invoke.MethodHandles;

/**
 * The VMSAv8-64 TLB-miss walk (64-bit descriptors, arm64 and Armv7 LPAE), as a template that
 * {@link HiddenSpecialisation} copies once per geometry. In each copy {@link #FORMAT} is that
 * geometry's format, a constant to the JIT: every shift, mask, level bound and block rule of the
 * walk folds as it would in code written for one page size, yet the geometry was picked at start-up
 * (a boot command line, a dump's VMCOREINFO, a TCR value).
 *
 * <p>Kept free of lambdas, enum switches and nested classes, which a copy would share by name with
 * the template; {@link GeometryCopies} makes and caches the copies.
 *
 * <p>It gives the same answers as the generic walk in {@link TableWalker} (which serves every
 * format through slots and {@code Descriptor}s), and reads descriptors as longs straight from memory.
 */
final class Vmsa64Walk implements GeometryWalk {

    /** This copy's format: the class data of a hidden copy, null in the template itself. */
    private static final Vmsa64Format FORMAT =
            HiddenSpecialisation.classData(MethodHandles.lookup(), Vmsa64Format.class);

    // A hidden class's final fields are trusted by the JIT like static ones: with the walk held in a
    // constant, these fold too; held in a field, they are loads on entry.
    private final PhysicalMemory memory;
    private final long root;
    private final long rootMask;
    private final long firstVa;
    private final long lastVa;

    /** {@code rootMask}: the start-level table's entries minus one; {@code firstVa..lastVa}: the half it maps. */
    Vmsa64Walk(PhysicalMemory memory, long root, long rootMask, long firstVa, long lastVa) {
        if (FORMAT == null) throw new IllegalStateException("the template walk is not for use; see GeometryCopies");
        this.memory = memory;
        this.root = root;
        this.rootMask = rootMask;
        this.firstVa = firstVa;
        this.lastVa = lastVa;
    }

    @Override
    public long outputAddress(long va) {
        if (Long.compareUnsigned(va, firstVa) < 0 || Long.compareUnsigned(va, lastVa) > 0) return -1;
        Vmsa64Format f = FORMAT;
        Geometry g = f.geometry();
        int level = g.startLevel();
        int shift = g.shift(level);
        int bits = g.bitsPerLevel();
        long mask = rootMask;
        long table = root;
        try {
            while (true) {
                long d = memory.readLong(table + (((va >>> shift) & mask) << 3));
                // Vmsa64Format.kind as bit tests: invalid, table (or page at level 3), block where allowed.
                if ((d & 1) == 0) return -1;
                if ((d & 2) != 0 && level < 3) {
                    table = f.tableAddress(d);
                    level++;
                    shift -= bits;
                    mask = (1L << bits) - 1;
                    continue;
                }
                if ((d & 2) == 0 && !g.blockAllowed(level)) return -1;
                return f.outputAddress(d, level) | (va & ((1L << shift) - 1));
            }
        } catch (MemoryAccessException e) {
            return -1;
        }
    }
}
