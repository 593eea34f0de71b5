package dev.granule.impact.trace;

import java.util.Arrays;

/**
 * The set of touched pages (page numbers, non-negative), one bit each in 4096-page chunks found
 * through a primitive open-addressing table: memory follows the footprint (512 bytes per chunk
 * touched), not the trace's length, and no object per page.
 */
final class PageBitmap {

    private static final int CHUNK_SHIFT = 12;
    private static final long EMPTY = -1;

    private long[] keys = new long[64];
    private long[][] chunks = new long[64][];
    private int used;
    private long pages;
    private long lastKey = EMPTY;
    private long[] lastChunk;

    PageBitmap() {
        Arrays.fill(keys, EMPTY);
    }

    /** Adds {@code page}; returns whether it was new. */
    boolean add(long page) {
        long key = page >>> CHUNK_SHIFT;
        long[] chunk = key == lastKey ? lastChunk : chunk(key);
        int bit = (int) (page & ((1 << CHUNK_SHIFT) - 1));
        long mask = 1L << bit;
        if ((chunk[bit >>> 6] & mask) != 0) return false;
        chunk[bit >>> 6] |= mask;
        pages++;
        return true;
    }

    long size() { return pages; }

    private long[] chunk(long key) {
        int slot = slot(key, keys.length);
        while (keys[slot] != EMPTY && keys[slot] != key) slot = (slot + 1) & (keys.length - 1);
        if (keys[slot] == EMPTY) {
            if (2 * (used + 1) > keys.length) {
                grow();
                return chunk(key);
            }
            keys[slot] = key;
            chunks[slot] = new long[(1 << CHUNK_SHIFT) / 64];
            used++;
        }
        lastKey = key;
        lastChunk = chunks[slot];
        return lastChunk;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[][] oldChunks = chunks;
        keys = new long[oldKeys.length * 2];
        chunks = new long[oldKeys.length * 2][];
        Arrays.fill(keys, EMPTY);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] == EMPTY) continue;
            int slot = slot(oldKeys[i], keys.length);
            while (keys[slot] != EMPTY) slot = (slot + 1) & (keys.length - 1);
            keys[slot] = oldKeys[i];
            chunks[slot] = oldChunks[i];
        }
    }

    private static int slot(long key, int length) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 32) & (length - 1);
    }
}
