package dev.granule.table;

import dev.granule.memory.PhysicalMemory;

import java.util.Arrays;

/**
 * The undo log of one table edit: the old value of every descriptor written and every frame
 * allocated, so that an edit that fails part-way (bad input found late, frames exhausted, a
 * failing memory write) can put table memory back byte for byte. Frames the edit empties are freed
 * only when it commits, since a rollback may need them again; freeing writes no memory, so the
 * commit itself cannot fail.
 */
final class Journal {

    private long[] addresses = new long[64];
    private long[] lows = new long[64];
    private long[] highs = new long[64];
    private byte[] shifts = new byte[64];
    private int writes;
    private long[] allocated = new long[16];
    private long[] allocatedBytes = new long[16];
    private boolean[] allocatedReused = new boolean[16];
    private long[] bumpBefore = new long[16];
    private int[] rangeBefore = new int[16];
    private int[] skipped = new int[16];
    private int allocations;
    private long[] toFree = new long[16];
    private int frees;
    /** Old contents of the reused blocks, one after the other in allocation order. */
    private byte[] saved = new byte[0];
    private int savedLength;

    void record(long address, long lo, long hi, int descriptorShift) {
        if (writes == addresses.length) {
            int n = writes * 2;
            addresses = Arrays.copyOf(addresses, n);
            lows = Arrays.copyOf(lows, n);
            highs = Arrays.copyOf(highs, n);
            shifts = Arrays.copyOf(shifts, n);
        }
        addresses[writes] = address;
        lows[writes] = lo;
        highs[writes] = hi;
        shifts[writes] = (byte) descriptorShift;
        writes++;
    }

    /**
     * Copies the old contents of a block about to be reused (and zeroed), for a rollback: one bulk
     * copy rather than an undo record per word, since the whole block is restored anyway. Call it
     * before {@link #allocated} for the same block.
     */
    void saveReused(PhysicalMemory memory, long block, long bytes) {
        int n = Math.toIntExact(bytes);
        if (saved.length - savedLength < n) saved = Arrays.copyOf(saved, Math.max(2 * saved.length, savedLength + n));
        memory.read(block, saved, savedLength, n);
        savedLength += n;
    }

    /**
     * A table block the edit allocated. {@code reused}: it came from a free list (its old contents
     * were saved by {@link #saveReused}); otherwise {@code bump}, {@code range} and {@code skippedFrames} are
     * the allocator's bump pointer before the allocation and the frames its alignment set aside.
     */
    void allocated(long block, long bytes, boolean reused, long bump, int range, int skippedFrames) {
        if (allocations == allocated.length) {
            int n = allocations * 2;
            allocated = Arrays.copyOf(allocated, n);
            allocatedBytes = Arrays.copyOf(allocatedBytes, n);
            allocatedReused = Arrays.copyOf(allocatedReused, n);
            bumpBefore = Arrays.copyOf(bumpBefore, n);
            rangeBefore = Arrays.copyOf(rangeBefore, n);
            skipped = Arrays.copyOf(skipped, n);
        }
        allocatedReused[allocations] = reused;
        allocatedBytes[allocations] = bytes;
        bumpBefore[allocations] = bump;
        rangeBefore[allocations] = range;
        skipped[allocations] = skippedFrames;
        allocated[allocations++] = block;
    }

    void freeOnCommit(long frame) {
        if (frees == toFree.length) toFree = Arrays.copyOf(toFree, frees * 2);
        toFree[frees++] = frame;
    }

    int writes() { return writes; }

    void commit(FrameAllocator frames) {
        for (int i = 0; i < frees; i++) frames.free(toFree[i]);
        reset();
    }

    /**
     * Puts memory back: every recorded word is restored newest first; then each block the edit
     * allocated gets its contents from before the edit — the saved copy for a reused block, zeros
     * for a block fresh from the pool — last, since the replay may have restored intermediate
     * values into it (a block is allocated at most once per edit: frees wait for the commit). Then
     * the blocks go back to the allocator.
     */
    void rollback(PhysicalMemory memory, FrameAllocator frames) {
        for (int i = writes - 1; i >= 0; i--) {
            long a = addresses[i];
            switch (shifts[i]) {
                case 2 -> memory.writeInt(a, (int) lows[i]);
                case 3 -> memory.writeLong(a, lows[i]);
                default -> {
                    memory.writeLong(a, lows[i]);
                    memory.writeLong(a + 8, highs[i]);
                }
            }
        }
        int savedOffset = 0;
        for (int i = 0; i < allocations; i++) {
            if (allocatedReused[i]) {
                int n = (int) allocatedBytes[i];
                memory.write(allocated[i], saved, savedOffset, n);
                savedOffset += n;
            } else {
                frames.zero(allocated[i], allocatedBytes[i]);
            }
        }
        for (int i = allocations - 1; i >= 0; i--) {
            frames.unallocate(allocated[i], allocatedBytes[i], allocatedReused[i], bumpBefore[i], rangeBefore[i],
                    skipped[i]);
        }
        reset();
    }

    private void reset() {
        if (addresses.length > 1 << 16) {
            // Give back what one huge edit grew; the next edit starts small again.
            addresses = new long[64];
            lows = new long[64];
            highs = new long[64];
            shifts = new byte[64];
        }
        if (saved.length > 1 << 20) saved = new byte[0];
        writes = 0;
        savedLength = 0;
        allocations = 0;
        frees = 0;
    }
}
