package dev.granule.dump;

import dev.granule.memory.MemoryRange;

import java.util.AbstractList;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * The runs of set bits of a {@link DumpBitmap} (the dumped pages), as the {@link MemoryRange}s of
 * PAs that {@link KdumpMemory#ranges()} lists, answered from the bitmap itself: besides it only the
 * number of runs that start before each of its chunks with a bit set is kept, two ints per such
 * 1 KiB chunk (chunks without one cost nothing, as in the bitmap: a 2^30-page claim has 2^17). A list of
 * the runs' ends would cost up to 32 bytes per byte of bitmap (a bitmap of 0x55 bytes has four runs
 * a byte), which a hostile flattened stream can claim with a few MiB of records.
 *
 * <p>Run {@code i} is found by a binary search of those counts and a scan of one chunk's 128 words
 * (a run starts at a set bit whose lower neighbour is clear); its end is the next clear bit. Walking
 * the list in order, as iteration does, goes from the last run found to the next set bit instead.
 * Thread-safe: the only state besides the bitmap is that last run, one immutable object.
 */
final class DumpRuns extends AbstractList<MemoryRange> implements RandomAccess {

    private static final int WORDS_PER_CHUNK = 1 << (DumpBitmap.CHUNK_SHIFT - 6);

    private final DumpBitmap bits;
    private final int shift;
    /** The bitmap's chunks with a bit set, in order. */
    private final int[] chunk;
    /** Runs starting before each of {@link #chunk}; one more entry, the number of runs. */
    private final int[] runsBefore;
    private final int size;
    /** The run {@link #get} found last; its successor is the next set bit after its end. */
    private Run last;

    /** Run {@code index} is pfns {@code [start, end)}. */
    private record Run(int index, long start, long end) { }

    /** The runs of {@code bits}, pfn {@code p} being PAs {@code [p << shift, (p + 1) << shift)}. */
    DumpRuns(DumpBitmap bits, int shift) {
        this.bits = bits;
        this.shift = shift;
        int kept = 0;
        for (int c = 0; c < bits.chunks(); c++) {
            if (!bits.emptyChunk(c)) kept++;
        }
        chunk = new int[kept];
        runsBefore = new int[kept + 1];
        for (int c = 0, k = 0; c < bits.chunks(); c++) {
            if (bits.emptyChunk(c)) continue;
            int n = 0;
            long first = (long) c * WORDS_PER_CHUNK;
            for (long w = first; w < first + WORDS_PER_CHUNK; w++) n += Long.bitCount(starts(w));
            chunk[k] = c;
            // At most 2^29 runs (every other page of 2^30): no overflow.
            runsBefore[k + 1] = runsBefore[k] + n;
            k++;
        }
        size = runsBefore[kept];
    }

    /** The bits of word {@code w} where a run starts: set, with the bit below (in the word before, for bit 0) clear. */
    private long starts(long w) {
        long word = bits.word(w);
        return word & ~(word << 1 | bits.word(w - 1) >>> 63);
    }

    @Override
    public int size() { return size; }

    @Override
    public MemoryRange get(int i) {
        Objects.checkIndex(i, size);
        Run run = last;
        if (run == null || run.index != i) {
            long start = run != null && run.index == i - 1 ? bits.nextSet(run.end) : select(i);
            run = new Run(i, start, bits.nextClear(start));
            last = run;
        }
        return new MemoryRange(run.start << shift, (run.end - run.start) << shift);
    }

    /** The first pfn of run {@code i} (below {@link #size}). */
    private long select(int i) {
        // The last kept chunk with no more than i runs before it: run i starts in it.
        int lo = 0;
        int hi = chunk.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (runsBefore[mid] <= i) lo = mid;
            else hi = mid - 1;
        }
        int k = i - runsBefore[lo];
        for (long w = (long) chunk[lo] * WORDS_PER_CHUNK; ; w++) {
            long s = starts(w);
            int n = Long.bitCount(s);
            if (k < n) {
                for (; k > 0; k--) s &= s - 1;
                return (w << 6) + Long.numberOfTrailingZeros(s);
            }
            k -= n;
        }
    }
}
