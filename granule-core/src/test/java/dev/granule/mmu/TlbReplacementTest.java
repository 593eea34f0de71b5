package dev.granule.mmu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TLB's replacement against a reference written here from its rule alone — exact LRU per set,
 * an empty way taken before any entry and the lowest empty way first, an insert of an entry that
 * is already there taking its way — kept as a list of ways in order of use: random lookups,
 * inserts, fills after misses and invalidations must hit the same ways and evict as often, with
 * the sets' order in one long (up to 16 ways) and with per-entry ages (more).
 */
class TlbReplacementTest {

    private static final long EMPTY = -1;

    /** One set of the reference: each way's entry (tag, context|ASID id) and the ways from least to most recently used. */
    private static final class RefSet {
        final long[] tag, id;
        final List<Integer> use = new ArrayList<>();

        RefSet(int ways) {
            tag = new long[ways];
            id = new long[ways];
            java.util.Arrays.fill(tag, EMPTY);
        }

        void touch(int w) {
            use.remove(Integer.valueOf(w));
            use.add(w);
        }

        /** The lowest empty way, else the least recently used. */
        int victim() {
            for (int w = 0; w < tag.length; w++) if (tag[w] == EMPTY) return w;
            return use.getFirst();
        }

        void remove(int w) {
            tag[w] = EMPTY;
            use.remove(Integer.valueOf(w));
        }
    }

    private static final class Reference {
        final int ways, sets;
        final RefSet[] set;
        final TreeSet<Integer> sizes = new TreeSet<>();
        long evictions;

        Reference(int entries, int ways) {
            this.ways = ways;
            this.sets = entries / ways;
            set = new RefSet[sets];
            for (int i = 0; i < sets; i++) set[i] = new RefSet(ways);
        }

        int setOf(long va, int s) { return (int) (va >>> s & (sets - 1)); }

        int lookup(long va, int context, int asid) {
            for (int s : sizes) {
                int n = setOf(va, s);
                RefSet r = set[n];
                long t = va & -(1L << s) | s;
                for (int w = 0; w < ways; w++) {
                    if (r.tag[w] != t || (int) r.id[w] != context) continue;
                    int entryAsid = (int) (r.id[w] >> 32);
                    if (entryAsid == -1 || entryAsid == asid) {
                        r.touch(w);
                        return n * ways + w;
                    }
                }
            }
            return -1;
        }

        void insert(long va, int s, int context, int asid) {
            int n = setOf(va, s);
            RefSet r = set[n];
            long t = va & -(1L << s) | s, id = (long) asid << 32 | (context & 0xFFFF_FFFFL);
            int victim = -1;
            for (int w = 0; w < ways && victim < 0; w++) if (r.tag[w] == EMPTY || r.tag[w] == t && r.id[w] == id) victim = w;
            if (victim < 0) victim = r.victim();
            if (r.tag[victim] != EMPTY && r.tag[victim] != t) evictions++;
            r.tag[victim] = t;
            r.id[victim] = id;
            r.touch(victim);
            sizes.add(s);
        }

        /** A fill after a miss: no way holds the entry, so the victim is the lowest empty way or the LRU. */
        void fill(long va, int s, int context, int asid) {
            RefSet r = set[setOf(va, s)];
            int victim = r.victim();
            if (r.tag[victim] != EMPTY) evictions++;
            r.tag[victim] = va & -(1L << s) | s;
            r.id[victim] = (long) asid << 32 | (context & 0xFFFF_FFFFL);
            r.touch(victim);
            sizes.add(s);
        }

        void invalidateVa(long va, int context, int asid) {
            for (RefSet r : set) {
                for (int w = 0; w < ways; w++) {
                    long t = r.tag[w];
                    if (t == EMPTY || (va & -(1L << (t & 0x3F)) | (t & 0x3F)) != t || (int) r.id[w] != context) continue;
                    int entryAsid = (int) (r.id[w] >> 32);
                    if (entryAsid == -1 || entryAsid == asid) r.remove(w);
                }
            }
        }

        void invalidateAll() {
            for (RefSet r : set) for (int w = 0; w < ways; w++) r.remove(w);
            sizes.clear();
        }
    }

    @ParameterizedTest(name = "{0} entries, {1} ways")
    @CsvSource({"16, 1", "16, 2", "64, 4", "16, 4", "4, 4", "24, 3", "64, 8", "32, 16", "16, 16", "17, 17", "64, 32"})
    void replacementIsExactLruWithTheLowestEmptyWayFirst(int entries, int ways) {
        SplittableRandom random = new SplittableRandom(entries * 31L + ways);
        Tlb tlb = new Tlb(entries, ways);
        Reference ref = new Reference(entries, ways);
        // Few enough pages that sets fill, overflow and hit; two contexts and three ASIDs.
        int pages = entries * 3;
        for (int step = 0; step < 200_000; step++) {
            long va = (long) random.nextInt(pages) << 12;
            int s = random.nextInt(8) == 0 ? 21 : 12;
            int context = random.nextInt(4) == 0 ? 1 : 0;
            int asid = random.nextInt(3);
            int entryAsid = random.nextBoolean() ? -1 : asid;
            int op = random.nextInt(100);
            if (op < 60) {
                int hit = tlb.lookup(va, context, asid);
                assertThat(hit).as("step %d: lookup of 0x%x", step, va).isEqualTo(ref.lookup(va, context, asid));
                if (hit < 0 && random.nextBoolean()) {
                    // The miss path's fill, as LeafCheckTables calls it: right after the miss.
                    tlb.fill(va, va, s, context, entryAsid, 0x3F, 3);
                    ref.fill(va, s, context, entryAsid);
                }
            } else if (op < 90) {
                tlb.insert(va, va, s, context, entryAsid, 0x3F, 3, EMPTY);
                ref.insert(va, s, context, entryAsid);
            } else if (op < 99) {
                tlb.invalidateVa(va, asid, context);
                ref.invalidateVa(va, context, asid);
            } else if (random.nextInt(20) == 0) {
                tlb.invalidateAll();
                ref.invalidateAll();
            }
            assertThat(tlb.evictions()).as("step %d: evictions", step).isEqualTo(ref.evictions);
        }
    }
}
