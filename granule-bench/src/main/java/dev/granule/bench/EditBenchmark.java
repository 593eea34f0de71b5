package dev.granule.bench;

import dev.granule.format.AccessPermission;
import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.MapFlag;
import dev.granule.table.Mapping;
import dev.granule.table.VaRange;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

import java.util.EnumSet;

/**
 * Edits of existing tables, whose writes go through the undo journal (a map into fresh tables
 * does not): {@code protect} over pages, and a block split and merged back. 4K/48 geometry.
 */
@Warmup(iterations = 5, time = 1)
public class EditBenchmark extends NanosecondBenchmark {

    static final Geometry G = Geometry.FOUR_K_48;
    static final int PAGES = 8192;
    static final long PAGES_VA = 1L << 32;
    static final long BLOCKS_VA = 1L << 34;
    static final long BLOCK = 2L << 20;

    AddressSpace space;
    Attributes readWrite = Attributes.userData();
    Attributes readOnly = Attributes.userData().withPermission(AccessPermission.READ_ONLY);
    boolean flip;

    @Setup
    public void setUp() {
        SparseMemory memory = SparseMemory.ofPaBits(48);
        FrameAllocator frames = FrameAllocator.over(memory, G.pageSize(), new MemoryRange(1L << 46, 1L << 30));
        space = AddressSpace.create(G, memory, frames, VaRange.LOWER);
        space.map(PAGES_VA, 1L << 31, (long) PAGES << G.pageShift(), readWrite,
                EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
        space.map(BLOCKS_VA, 1L << 33, 16 * BLOCK, readWrite, EnumSet.of(MapFlag.NO_CONT_MAPPINGS));
        // The cycle must split and merge, not run as a no-op on something else.
        requireLevel(BLOCKS_VA, 2);
        split();
        requireLevel(BLOCKS_VA, 3);
        merge();
        requireLevel(BLOCKS_VA, 2);
    }

    private void requireLevel(long va, int level) {
        Mapping m = space.lookup(va).orElseThrow();
        if (m.level() != level) throw new IllegalStateException("0x" + Long.toHexString(va) + " is a level "
                + m.level() + " leaf, expected level " + level);
    }

    /** Rewrites 8192 page descriptors in place, alternately read-only and read/write (per PTE). */
    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void protectPages() {
        flip = !flip;
        space.protect(PAGES_VA, (long) PAGES << G.pageShift(), flip ? readOnly : readWrite);
    }

    /**
     * One 2 MiB block split into a table of 512 pages (protecting one page of it), the page given its
     * old attributes back, and the table merged into the block again (per cycle).
     */
    @Benchmark
    public void splitAndMerge() {
        split();
        merge();
    }

    private void split() {
        space.protect(BLOCKS_VA, G.pageSize(), readOnly);
    }

    private void merge() {
        space.protect(BLOCKS_VA, G.pageSize(), readWrite);
        space.collapse(BLOCKS_VA, BLOCK);
    }
}
