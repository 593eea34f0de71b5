package dev.granule.table;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.PhysicalMemory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Hands out zeroed, frame-aligned pages of physical memory for translation tables, from pool
 * ranges it owns. Fresh frames come from a bump pointer through the pool ranges in address order;
 * freed frames keep their contents (as in a kernel) and are reused last-freed first, zeroed when
 * handed out again.
 *
 * <p>Freeing writes no memory, so an edit's commit cannot fail half-way; and an edit that reuses
 * a freed frame records its old words in the edit's journal first, so a failed edit leaves every
 * byte of memory as it was.
 */
public final class FrameAllocator {

    private final PhysicalMemory memory;
    private final long frameSize;
    private final List<MemoryRange> pool;
    private int rangeIndex;
    private long bump;
    private long[] freeStack = new long[64];
    private int freeCount;
    private final Set<Long> live = new HashSet<>();
    private long peak;
    private long allocations;
    private long limit = Long.MAX_VALUE;

    private FrameAllocator(PhysicalMemory memory, long frameSize, List<MemoryRange> pool) {
        this.memory = memory;
        this.frameSize = frameSize;
        this.pool = pool;
        this.bump = pool.isEmpty() ? 0 : pool.getFirst().base();
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
        return allocate(null);
    }

    /** A zeroed frame; if it held data, the data is saved in {@code journal} for a rollback. */
    long allocate(Journal journal) {
        if (live.size() >= limit) {
            throw new FrameExhaustedException("the frame limit of " + limit + " table frames is reached");
        }
        long frame;
        if (freeCount > 0) {
            frame = freeStack[freeCount - 1];
            if (journal != null) {
                // Record every word the reused frame held (zeros too: the edit may later journal a
                // write into it, and the replay must end on the original word), so a rollback
                // restores it; the journal's arrays are reused, so this allocates nothing.
                for (long off = 0; off < frameSize; off += 8) {
                    journal.record(frame + off, memory.readLong(frame + off), 0, 3);
                }
            }
            memory.fill(frame, frameSize, (byte) 0);
            freeCount--;
            if (journal != null) journal.allocated(frame, true);
        } else {
            while (rangeIndex < pool.size() && bump == pool.get(rangeIndex).end()) {
                rangeIndex++;
                if (rangeIndex < pool.size()) bump = pool.get(rangeIndex).base();
            }
            if (rangeIndex >= pool.size()) {
                throw new FrameExhaustedException("all " + capacity() + " frames of the pool " + pool + " are in use");
            }
            frame = bump;
            memory.fill(frame, frameSize, (byte) 0);
            bump += frameSize;
            if (journal != null) journal.allocated(frame, false);
        }
        live.add(frame);
        allocations++;
        peak = Math.max(peak, live.size());
        return frame;
    }

    /** Returns a frame. Its contents stay until it is handed out again. */
    public void free(long frame) {
        if (!live.remove(frame)) {
            throw new IllegalArgumentException(String.format("frame 0x%x is not allocated (double free?)", frame));
        }
        push(frame);
    }

    /**
     * Undoes the most recent {@link #allocate} of {@code frame} exactly, bump pointer included.
     * Memory is the journal's business: it zeroes the edit's frames and replays its undo records.
     */
    void unallocate(long frame, boolean reused) {
        live.remove(frame);
        allocations--;
        if (!reused && rangeIndex < pool.size() && frame == bump - frameSize && frame >= pool.get(rangeIndex).base()) {
            bump = frame;
        } else {
            push(frame);
        }
    }

    /** Zeroes a frame the current edit allocated (rollback: new tables were written without undo records). */
    void zero(long frame) {
        memory.fill(frame, frameSize, (byte) 0);
    }

    private void push(long frame) {
        if (freeCount == freeStack.length) freeStack = Arrays.copyOf(freeStack, freeCount * 2);
        freeStack[freeCount++] = frame;
    }

    public boolean isAllocated(long frame) { return live.contains(frame); }

    public long capacity() {
        long n = 0;
        for (MemoryRange r : pool) n += r.size() / frameSize;
        return n;
    }

    public FrameStats stats() {
        return new FrameStats(frameSize, live.size(), peak, allocations, capacity());
    }

    /**
     * @param frameSize   bytes per frame
     * @param live        frames allocated now
     * @param peak        most frames live at once
     * @param allocations frames handed out over the allocator's life
     * @param capacity    frames the pool holds
     */
    public record FrameStats(long frameSize, long live, long peak, long allocations, long capacity) {
        public long liveBytes() { return live * frameSize; }

        public long peakBytes() { return peak * frameSize; }
    }
}
