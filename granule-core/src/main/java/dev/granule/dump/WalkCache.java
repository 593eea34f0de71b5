package dev.granule.dump;

import dev.granule.format.Descriptor;
import dev.granule.format.Vmsa64Format;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.LeafVisitor;
import dev.granule.table.LeafWalk;
import dev.granule.table.TableWalker;

/**
 * {@link TranslationLines}' walk cache. A dump never changes, so everything a walk reads above the
 * last level is the same for every address under one level-2 descriptor (a <em>region</em>: 2M of
 * VA with 4K pages, 32M with 16K, 512M with 64K), and what it found can be kept for the whole batch:
 * <ul>
 *   <li>{@link #TABLE}: the PA of the region's level-3 table; an address's walk is then one
 *       descriptor read, at its index in that table;</li>
 *   <li>{@link #BLOCK}: the level-1 or level-2 block descriptor that maps all of the region;</li>
 *   <li>{@link #UNMAPPED}: no leaf anywhere in the region and no table that cannot be read, so
 *       every address in it is unmapped;</li>
 *   <li>{@link #UNCACHED}: anything else (a table left out of the dump or outside RAM, a level-3
 *       table with more leading invalid entries than a fill reads): its addresses are walked one
 *       by one, as without the cache.</li>
 * </ul>
 * A region is classified by the general walk ({@link TableWalker}, the one the record path's
 * {@link KernelDump#resolve} uses) over the whole region, stopping at its first leaf, so the walk of
 * any address in it reads the same tables and passes the same checks (each table wholly in the
 * dump's memory) down to the same level-3 table or block; the compiled walk gives the table's address.
 *
 * <p>{@link #SETS} regions (8 GiB of VA with 4K pages), two ways per set: a batch whose addresses
 * spread wider costs one region walk per miss, about one walk. Not thread-safe (one per
 * {@link TranslationLines}).
 */
final class WalkCache {

    static final byte TABLE = 1, BLOCK = 2, UNMAPPED = 3, UNCACHED = 4;

    /** Regions kept, in pairs (two ways per set): a few hundred KiB of arrays, no page copies. */
    static final int SETS = 1 << 12;
    private static final int PAIR_BITS = 11;

    /** Level-3 descriptors a fill reads past leading invalid ones at most (besides the levels above). */
    static final int FILL_READS = 1024;

    private final TableWalker regionWalker;
    private final LeafWalk leafWalk;
    private final Vmsa64Format format;
    /** log2 of a region's size: the shift of a level-2 descriptor's index. */
    final int regionShift;
    private final long tableBytes;

    /** The region each slot holds (VA >>> {@link #regionShift}); -1, which no VA gives, while empty. */
    final long[] tag = new long[SETS];
    final byte[] kind = new byte[SETS];
    /** {@link #TABLE}: the level-3 table's PA; {@link #BLOCK}: the block's output address. */
    final long[] address = new long[SETS];
    /** {@link #BLOCK}: the block descriptor and its level. */
    final long[] block = new long[SETS];
    final byte[] level = new byte[SETS];
    /** Per pair: the slot used last. */
    final byte[] recent = new byte[SETS / 2];

    private long fills;

    // What the region walk saw: its first leaf, or a table it could not read.
    private boolean sawLeaf, sawUnreadable;
    private long leafVa;
    private int leafLevel;
    private long leafDescriptor;
    private final LeafVisitor probe = new LeafVisitor() {
        @Override
        public boolean leaf(long va, int lvl, Descriptor d) {
            sawLeaf = true;
            leafVa = va;
            leafLevel = lvl;
            leafDescriptor = d.lo();
            return false;
        }

        @Override
        public void unreadableTable(long va, int lvl, long table) {
            sawUnreadable = true;
        }
    };

    private WalkCache(TableWalker walker, PhysicalMemory memory, LeafWalk leafWalk, Vmsa64Format format) {
        Geometry g = format.geometry();
        this.leafWalk = leafWalk;
        this.format = format;
        this.regionShift = g.shift(2);
        this.tableBytes = (long) g.entries(3) << 3;
        this.regionWalker = new TableWalker(format, memory, walker.root(), walker.range());
        regionWalker.setReadLimit(FILL_READS + (3 - g.startLevel()));
        java.util.Arrays.fill(tag, -1);
    }

    /**
     * The cache for {@code walker}'s tables in {@code memory} (the memory it walks), or null where it
     * does not apply: a format other than VMSAv8-64 (no compiled walk) or tables that start at level 3
     * (a region would be the whole range).
     */
    static WalkCache of(TableWalker walker, PhysicalMemory memory, LeafWalk leafWalk) {
        if (leafWalk == null || !(walker.format() instanceof Vmsa64Format f)) return null;
        if (f.geometry().startLevel() > 2) return null;
        return new WalkCache(walker, memory, leafWalk, f);
    }

    /** The first slot of the pair that may hold {@code region}: Fibonacci hashing, as kernel regions share their high bits. */
    static int pair(long region) {
        return (int) ((region * 0x9E37_79B9_7F4A_7C15L) >>> (64 - PAIR_BITS)) << 1;
    }

    /**
     * Classifies {@code va}'s region, which neither slot of the pair at {@code s} holds, into the one
     * used less recently; returns that slot. (The look-up itself is TranslationLines': a pair's two
     * tags compared, {@link #recent} set to the one that matched.)
     */
    int miss(int s, long region, long va) {
        s += 1 - recent[s >> 1]; // the slot not used last
        recent[s >> 1] = (byte) (s & 1);
        fill(s, region, va);
        return s;
    }

    private void fill(int s, long region, long va) {
        fills++;
        tag[s] = region;
        kind[s] = UNCACHED;
        try {
            kind[s] = classify(s, va);
        } catch (RuntimeException e) {
            // A page that does not decompress, say: TranslationLines' own walk meets it and reports it.
            kind[s] = UNCACHED;
        }
    }

    private byte classify(int s, long va) {
        long first = va & -(1L << regionShift);
        sawLeaf = false;
        sawUnreadable = false;
        regionWalker.walk(first, first + (1L << regionShift) - 1, probe);
        if (sawUnreadable || (!sawLeaf && regionWalker.truncated())) return UNCACHED;
        if (!sawLeaf) return UNMAPPED;
        if (leafLevel < 3) {
            // A block at level 1 or 2 starts at or before the region and spans all of it.
            block[s] = leafDescriptor;
            level[s] = (byte) leafLevel;
            address[s] = format.outputAddress(leafDescriptor, leafLevel);
            return BLOCK;
        }
        // The general walk does not say where the level-3 table is; the compiled walk of the same leaf does.
        if (leafWalk.leaf(leafVa) != leafDescriptor || leafWalk.level() != 3) return UNCACHED;
        address[s] = leafWalk.leafAddress() & -tableBytes;
        return TABLE;
    }

    /** Regions classified. */
    long fills() { return fills; }
}
