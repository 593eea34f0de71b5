package dev.granule.dump;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One of a kdump file's two bitmaps (bit {@code pfn % 8} of byte {@code pfn / 8}: page {@code pfn}
 * is RAM, or is in the dump), kept in chunks of {@link #CHUNK_PAGES} pages of which only those with a
 * bit set take memory. A header may claim up to 2^30 pages (128 MiB of bitmap) while the file holds
 * far fewer bits: a flattened stream's holes, which read as zeros, are skipped without being read,
 * and all-zero chunks of either form share one empty chunk. So what this holds and reads follows
 * what the file holds, not what its header claims. A bit test is two array loads.
 */
final class DumpBitmap {

    /** Pages per chunk, 2^13: 1 KiB of bitmap, so a 2^30-page claim has at most 2^17 chunks. */
    static final int CHUNK_SHIFT = 13;
    static final long CHUNK_PAGES = 1L << CHUNK_SHIFT;
    private static final int CHUNK_WORDS = 1 << (CHUNK_SHIFT - 6);
    private static final int WORD_MASK = CHUNK_WORDS - 1;
    private static final int CHUNK_BYTES = CHUNK_WORDS * 8;
    /** Every chunk without a set bit; never written. */
    private static final long[] EMPTY = new long[CHUNK_WORDS];

    /** Chunks up to the last one with a bit set; bits past them are 0. */
    private final long[][] chunks;
    /** Set bits in the chunks before each chunk; one more entry than {@link #chunks}. */
    private final int[] setBefore;

    private DumpBitmap(long[][] chunks) {
        this.chunks = chunks;
        this.setBefore = new int[chunks.length + 1];
        for (int c = 0; c < chunks.length; c++) {
            int n = 0;
            if (chunks[c] != EMPTY) {
                for (long w : chunks[c]) n += Long.bitCount(w);
            }
            setBefore[c + 1] = setBefore[c] + n;
        }
    }

    /**
     * Reads the bitmap of {@code pages} pages at {@code at} in {@code bytes}, whose extent must lie
     * in the file ({@code field} names it if not); bits at {@code pages} and above are taken as 0.
     * {@code pages} is at most {@link KdumpFile#MAX_PAGES}.
     */
    static DumpBitmap read(DumpBytes bytes, long at, long pages, String field) {
        long wordBytes = (pages + 63) >>> 6 << 3;
        bytes.check(at, wordBytes, field);
        int count = (int) ((pages + CHUNK_PAGES - 1) >>> CHUNK_SHIFT);
        long[][] chunks = new long[Math.min(count, 64)][]; // grown as set bits are found: a hole costs nothing
        long[] words = new long[CHUNK_WORDS];
        int last = -1;
        // A mapped file is read in place; a flattened one chunk by chunk, so that its holes are skipped unread.
        MemorySegment whole = bytes instanceof DumpBytes.Mapped ? bytes.slice(at, wordBytes) : null;
        for (int c = 0; c < count; c++) {
            long from = (long) c * CHUNK_BYTES;
            int n = (int) Math.min(CHUNK_BYTES, wordBytes - from);
            if (whole != null) {
                MemorySegment.copy(whole, DumpBytes.U64, from, words, 0, n >>> 3);
            } else if (bytes.holds(at + from, n)) {
                MemorySegment.copy(bytes.slice(at + from, n), DumpBytes.U64, 0, words, 0, n >>> 3);
            } else {
                continue; // a hole of a flattened stream reads as zeros: nothing to read or keep
            }
            Arrays.fill(words, n >>> 3, CHUNK_WORDS, 0);
            if (c == count - 1 && (pages & (CHUNK_PAGES - 1)) != 0) clearFrom(words, (int) (pages & (CHUNK_PAGES - 1)));
            if (allZero(words)) continue;
            if (c >= chunks.length) chunks = Arrays.copyOf(chunks, (int) Math.min(count, Math.max(c + 1L, 2L * chunks.length)));
            chunks[c] = words.clone();
            last = c;
        }
        long[][] kept = last + 1 == chunks.length ? chunks : Arrays.copyOf(chunks, last + 1);
        for (int c = 0; c < kept.length; c++) {
            if (kept[c] == null) kept[c] = EMPTY;
        }
        return new DumpBitmap(kept);
    }

    /** Clears the bits from {@code bit} on: they describe pages past max_mapnr. */
    private static void clearFrom(long[] words, int bit) {
        int w = bit >>> 6;
        if ((bit & 63) != 0) words[w++] &= (1L << (bit & 63)) - 1;
        Arrays.fill(words, w, CHUNK_WORDS, 0);
    }

    private static boolean allZero(long[] words) {
        long or = 0;
        for (long w : words) or |= w;
        return or == 0;
    }

    /** Whether page {@code pfn}'s bit is set; false for any pfn outside the bitmap, negative ones too. */
    boolean get(long pfn) {
        long c = pfn >>> CHUNK_SHIFT;
        return c < chunks.length && (chunks[(int) c][(int) (pfn >>> 6) & WORD_MASK] >>> pfn & 1) != 0;
    }

    /** Number of set bits. */
    long count() { return setBefore[chunks.length]; }

    /** Number of set bits below {@code pfn} (not negative); all of them for a pfn past the kept chunks. */
    long rank(long pfn) {
        long chunk = pfn >>> CHUNK_SHIFT;
        if (chunk >= chunks.length) return count();
        int c = (int) chunk;
        long[] words = chunks[c];
        int word = (int) (pfn >>> 6) & WORD_MASK;
        long n = setBefore[c];
        for (int i = 0; i < word; i++) n += Long.bitCount(words[i]);
        return n + Long.bitCount(words[word] & ((1L << (pfn & 63)) - 1));
    }

    /** Whether pages {@code [from, to)} (0 ≤ from < to) all have their bit set: counted by rank, so a long extent costs no more than a page. */
    boolean allSet(long from, long to) {
        return rank(to) - rank(from) == to - from;
    }

    /** Bits {@code 64 * index} to {@code 64 * index + 63}, bit {@code pfn % 64} for page pfn; 0 outside the kept chunks. */
    long word(long index) {
        long c = index >>> (CHUNK_SHIFT - 6);
        return c < chunks.length ? chunks[(int) c][(int) index & WORD_MASK] : 0;
    }

    /** Chunks kept: bits from {@code chunks() * CHUNK_PAGES} on are clear. */
    int chunks() { return chunks.length; }

    /** Whether chunk {@code c} (below {@link #chunks()}) has no bit set. */
    boolean emptyChunk(int c) { return chunks[c] == EMPTY; }

    /** The first set bit at or after {@code from}, or -1. */
    long nextSet(long from) {
        long pfn = Math.max(0, from);
        while (pfn >>> CHUNK_SHIFT < chunks.length) {
            long[] words = chunks[(int) (pfn >>> CHUNK_SHIFT)];
            if (words == EMPTY) {
                pfn = ((pfn >>> CHUNK_SHIFT) + 1) << CHUNK_SHIFT;
                continue;
            }
            long word = words[(int) (pfn >>> 6) & WORD_MASK] & (-1L << pfn);
            if (word != 0) return (pfn & ~63L) + Long.numberOfTrailingZeros(word);
            pfn = (pfn | 63) + 1;
        }
        return -1;
    }

    /** The first clear bit at or after {@code from} (not negative); bits past the kept chunks are clear. */
    long nextClear(long from) {
        long pfn = from;
        while (pfn >>> CHUNK_SHIFT < chunks.length) {
            int c = (int) (pfn >>> CHUNK_SHIFT);
            if (setBefore[c + 1] - setBefore[c] == CHUNK_PAGES) {
                // A chunk of dumped pages only: a long run (a GiB of RAM is 32 chunks) is skipped chunk by chunk, not word by word.
                pfn = (long) (c + 1) << CHUNK_SHIFT;
                continue;
            }
            long word = ~chunks[c][(int) (pfn >>> 6) & WORD_MASK] & (-1L << pfn);
            if (word != 0) return (pfn & ~63L) + Long.numberOfTrailingZeros(word);
            pfn = (pfn | 63) + 1;
        }
        return pfn;
    }
}
