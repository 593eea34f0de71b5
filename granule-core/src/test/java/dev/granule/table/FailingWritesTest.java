package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.PhysicalMemory;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Fault injection: a memory write that fails at every possible point of an edit. Whatever write
 * fails, the edit is undone and table memory and the allocator are exactly as before.
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

    private static void failEverywhere(Consumer<AddressSpace> setup, Consumer<AddressSpace> edit) {
        Geometry g = Geometry.FOUR_K_48;
        int failures = 0;
        for (int n = 1; ; n++) {
            try (FailingMemory memory = new FailingMemory(SparseMemory.ofPaBits(48))) {
                FrameAllocator frames = FrameAllocator.over(memory, g.pageSize(), new MemoryRange(1L << 40, 1L << 24));
                AddressSpace space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
                setup.accept(space);
                SparseMemory.Snapshot before = memory.inner.snapshot();
                long live = frames.stats().live();
                memory.countdown = n;
                try {
                    edit.accept(space);
                } catch (PageTableException e) {
                    assertThat(e).hasMessageContaining("injected write failure").hasMessageContaining("unchanged");
                    assertThat(memory.inner.snapshot()).as("memory after failing write %d", n).isEqualTo(before);
                    assertThat(frames.stats().live()).isEqualTo(live);
                    failures++;
                    continue;
                }
                assertThat(memory.countdown).as("edit finished before write %d", n).isGreaterThanOrEqualTo(0);
                assertThat(failures).as("some writes were made to fail").isGreaterThan(0);
                return;
            }
        }
    }

    @Test
    void mapUndoesAtEveryFailingWrite() {
        failEverywhere(s -> s.map(0, 0, 0x1000, Attributes.kernelData()),
                s -> s.map(0x1f_0000L, 0x1f_0000L, 0x22_0000L, Attributes.userData()));
    }

    @Test
    void unmapThatSplitsAndFreesUndoesAtEveryFailingWrite() {
        failEverywhere(s -> s.map(0x20_0000L, 0x20_0000L, 0x40_0000L, Attributes.kernelData()),
                s -> s.unmap(0x21_0000L, 0x30_0000L));
    }

    @Test
    void protectThatBreaksRunsUndoesAtEveryFailingWrite() {
        failEverywhere(s -> s.map(0x20_0000L, 0x20_0000L, 0x20_0000L, Attributes.kernelData()),
                s -> s.protect(0x20_8000L, 0x1_0000L, Attributes.kernelReadOnly()));
    }

    @Test
    void collapseUndoesAtEveryFailingWrite() {
        failEverywhere(s -> {
            s.map(0x20_0000L, 0x20_0000L, 0x20_0000L, Attributes.kernelData());
            s.unmap(0x20_0000L, 0x1000);
            s.map(0x20_0000L, 0x20_0000L, 0x1000, Attributes.kernelData());
        }, s -> s.collapse(0, 0x40_0000L));
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
