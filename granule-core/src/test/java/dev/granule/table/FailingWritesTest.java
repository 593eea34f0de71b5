package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.PhysicalMemory;
import dev.granule.memory.SparseMemory;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.EnumSet;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Fault injection: a memory write that fails at every possible point of an edit, in every
 * descriptor format. Whatever write fails, the edit is undone and table memory and the allocator
 * are exactly as before.
 */
class FailingWritesTest {

    /** Memory that fails its n-th write (or fill) once, then works again (so the undo can run). */
    static final class FailingMemory implements PhysicalMemory {
        final SparseMemory inner;
        long countdown = -1;

        FailingMemory(SparseMemory inner) { this.inner = inner; }

        private void tick(long pa) {
            if (countdown > 0 && --countdown == 0) throw new MemoryAccessException(pa, "injected write failure");
        }

        @Override public long readLong(long pa) { return inner.readLong(pa); }
        @Override public void writeLong(long pa, long v) { tick(pa); inner.writeLong(pa, v); }
        @Override public int readInt(long pa) { return inner.readInt(pa); }
        @Override public void writeInt(long pa, int v) { tick(pa); inner.writeInt(pa, v); }
        @Override public void read(long pa, byte[] dst, int off, int len) { inner.read(pa, dst, off, len); }
        @Override public void write(long pa, byte[] src, int off, int len) { tick(pa); inner.write(pa, src, off, len); }
        @Override public void fill(long pa, long len, byte v) { tick(pa); inner.fill(pa, len, v); }
        @Override public boolean contains(long pa, long len) { return inner.contains(pa, len); }
        @Override public List<MemoryRange> ranges() { return inner.ranges(); }
        @Override public boolean isReadOnly() { return false; }
        @Override public void close() { inner.close(); }
    }

    /**
     * Every format through the one engine. Edits are sized from the geometry: B is the smallest
     * block (a 2 MiB block for 4K VMSAv8-64, a 1 MiB section for short descriptors), R a run of
     * last-level entries (CONT_PTES, or a 64 KiB large page), P a page. (64K granules are left
     * out: a split writes 4096 or 8192 entries, and failing each write in turn is quadratic.)
     */
    static List<Geometry> geometries() {
        return List.of(Geometry.FOUR_K_48, Geometry.SIXTEEN_K_47, Geometry.of(Granule.FOUR_K, 52, 52),
                Geometry.of(Granule.FOUR_K, TranslationFormat.LPAE, 32, 40),
                Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 32, 32),
                Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 48, 48),
                Geometry.of(Granule.SIXTEEN_K, TranslationFormat.D128, 48, 48));
    }

    private static AddressSpace space(Geometry g, FailingMemory memory) {
        FrameAllocator frames = FrameAllocator.over(memory, g.fullTableBytes(),
                new MemoryRange(TableFixture.poolBase(g), 1L << 24));
        return AddressSpace.create(g, memory, frames, VaRange.LOWER);
    }

    /**
     * Fails the first, second, ... write of {@code edit} until it completes. After each failure,
     * memory (free frames' stale contents too) and the allocator's counts are as before, and the
     * same edit done again without a failure leaves exactly the memory it leaves on a space that
     * never saw one: the allocator hands out the same frames, so its free lists and bump pointer
     * were restored too.
     */
    private static void failEverywhere(Geometry g, Consumer<AddressSpace> setup, Consumer<AddressSpace> edit) {
        SparseMemory.Snapshot expected;
        try (FailingMemory memory = new FailingMemory(SparseMemory.ofPaBits(g.paBits()))) {
            AddressSpace space = space(g, memory);
            setup.accept(space);
            edit.accept(space);
            expected = memory.inner.snapshot();
        }
        int failures = 0;
        for (int n = 1; ; n++) {
            try (FailingMemory memory = new FailingMemory(SparseMemory.ofPaBits(g.paBits()))) {
                AddressSpace space = space(g, memory);
                FrameAllocator frames = space.frames();
                setup.accept(space);
                SparseMemory.Snapshot before = memory.inner.snapshot();
                FrameAllocator.FrameStats stats = frames.stats();
                memory.countdown = n;
                try {
                    edit.accept(space);
                } catch (PageTableException e) {
                    assertThat(e).hasMessageContaining("injected write failure").hasMessageContaining("unchanged");
                    assertThat(memory.inner.snapshot()).as("memory after failing write %d", n).isEqualTo(before);
                    assertThat(frames.stats().live()).isEqualTo(stats.live());
                    assertThat(frames.stats().liveBytes()).isEqualTo(stats.liveBytes());
                    edit.accept(space);
                    assertThat(memory.inner.snapshot()).as("the edit redone after failing write %d", n)
                            .isEqualTo(expected);
                    failures++;
                    continue;
                }
                assertThat(memory.countdown).as("edit finished before write %d", n).isGreaterThanOrEqualTo(0);
                assertThat(failures).as("some writes were made to fail").isGreaterThan(0);
                return;
            }
        }
    }

    private static long block(Geometry g) { return g.entrySpan(2); }

    private static long run(Geometry g) { return g.contPteSize(); }

    @ParameterizedTest
    @MethodSource("geometries")
    void mapUndoesAtEveryFailingWrite(Geometry g) {
        long b = block(g);
        long r = run(g);
        // A run of pages below B, the block at B, a run above 2B.
        failEverywhere(g, s -> s.map(0, 0, g.pageSize(), Attributes.kernelData()),
                s -> s.map(b - r, b - r, b + 2 * r, Attributes.userData()));
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void unmapThatSplitsAndFreesUndoesAtEveryFailingWrite(Geometry g) {
        long b = block(g);
        failEverywhere(g, s -> s.map(b, b, 2 * b, Attributes.kernelData()),
                s -> s.unmap(b + run(g), b + b / 2));
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void protectThatBreaksRunsUndoesAtEveryFailingWrite(Geometry g) {
        long b = block(g);
        long r = run(g);
        failEverywhere(g, s -> s.map(b, b, b, Attributes.kernelData()),
                s -> s.protect(b + r / 2, r, Attributes.kernelReadOnly()));
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void collapseUndoesAtEveryFailingWrite(Geometry g) {
        long b = block(g);
        failEverywhere(g, s -> {
            s.map(b, b, b, Attributes.kernelData());
            s.unmap(b, g.pageSize());
            s.map(b, b, g.pageSize(), Attributes.kernelData());
        }, s -> s.collapse(0, 2 * b));
    }

    /**
     * The edit reuses frames that an earlier unmap freed with their old descriptors still in them:
     * a rollback puts that stale content back too, and the frames back on the free list.
     */
    @ParameterizedTest
    @MethodSource("geometries")
    void mapIntoReusedFramesUndoesAtEveryFailingWrite(Geometry g) {
        long b = block(g);
        failEverywhere(g, s -> {
            s.map(b, b, b, Attributes.kernelData(), EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS));
            s.map(4 * b, 4 * b, b, Attributes.kernelData(), EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS));
            s.unmap(b, b);
            s.unmap(4 * b, b);
        }, s -> s.map(2 * b + run(g), b, b / 2, Attributes.userData()));
    }

    @Test
    void aFailureInsideTheUndoIsReportedNotHidden() {
        try (FailingMemory memory = new FailingMemory(SparseMemory.ofPaBits(48))) {
            Geometry g = Geometry.FOUR_K_48;
            FrameAllocator frames = FrameAllocator.over(memory, g.pageSize(), new MemoryRange(1L << 40, 1L << 24));
            AddressSpace space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
            memory.countdown = 3;
            assertThatThrownBy(() -> space.map(0, 0, 0x2000, Attributes.kernelData()))
                    .isInstanceOf(PageTableException.class).hasMessageContaining("injected write failure");
        }
    }
}
