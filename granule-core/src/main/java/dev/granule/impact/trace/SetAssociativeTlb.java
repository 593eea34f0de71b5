package dev.granule.impact.trace;

import java.util.Arrays;

/**
 * A set-associative TLB of page keys (VA >> entry shift) with least-recently-used replacement in
 * each set, the set chosen by the key's low bits. Primitive arrays: no object per entry or access.
 * A fully associative TLB of more than {@link #SCAN_WAYS} entries (the 48-entry L1s) finds a key
 * through an open-addressing index instead of comparing every entry (the replay looks up an L1 on
 * almost every access, and a 48-way scan was most of its time), and keeps its entries in a
 * recency list, so the least recently used is the list's tail instead of the smallest of 48 stamps
 * (that scan, on every L1 miss, was the largest cost left). Replacement is the same LRU.
 */
final class SetAssociativeTlb {

    private static final long EMPTY = -1; // keys are VAs shifted right: never negative
    static final int SCAN_WAYS = 8;

    private final long[] tags;
    private final long[] stamps;
    private final int ways;
    private final int setMask;
    private long clock;
    // For a large fully associative TLB: key -> entry index, linear probing, a quarter full at most.
    private final long[] indexKeys;
    private final int[] indexEntries;
    private final int indexMask;
    // For the indexed TLB: entries in recency order, a doubly linked list through two int arrays.
    private final int[] newer;
    private final int[] older;
    private int mostRecent, leastRecent;

    SetAssociativeTlb(TlbLevel level) {
        this.ways = level.ways();
        this.setMask = level.sets() - 1;
        this.tags = new long[level.entries()];
        this.stamps = new long[level.entries()];
        Arrays.fill(tags, EMPTY);
        boolean indexed = level.sets() == 1 && level.ways() > SCAN_WAYS;
        int size = indexed ? Integer.highestOneBit(level.entries()) << 3 : 0;
        this.indexKeys = new long[size];
        this.indexEntries = new int[size];
        this.indexMask = size - 1;
        Arrays.fill(indexKeys, EMPTY);
        int listed = indexed ? level.entries() : 0;
        this.newer = new int[listed];
        this.older = new int[listed];
        for (int i = 0; i < listed; i++) {
            newer[i] = i - 1;
            older[i] = i + 1 < listed ? i + 1 : -1;
        }
        this.mostRecent = 0;
        this.leastRecent = listed - 1;
    }

    /** Whether {@code key} is cached; a hit makes it the set's most recently used. */
    boolean lookup(long key) {
        if (indexMask >= 0) {
            for (int h = hash(key) & indexMask; indexKeys[h] != EMPTY; h = (h + 1) & indexMask) {
                if (indexKeys[h] == key) {
                    touch(indexEntries[h]);
                    return true;
                }
            }
            return false;
        }
        int base = (int) (key & setMask) * ways;
        for (int i = base, end = base + ways; i < end; i++) {
            if (tags[i] == key) {
                stamps[i] = ++clock;
                return true;
            }
        }
        return false;
    }

    /** Caches {@code key} (not cached now) in place of its set's least recently used entry. */
    void insert(long key) {
        if (indexMask >= 0) {
            int victim = leastRecent;
            if (tags[victim] != EMPTY) unindex(tags[victim]);
            int h = hash(key) & indexMask;
            while (indexKeys[h] != EMPTY) h = (h + 1) & indexMask;
            indexKeys[h] = key;
            indexEntries[h] = victim;
            tags[victim] = key;
            touch(victim);
            return;
        }
        int base = (int) (key & setMask) * ways;
        int victim = base;
        for (int i = base + 1, end = base + ways; i < end; i++) if (stamps[i] < stamps[victim]) victim = i;
        tags[victim] = key;
        stamps[victim] = ++clock;
    }

    /** Makes entry {@code e} of the indexed TLB the most recently used: unlinked, then put at the list's head. */
    private void touch(int e) {
        if (e == mostRecent) return;
        int n = newer[e], o = older[e];
        older[n] = o;          // e has a newer entry: it is not the head
        if (o >= 0) newer[o] = n;
        else leastRecent = n;  // e was the tail
        newer[e] = -1;
        older[e] = mostRecent;
        newer[mostRecent] = e;
        mostRecent = e;
    }

    private static int hash(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 40);
    }

    /** Removes {@code key} from the index, shifting later entries of its probe run back (no tombstones). */
    private void unindex(long key) {
        int i = hash(key) & indexMask;
        while (indexKeys[i] != key) i = (i + 1) & indexMask;
        indexKeys[i] = EMPTY;
        for (int j = (i + 1) & indexMask; indexKeys[j] != EMPTY; j = (j + 1) & indexMask) {
            int home = hash(indexKeys[j]) & indexMask;
            // Entry j may stay unless its home lies cyclically in (i, j]: then the gap at i would hide it.
            boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (stays) continue;
            indexKeys[i] = indexKeys[j];
            indexEntries[i] = indexEntries[j];
            indexKeys[j] = EMPTY;
            i = j;
        }
    }
}
