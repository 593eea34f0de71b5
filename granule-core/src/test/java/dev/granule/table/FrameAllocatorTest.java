package dev.granule.table;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tables of more than one frame (the short-descriptor first level) beside single frames. */
class FrameAllocatorTest {

    private static final long BASE = 0x10_0000;

    @Test
    void aLargerTableIsAlignedToItsSizeAndTheSkippedFramesAreUsedNext() {
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 22))) {
            FrameAllocator frames = FrameAllocator.over(memory, 1024, new MemoryRange(BASE, 64 * 1024));
            assertThat(frames.allocate()).isEqualTo(BASE);
            assertThat(frames.allocate(16384)).isEqualTo(BASE + 0x4000);
            // Frames 0x400..0x3c00 were skipped for alignment; the last one skipped comes first.
            assertThat(frames.allocate()).isEqualTo(BASE + 0x3C00);
            assertThat(frames.stats().liveBytes()).isEqualTo(1024 + 16384 + 1024);
            frames.free(BASE + 0x4000);
            assertThat(frames.allocate(16384)).as("a freed 16 KiB table is reused whole").isEqualTo(BASE + 0x4000);
            assertThatThrownBy(() -> frames.allocate(3000)).hasMessageContaining("power of two");
        }
    }

    @Test
    void aRollbackRestoresTheBumpPointerAndTheSkippedFrames() {
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 22))) {
            FrameAllocator frames = FrameAllocator.over(memory, 1024, new MemoryRange(BASE, 64 * 1024));
            frames.allocate();
            Journal journal = new Journal();
            frames.allocate(16384, journal);
            frames.allocate(journal);
            journal.rollback(memory, frames);
            assertThat(frames.stats().live()).isEqualTo(1);
            assertThat(frames.allocate()).as("as if nothing had happened").isEqualTo(BASE + 0x400);
            assertThat(frames.allocate(16384)).isEqualTo(BASE + 0x4000);
        }
    }

    @Test
    void exhaustionNamesTheSize() {
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 22))) {
            FrameAllocator frames = FrameAllocator.over(memory, 1024, new MemoryRange(BASE + 0x400, 16 * 1024));
            assertThatThrownBy(() -> frames.allocate(16384)).isInstanceOf(FrameExhaustedException.class)
                    .hasMessageContaining("16384-byte block");
            assertThat(frames.allocate()).as("a failed allocation moved nothing").isEqualTo(BASE + 0x400);
        }
    }

    @Test
    void liveBlocksAreTrackedPerRangeAndFreeingAnythingElseIsRefused() {
        // Two ranges, the second one huge (2^46 bytes of 4K frames: 2^34 frames, beyond an int index).
        long hugeBase = 1L << 46;
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 22), new MemoryRange(hugeBase, 1L << 46))) {
            FrameAllocator frames = FrameAllocator.over(memory, 4096,
                    new MemoryRange(BASE, 2 * 4096), new MemoryRange(hugeBase, 1L << 46));
            long a = frames.allocate();
            long b = frames.allocate();
            long c = frames.allocate();
            assertThat(List.of(a, b, c)).containsExactly(BASE, BASE + 4096, hugeBase);
            assertThat(frames.isAllocated(a)).isTrue();
            assertThat(frames.isAllocated(c)).isTrue();
            assertThat(frames.isAllocated(c + 4096)).isFalse();
            assertThat(frames.isAllocated(a + 8)).as("not a frame's first byte").isFalse();
            assertThat(frames.isAllocated(hugeBase + (1L << 45))).as("far above anything handed out").isFalse();
            assertThatThrownBy(() -> frames.free(hugeBase + (1L << 45))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not allocated");
            assertThatThrownBy(() -> frames.free(0x1000)).as("outside the pool").hasMessageContaining("not allocated");
            frames.free(b);
            assertThatThrownBy(() -> frames.free(b)).hasMessageContaining("double free");
            assertThat(frames.stats().live()).isEqualTo(2);
            assertThat(frames.allocate()).as("the freed frame is reused first").isEqualTo(b);
            assertThat(frames.stats().live()).isEqualTo(3);
            assertThat(frames.stats().peak()).isEqualTo(3);
        }
    }

    @Test
    void aZeroFillThatFailsOutsideAnEditLeavesTheAllocatorAsItWas() {
        try (FailingWritesTest.FailingMemory memory = new FailingWritesTest.FailingMemory(
                SparseMemory.of(new MemoryRange(0, 1L << 22)))) {
            FrameAllocator frames = FrameAllocator.over(memory, 1024, new MemoryRange(BASE, 64 * 1024));
            frames.allocate();
            frames.free(frames.allocate(16384));
            FrameAllocator.FrameStats before = frames.stats();
            memory.countdown = 1;
            assertThatThrownBy(() -> frames.allocate(16384)).hasMessageContaining("injected write failure");
            memory.countdown = 1;
            assertThatThrownBy(frames::allocate).hasMessageContaining("injected write failure");
            assertThat(frames.stats().live()).isEqualTo(before.live());
            assertThat(frames.stats().liveBytes()).isEqualTo(before.liveBytes());
            // The same blocks come next as if the failed calls had not happened: the freed 16 KiB
            // table, then the last frame skipped when it was first aligned.
            assertThat(frames.allocate(16384)).isEqualTo(BASE + 0x4000);
            assertThat(frames.allocate()).isEqualTo(BASE + 0x3C00);
        }
    }
}
