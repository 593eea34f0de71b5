package dev.granule.impact.trace;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class SetAssociativeTlbTest {

    /** A fully associative LRU of N entries, the obvious way: a LinkedHashMap in access order. */
    static final class Lru extends LinkedHashMap<Long, Boolean> {
        final int capacity;

        Lru(int capacity) {
            super(16, 0.75f, true);
            this.capacity = capacity;
        }

        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<Long, Boolean> eldest) { return size() > capacity; }
    }

    /** The indexed fully associative TLB (48 and 64 entries) hits and misses exactly as an LRU does, evictions included. */
    @Test
    void indexedFullyAssociativeTlbIsAnLru() {
        for (int entries : new int[]{48, 64, 9}) {
            SetAssociativeTlb tlb = new SetAssociativeTlb(TlbLevel.fullyAssociative(entries));
            Lru lru = new Lru(entries);
            SplittableRandom random = new SplittableRandom(entries);
            for (int i = 0; i < 200_000; i++) {
                // Keys from a range a little larger than the TLB, with colliding hashes: heavy eviction.
                long key = random.nextInt(3) == 0 ? random.nextLong(1L << 40) : random.nextInt(entries + entries / 2) * 4096L;
                boolean hit = tlb.lookup(key);
                assertThat(hit).as("access %d, key %d", i, key).isEqualTo(lru.get(key) != null);
                if (!hit) {
                    tlb.insert(key);
                    lru.put(key, true);
                }
            }
        }
    }
}
