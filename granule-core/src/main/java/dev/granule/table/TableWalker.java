package dev.granule.table;

import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads translation tables in any physical memory (built by granule or found in a dump) without
 * changing them. It trusts nothing it reads: a table address outside RAM is reported and skipped,
 * reserved encodings count as invalid, and every walk is bounded by the number of levels, so it
 * terminates on any memory contents (tables that point at themselves included). It follows every
 * format's tables alike, VMSAv9-128 tables that skip levels (SKL) included, and computes each VA's
 * output address through {@link DescriptorFormat#translate}, which is what makes the replicated
 * entries of short-descriptor supersections and large pages come out right.
 *
 * <p>A walker reuses its scratch slots and descriptors, so it allocates nothing per entry and is
 * not thread-safe.
 */
public final class TableWalker {

    private final Geometry geometry;
    private final DescriptorFormat format;
    private final PhysicalMemory memory;
    private final long root;
    private final VaRange range;
    private final int rootMask;
    private final long firstVa;
    private final long lastVa;
    /**
     * The walk compiled for this geometry ({@link Vmsa64Walk}), or the generic walk for formats that
     * have none; one interface call either way, so {@link #outputAddress(long)} stays small enough to
     * inline everywhere.
     */
    private final GeometryWalk geometryWalk;
    private final Slot walkSlot;
    private final Descriptor walkScratch = new Descriptor();
    private final Slot[] slots = new Slot[Geometry.MAX_LEVEL - Geometry.MIN_LEVEL + 1];
    private final Descriptor[] scratch = new Descriptor[slots.length];
    private long readLimit = Long.MAX_VALUE;
    private long reads;
    private boolean truncated;

    public TableWalker(DescriptorFormat format, PhysicalMemory memory, long root, VaRange range) {
        this.geometry = format.geometry();
        this.format = format;
        this.memory = memory;
        this.root = root;
        this.range = range;
        this.rootMask = range.rootEntries(geometry) - 1;
        this.firstVa = range.first(geometry);
        this.lastVa = range.last(geometry);
        GeometryWalk compiled = GeometryCopies.walk(format, memory, root, rootMask, firstVa, lastVa);
        this.geometryWalk = compiled != null ? compiled : new GenericWalk();
        this.walkSlot = new Slot(memory, format.descriptorShift());
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(memory, format.descriptorShift());
            scratch[i] = new Descriptor();
        }
    }

    private static int slot(int level) { return level - Geometry.MIN_LEVEL; }

    /** Bytes of the start-level table: {@link VaRange#rootEntries} descriptors. */
    public long rootBytes() { return (long) (rootMask + 1) << format.descriptorShift(); }

    /** A walker for the tables rooted at {@code root} (a TTBR's base address). */
    public static TableWalker of(Geometry geometry, PhysicalMemory memory, long root, VaRange range) {
        return new TableWalker(DescriptorFormat.of(geometry), memory, root, range);
    }

    public Geometry geometry() { return geometry; }

    public DescriptorFormat format() { return format; }

    public long root() { return root; }

    public VaRange range() { return range; }

    /** First VA this walker's half of the address space covers. */
    public long firstVa() { return firstVa; }

    public long lastVa() { return lastVa; }

    public boolean covers(long va) {
        return Long.compareUnsigned(va, firstVa) >= 0 && Long.compareUnsigned(va, lastVa) <= 0;
    }

    /** Output address of {@code va}, or -1 if no leaf maps it (or a table lies outside RAM). Allocates nothing. */
    public long outputAddress(long va) {
        return geometryWalk.outputAddress(va);
    }

    /** The format-generic walk behind the compiled walks' interface. */
    private final class GenericWalk implements GeometryWalk {
        @Override
        public long outputAddress(long va) {
            if (!covers(va)) return -1;
            return TableWalker.outputAddress(format, walkSlot, walkScratch, root, rootMask, va);
        }
    }

    /** The walk for tables whose start-level table is the geometry's (every TTBR0, and TTBR1 but for short descriptors). */
    public static long outputAddress(DescriptorFormat format, Slot slot, Descriptor d, long root, long va) {
        Geometry g = format.geometry();
        return outputAddress(format, slot, d, root, g.entries(g.startLevel()) - 1, va);
    }

    /**
     * The walk itself, as a static method over its inputs: with a constant {@code format} (a
     * geometry fixed at build time, held in a {@code static final}) the JIT folds every shift and
     * mask; with one chosen at start-up they are loads it hoists. One code path serves every format.
     *
     * @param rootMask the start-level index mask: entries of the start-level table minus one
     */
    public static long outputAddress(DescriptorFormat format, Slot slot, Descriptor d, long root, long rootMask,
                                     long va) {
        Geometry g = format.geometry();
        int level = g.startLevel();
        // Shift and index mask are stepped per level rather than recomputed from the geometry, so
        // the loop touches the geometry once on entry.
        int shift = g.shift(level);
        int bits = g.bitsPerLevel();
        long mask = rootMask;
        long table = root;
        try {
            while (true) {
                slot.at(table, (va >>> shift) & mask).read(d);
                switch (format.kind(d, level)) {
                    case TABLE -> {
                        table = format.tableAddress(d);
                        int skip = format.skippedLevels(d, level);
                        // The common step stays small for the JIT; a VMSAv9-128 table that skips
                        // levels takes the out-of-line path.
                        int resolved = skip == 0 ? bits : skippedTableBits(format, slot, table, bits, skip);
                        if (resolved < 0) return -1;
                        level += 1 + skip;
                        shift -= resolved;
                        mask = (1L << resolved) - 1;
                    }
                    case BLOCK, PAGE -> {
                        return format.translate(d, level, va);
                    }
                    case INVALID, RESERVED -> {
                        return -1;
                    }
                }
            }
        } catch (dev.granule.memory.MemoryAccessException e) {
            return -1;
        }
    }

    /**
     * VA bits a table reached by skipping {@code skip} levels resolves, or -1 if the table does not
     * lie in memory whole ({@link #walk} requires that of every table, so both walks agree).
     */
    private static int skippedTableBits(DescriptorFormat format, Slot slot, long table, int bits, int skip) {
        int resolved = bits * (1 + skip);
        return slot.readable(table, 1L << (resolved + format.descriptorShift())) ? resolved : -1;
    }

    /** The leaf that maps {@code va}, if any. */
    public Optional<Mapping> lookup(long va) {
        Mapping[] found = new Mapping[1];
        if (covers(va)) {
            walk(va, va, (leafVa, level, d) -> {
                found[0] = toMapping(leafVa, level, d);
                return false;
            });
        }
        return Optional.ofNullable(found[0]);
    }

    /**
     * Bounds the descriptors one {@link #walk} may read. Hostile tables (every entry pointing at
     * the same table) make a full walk read entries^levels descriptors: it still ends, but a tool
     * scanning a dump wants to stop early and say so ({@link #truncated()}).
     */
    public void setReadLimit(long maxDescriptors) {
        if (maxDescriptors <= 0) throw new IllegalArgumentException("read limit must be positive, was " + maxDescriptors);
        this.readLimit = maxDescriptors;
    }

    /** Whether the last walk stopped at the read limit. */
    public boolean truncated() { return truncated; }

    /** Descriptors the last walk read. */
    public long descriptorsRead() { return reads; }

    /** Visits every leaf that maps part of {@code [first, last]} (inclusive; clipped to this half). */
    public void walk(long first, long last, LeafVisitor visitor) {
        reads = 0;
        truncated = false;
        if (Long.compareUnsigned(first, firstVa()) < 0) first = firstVa();
        if (Long.compareUnsigned(last, lastVa()) > 0) last = lastVa();
        if (Long.compareUnsigned(first, last) > 0) return;
        if (!memory.contains(root, rootBytes())) {
            visitor.unreadableTable(first, geometry.startLevel() - 1, root);
            return;
        }
        walkLevel(root, geometry.startLevel(), rootMask, first, last, visitor);
    }

    /** Visits every leaf of this half. */
    public void walk(LeafVisitor visitor) { walk(firstVa(), lastVa(), visitor); }

    /** {@code indexMask}: entries of this table minus one (more than a full table when levels were skipped). */
    private boolean walkLevel(long table, int level, long indexMask, long va, long last, LeafVisitor visitor) {
        long span = geometry.entrySpan(level);
        int shift = geometry.shift(level);
        Slot slot = slots[slot(level)];
        Descriptor d = scratch[slot(level)];
        while (true) {
            if (++reads > readLimit) {
                truncated = true;
                return false;
            }
            slot.at(table, (va >>> shift) & indexMask).read(d);
            long entryLast = va | (span - 1);
            long segmentLast = Long.compareUnsigned(last, entryLast) < 0 ? last : entryLast;
            switch (format.kind(d, level)) {
                case TABLE -> {
                    long next = format.tableAddress(d);
                    int skip = format.skippedLevels(d, level);
                    int nextLevel = level + 1 + skip;
                    long nextMask = (1L << (geometry.bitsPerLevel() * (1 + skip))) - 1;
                    if (memory.contains(next, (nextMask + 1) << format.descriptorShift())) {
                        if (!walkLevel(next, nextLevel, nextMask, va, segmentLast, visitor)) return false;
                    } else {
                        visitor.unreadableTable(va & -span, level, next);
                    }
                }
                case BLOCK, PAGE -> {
                    if (!visitor.leaf(va & -span, level, d)) return false;
                }
                case INVALID, RESERVED -> { }
            }
            if (segmentLast == last) return true;
            va = segmentLast + 1;
        }
    }

    /** Every leaf mapping part of {@code [first, last]}, as values. */
    public List<Mapping> mappings(long first, long last) {
        List<Mapping> out = new ArrayList<>();
        walk(first, last, (va, level, d) -> {
            out.add(toMapping(va, level, d));
            return true;
        });
        return out;
    }

    public List<Mapping> mappings() { return mappings(firstVa(), lastVa()); }

    /** The leaf a {@link LeafVisitor} was given, as a value (the walk reuses {@code d}). */
    public Mapping toMapping(long va, int level, Descriptor d) {
        return new Mapping(va, format.translate(d, level, va), geometry.entrySpan(level), level,
                format.attributes(d, level), format.contiguous(d, level), new Descriptor(d.lo(), d.hi()));
    }
}
