package dev.granule.table;

import dev.granule.format.Vmsa64Format;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.PhysicalMemory;
import dev.granule.memory.SparseMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The MMU's VMSAv8-64 TLB-miss walk as a template that {@link HiddenSpecialisation} copies once per
 * geometry, as {@link Vmsa64Walk} is: in each copy {@link #FORMAT} is a constant to the JIT, so
 * every shift, mask and block rule folds. It differs from {@link Vmsa64Walk} in what it answers:
 * the leaf and what an MMU needs to check it ({@link LeafWalk}), not just the output address; and
 * in what it refuses, which is everything the MMU's general walk reports as a fault (a descriptor
 * outside RAM, a table address above the PA limit), so that the MMU's answers stay the same.
 *
 * <p>Kept free of lambdas, enum switches and nested classes, which a copy would share by name with
 * the template.
 */
final class Vmsa64LeafWalk implements LeafWalk {

    /** This copy's format: the class data of a hidden copy, null in the template itself. */
    private static final Vmsa64Format FORMAT =
            HiddenSpecialisation.classData(MethodHandles.lookup(), Vmsa64Format.class);

    private final PhysicalMemory memory;
    private final long root;
    private final long rootMask;
    private final long paLimit;
    // Memory that is one range of RAM (the common case) is checked with one unsigned compare; else
    // (ramBytes 0) through PhysicalMemory.contains, which loops over the ranges.
    private final long ramBase;
    private final long ramBytes;
    // Per level (index level - MIN_LEVEL), the SparseMemory chunk of the table read there last and its
    // storage (-1: none). A walk reads the same few tables again and again: reading a descriptor
    // through the kept chunk takes SparseMemory's cache probe (a load the descriptor's address
    // waits for) out of each level's chain of dependent loads. Only written chunks are kept, and a
    // written chunk keeps its storage, so the descriptors read are the memory's, as readLong's.
    // Only chunks wholly in RAM are kept (SparseMemory's RAM ranges are whole chunks, so a written
    // chunk is; readAndKeep checks it all the same), so a read through one needs no RAM check.
    // The layout is the unaligned one because a descriptor's address is a multiple of 8 by
    // construction (an aligned table plus index x 8): the access skips an alignment test it cannot fail.
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final SparseMemory sparse;
    private final long[] keptChunk = new long[Geometry.MAX_LEVEL - Geometry.MIN_LEVEL + 1];
    private final MemorySegment[] keptStorage = new MemorySegment[keptChunk.length];
    private int level;
    private long leafAddress;
    private long outputAddress;
    private long tableDescriptors;

    Vmsa64LeafWalk(PhysicalMemory memory, long root, long paLimit) {
        if (FORMAT == null) throw new IllegalStateException("the template walk is not for use; see GeometryCopies");
        Geometry g = FORMAT.geometry();
        this.memory = memory;
        this.sparse = memory instanceof SparseMemory m ? m : null;
        Arrays.fill(keptChunk, -1);
        this.root = root;
        this.rootMask = g.entries(g.startLevel()) - 1;
        this.paLimit = paLimit;
        var ranges = memory.ranges();
        boolean one = ranges.size() == 1 && ranges.getFirst().size() >= 8;
        this.ramBase = one ? ranges.getFirst().base() : 0;
        this.ramBytes = one ? ranges.getFirst().size() : 0;
    }

    /** Whether the 8 bytes at {@code address} are RAM, as {@link PhysicalMemory#contains} answers. */
    private boolean inRam(long address) {
        if (ramBytes == 0) return memory.contains(address, 8);
        return Long.compareUnsigned(address - ramBase, ramBytes - 8) <= 0;
    }

    @Override
    public long leaf(long va) {
        Vmsa64Format f = FORMAT;
        Geometry g = f.geometry();
        int lvl = g.startLevel();
        int shift = g.shift(lvl);
        int bits = g.bitsPerLevel();
        long mask = rootMask;
        long table = root;
        long tables = 0;
        try {
            while (true) {
                long address = table + (((va >>> shift) & mask) << 3);
                int kept = lvl - Geometry.MIN_LEVEL;
                long d;
                if (keptChunk[kept] == address >>> SparseMemory.CHUNK_SHIFT) {
                    d = keptStorage[kept].get(LONG_LE, address & (SparseMemory.CHUNK_SIZE - 1));
                } else {
                    if (!inRam(address)) return 0;
                    d = readAndKeep(kept, address);
                }
                // Vmsa64Format.kind as bit tests: invalid, table (or page at level 3), block where allowed.
                if ((d & 1) == 0) return 0;
                if ((d & 2) != 0 && lvl < 3) {
                    table = f.tableAddress(d);
                    if (Long.compareUnsigned(table, paLimit) > 0) return 0;
                    tables |= d;
                    lvl++;
                    shift -= bits;
                    mask = (1L << bits) - 1;
                    continue;
                }
                if ((d & 2) == 0 && !g.blockAllowed(lvl)) return 0;
                this.level = lvl;
                this.leafAddress = address;
                this.outputAddress = f.outputAddress(d, lvl);
                this.tableDescriptors = tables;
                return d;
            }
        } catch (MemoryAccessException e) {
            return 0; // a dump's page that is not in the dump: the general walk reports it
        }
    }

    /**
     * The descriptor at {@code address} (RAM) through the memory, its chunk kept for level slot
     * {@code kept} where written and wholly RAM.
     */
    private long readAndKeep(int kept, long address) {
        long d = memory.readLong(address);
        if (sparse != null && memory.contains(address & -SparseMemory.CHUNK_SIZE, SparseMemory.CHUNK_SIZE)) {
            MemorySegment storage = sparse.writtenChunk(address);
            if (storage != null) {
                keptChunk[kept] = address >>> SparseMemory.CHUNK_SHIFT;
                keptStorage[kept] = storage;
            }
        }
        return d;
    }

    @Override
    public int level() { return level; }

    @Override
    public long leafAddress() { return leafAddress; }

    @Override
    public long outputAddress() { return outputAddress; }

    @Override
    public long tableDescriptors() { return tableDescriptors; }
}
