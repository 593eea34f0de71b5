package dev.granule.table;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;

/** An address space over a whole-PA-size sparse memory, with tables allocated from a 1 GiB pool. */
final class TableFixture implements AutoCloseable {

    static final long POOL_SIZE = 1L << 30;

    final Geometry geometry;
    final SparseMemory memory;
    final FrameAllocator frames;
    final AddressSpace space;

    TableFixture(Geometry geometry, VaRange range) {
        this.geometry = geometry;
        this.memory = SparseMemory.ofPaBits(geometry.paBits());
        this.frames = FrameAllocator.over(memory, geometry.fullTableBytes(),
                new MemoryRange(poolBase(geometry), POOL_SIZE));
        this.space = AddressSpace.create(geometry, memory, frames, range);
    }

    TableFixture(Geometry geometry) {
        this(geometry, VaRange.LOWER);
    }

    /**
     * Tables live in the top half of the PA space, away from the output addresses tests use; for
     * short descriptors, whose table descriptors hold 32-bit addresses, at 2 GiB.
     */
    static long poolBase(Geometry g) {
        return g.format() == TranslationFormat.SHORT ? 1L << 31 : 1L << (g.paBits() - 1);
    }

    long read(long pa) { return memory.readLong(pa); }

    @Override
    public void close() { memory.close(); }
}
