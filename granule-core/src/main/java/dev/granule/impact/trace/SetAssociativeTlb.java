package dev.granule.impact.trace;

import java.util.Arrays;

/**
 * A set-associative TLB of page keys (VA >> entry shift) with least-recently-used replacement in
 * each set, the set chosen by the key's low bits. Primitive arrays: no object per entry or access.
 */
final class SetAssociativeTlb {

    private static final long EMPTY = -1; // keys are VAs shifted right: never negative

    private final long[] tags;
    private final long[] stamps;
    private final int ways;
    private final int setMask;
    private long clock;

    SetAssociativeTlb(TlbLevel level) {
        this.ways = level.ways();
        this.setMask = level.sets() - 1;
        this.tags = new long[level.entries()];
        this.stamps = new long[level.entries()];
        Arrays.fill(tags, EMPTY);
    }

    /** Whether {@code key} is cached; a hit makes it the set's most recently used. */
    boolean lookup(long key) {
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
        int base = (int) (key & setMask) * ways;
        int victim = base;
        for (int i = base + 1, end = base + ways; i < end; i++) if (stamps[i] < stamps[victim]) victim = i;
        tags[victim] = key;
        stamps[victim] = ++clock;
    }
}
