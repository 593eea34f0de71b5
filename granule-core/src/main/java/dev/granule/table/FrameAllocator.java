package dev.granule.table;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.PhysicalMemory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Hands out zeroed, naturally aligned blocks of physical memory for translation tables, from pool
 * ranges it owns. The unit is the frame ({@link #frameSize()}: the size of a full table, a page for
 * most formats, 1 KiB for short descriptors); a table larger than a frame (a short-descriptor
 * first-level table, 16 KiB) takes a power-of-two number of frames aligned to its size.
 * Fresh blocks come from a bump pointer through the pool ranges in address order; the frames an
 * alignment skips are kept as free frames. Freed blocks keep their contents (as in a kernel) and are
 * reused last-freed first for the same size, zeroed when handed out again.
 *
 * <p>Freeing writes no memory, so an edit's commit cannot fail half-way; and an edit that reuses
 * a freed block records its old words in the edit's journal first, so a failed edit leaves every
 * byte of memory as it was.
 */
public final class FrameAllocator {

    private final PhysicalMemory memory;
    private final long frameSize;
    private final List<MemoryRange> pool;
    private int rangeIndex;
    private long bump;
    // Free and live blocks are kept without boxing for the common size, a frame, so that mapping
    // and unmapping allocate nothing per table: a stack of free frames, and one bit per frame of
    // each pool range for the live ones. Larger blocks (a short-descriptor first-level table) are
    // rare and go in maps.
    /** Free frames, a stack (last freed, first reused). */
    private final FreeStack freeFrames = new FreeStack();
    /** Free blocks larger than a frame, per size. */
    private final Map<Long, FreeStack> freeLarger = new HashMap<>();
    /** Live frames: bit i of liveFrames[r] is the frame at pool.get(r).base() + i * frameSize. */
    private final BitSet[] liveFrames;
    /** Live blocks larger than a frame and their sizes. */
    private final Map<Long, Long> liveLarger = new HashMap<>();
    private long liveCount;
    private long liveBytes;
    private long peak;
    private long peakBytes;
    private long allocations;
    private long limit = Long.MAX_VALUE;

    private FrameAllocator(PhysicalMemory memory, long frameSize, List<MemoryRange> pool) {
        this.memory = memory;
        this.frameSize = frameSize;
        this.pool = pool;
        this.bump = pool.isEmpty() ? 0 : pool.getFirst().base();
        this.liveFrames = new BitSet[pool.size()];
        for (int i = 0; i < liveFrames.length; i++) liveFrames[i] = new BitSet();
    }

    /**
     * An allocator of {@code frameSize}-byte frames from {@code pool}, which must lie in RAM. Range
     * ends are trimmed to whole aligned frames; a range too small for one frame is an error.
     */
    public static FrameAllocator over(PhysicalMemory memory, long frameSize, MemoryRange... pool) {
        if (Long.bitCount(frameSize) != 1 || frameSize < 1024) {
            throw new IllegalArgumentException("frame size must be a power of two of at least 1 KiB, was " + frameSize);
        }
        if (pool.length == 0) throw new IllegalArgumentException("the frame pool needs at least one range");
        List<MemoryRange> ranges = new ArrayList<>();
        for (MemoryRange r : pool) {
            long base = (r.base() + frameSize - 1) & -frameSize;
            long end = r.end() & -frameSize;
            if (Long.compareUnsigned(end, base) <= 0) {
                throw new IllegalArgumentException("pool range " + r + " holds no whole " + frameSize + "-byte frame");
            }
            MemoryRange trimmed = new MemoryRange(base, end - base);
            if (!memory.contains(trimmed.base(), trimmed.size())) {
                throw new IllegalArgumentException("pool range " + trimmed + " is not RAM (RAM is " + memory.ranges() + ")");
            }
            if (memory.isReadOnly()) throw new IllegalArgumentException("cannot allocate tables in read-only memory");
            ranges.add(trimmed);
        }
        ranges.sort(null);
        for (int i = 1; i < ranges.size(); i++) {
            if (ranges.get(i - 1).overlaps(ranges.get(i))) {
                throw new IllegalArgumentException("pool ranges " + ranges.get(i - 1) + " and " + ranges.get(i) + " overlap");
            }
        }
        return new FrameAllocator(memory, frameSize, List.copyOf(ranges));
    }

    public long frameSize() { return frameSize; }

    public PhysicalMemory memory() { return memory; }

    public List<MemoryRange> pool() { return pool; }

    /**
     * Caps the number of frames live at once, below what the pool holds: for tests that exhaust
     * the allocator part-way through an edit, and for users who budget table memory.
     */
    public void setLimit(long maxLiveFrames) {
        if (maxLiveFrames < 0) throw new IllegalArgumentException("limit must be >= 0, was " + maxLiveFrames);
        this.limit = maxLiveFrames;
    }

    /** A zeroed frame. */
    public long allocate() {
        return allocate(frameSize, null);
    }

    /**
     * A zeroed block of {@code bytes} (a power of two, at least a frame), aligned to its size: a
     * table larger than a frame.
     */
    public long allocate(long bytes) {
        return allocate(bytes, null);
    }

    /** A zeroed frame; if it held data, the data is saved in {@code journal} for a rollback. */
    long allocate(Journal journal) {
        return allocate(frameSize, journal);
    }

    /**
     * A zeroed block of {@code bytes}; what a rollback needs to undo the allocation exactly (old
     * contents of a reused block, or the bump pointer and the frames an alignment skipped) goes to
     * {@code journal}.
     */
    long allocate(long bytes, Journal journal) {
        if (Long.bitCount(bytes) != 1 || bytes < frameSize) {
            throw new IllegalArgumentException("a table block is a power of two of at least one " + frameSize
                    + "-byte frame, was " + bytes);
        }
        if (liveCount >= limit) {
            throw new FrameExhaustedException("the frame limit of " + limit + " table frames is reached");
        }
        FreeStack reusable = bytes == frameSize ? freeFrames : freeLarger.get(bytes);
        boolean reused = reusable != null && reusable.size > 0;
        long block;
        long bumpBefore = bump;
        int rangeBefore = rangeIndex;
        int skipped = 0;
        if (reused) {
            block = reusable.peek();
            // The old contents go to the journal in one copy (a rollback puts them back), before
            // anything changes, so a failing read leaves the allocator as it was.
            if (journal != null) journal.saveReused(memory, block, bytes);
            reusable.pop();
        } else {
            while (rangeIndex < pool.size()
                    && Long.compareUnsigned(alignUp(bump, bytes) + bytes, pool.get(rangeIndex).end()) > 0) {
                rangeIndex++;
                if (rangeIndex < pool.size()) bump = pool.get(rangeIndex).base();
            }
            if (rangeIndex >= pool.size()) {
                rangeIndex = rangeBefore;
                bump = bumpBefore;
                throw new FrameExhaustedException("no free " + bytes + "-byte block is left in the pool " + pool
                        + " (" + capacity() + " frames of " + frameSize + " bytes)");
            }
            block = alignUp(bump, bytes);
            // Frames skipped for alignment stay usable as single frames; a rollback takes them back.
            for (long f = bump; f < block; f += frameSize, skipped++) push(f, frameSize);
            bump = block + bytes;
        }
        markLive(block, bytes);
        liveBytes += bytes;
        allocations++;
        peak = Math.max(peak, liveCount);
        peakBytes = Math.max(peakBytes, liveBytes);
        if (journal != null) journal.allocated(block, bytes, reused, bumpBefore, rangeBefore, skipped);
        // Zeroing is the one step that writes memory, so it comes last: if it fails, the allocation
        // is fully recorded and the edit's rollback (or, outside an edit, unallocate) undoes it.
        try {
            memory.fill(block, bytes, (byte) 0);
        } catch (RuntimeException e) {
            if (journal == null) unallocate(block, bytes, reused, bumpBefore, rangeBefore, skipped);
            throw e;
        }
        return block;
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    /** Returns a frame or larger block. Its contents stay until it is handed out again. */
    public void free(long frame) {
        long bytes = unmarkLive(frame);
        if (bytes < 0) {
            throw new IllegalArgumentException(String.format("frame 0x%x is not allocated (double free?)", frame));
        }
        liveBytes -= bytes;
        push(frame, bytes);
    }

    /**
     * Undoes the most recent {@link #allocate} of {@code block} exactly: a reused block goes back to
     * its free list; for a block from the bump pointer the pointer ({@code bumpBefore},
     * {@code rangeBefore}) and the {@code skipped} alignment frames are restored. Memory is the
     * journal's business: it zeroes the edit's blocks and replays its undo records.
     */
    void unallocate(long block, long bytes, boolean reused, long bumpBefore, int rangeBefore, int skipped) {
        unmarkLive(block);
        liveBytes -= bytes;
        allocations--;
        if (!reused) {
            // Rollbacks run newest first, so the skipped frames are still the top of the frame stack.
            for (int i = 0; i < skipped; i++) freeFrames.pop();
            bump = bumpBefore;
            rangeIndex = rangeBefore;
        } else {
            push(block, bytes);
        }
    }

    /** Zeroes a block the current edit allocated (rollback: new tables were written without undo records). */
    void zero(long block, long bytes) {
        memory.fill(block, bytes, (byte) 0);
    }

    private void push(long block, long bytes) {
        if (bytes == frameSize) freeFrames.push(block);
        else freeLarger.computeIfAbsent(bytes, b -> new FreeStack()).push(block);
    }

    private void markLive(long block, long bytes) {
        if (bytes == frameSize) {
            int r = rangeOf(block);
            liveFrames[r].set(frameBit(r, block));
        } else {
            liveLarger.put(block, bytes);
        }
        liveCount++;
    }

    /** Takes {@code block} off the live set; its size, or -1 if it was not live. */
    private long unmarkLive(long block) {
        int r = rangeOf(block);
        int i = frameBit(r, block);
        if (i >= 0 && liveFrames[r].get(i)) {
            liveFrames[r].clear(i);
            liveCount--;
            return frameSize;
        }
        Long larger = liveLarger.remove(block);
        if (larger == null) return -1;
        liveCount--;
        return larger;
    }

    /** The pool range holding {@code pa}, or -1. */
    private int rangeOf(long pa) {
        for (int r = 0; r < pool.size(); r++) {
            MemoryRange range = pool.get(r);
            if (Long.compareUnsigned(pa, range.base()) >= 0 && Long.compareUnsigned(pa, range.end()) < 0) return r;
        }
        return -1;
    }

    /**
     * Bit of the frame starting at {@code pa} in {@code liveFrames[r]}, or -1 where {@code pa} is in
     * no range ({@code r} < 0) or starts no frame. Frames are handed out upwards from a range's
     * base, so a live frame's bit is below the number of frames handed out from it (an int until
     * 2^31 tables); an address asked about may lie anywhere in the range, beyond any live frame.
     */
    private int frameBit(int r, long pa) {
        if (r < 0 || (pa & (frameSize - 1)) != 0) return -1;
        long index = Long.divideUnsigned(pa - pool.get(r).base(), frameSize);
        return index <= Integer.MAX_VALUE ? (int) index : -1;
    }

    /** A stack of free block addresses of one size. */
    private static final class FreeStack {
        long[] blocks = new long[64];
        int size;

        void push(long block) {
            if (size == blocks.length) blocks = Arrays.copyOf(blocks, size * 2);
            blocks[size++] = block;
        }

        long peek() { return blocks[size - 1]; }

        long pop() { return blocks[--size]; }
    }

    public boolean isAllocated(long frame) {
        int r = rangeOf(frame);
        int i = frameBit(r, frame);
        return i >= 0 && liveFrames[r].get(i) || liveLarger.containsKey(frame);
    }

    public long capacity() {
        long n = 0;
        for (MemoryRange r : pool) n += r.size() / frameSize;
        return n;
    }

    public FrameStats stats() {
        return new FrameStats(frameSize, liveCount, peak, allocations, capacity(), liveBytes, peakBytes);
    }

    /**
     * @param frameSize   bytes per frame
     * @param live        tables (frames or larger blocks) allocated now
     * @param peak        most tables live at once
     * @param allocations tables handed out over the allocator's life
     * @param capacity    frames the pool holds
     * @param liveBytes   bytes of the tables allocated now
     * @param peakBytes   most bytes live at once
     */
    public record FrameStats(long frameSize, long live, long peak, long allocations, long capacity, long liveBytes,
                             long peakBytes) {

        /** Statistics of an allocator whose tables are all one frame. */
        public FrameStats(long frameSize, long live, long peak, long allocations, long capacity) {
            this(frameSize, live, peak, allocations, capacity, live * frameSize, peak * frameSize);
        }
    }
}
