package dev.granule.dump;

import dev.granule.memory.MemoryRange;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link DumpRuns} against the runs of a random bitmap found by walking its bits one by one in the
 * test: every run by index in random order and in order (as iteration asks), and whether random
 * extents are wholly set. Bitmaps of several chunks (8,192 pages each) with runs that cross chunk
 * and word boundaries, whole chunks set, alternating bits, and ends inside a word.
 */
class DumpRunsTest {

    private static final int SHIFT = 12;
    private static final int AT = 64;

    @Property(tries = 120)
    void runsAndCoveredExtentsAreTheNaiveOnes(@ForAll long seed, @ForAll @IntRange(min = 0, max = 6) int kind,
                                              @ForAll @LongRange(min = 1, max = 90_000) long pages) {
        Random random = new Random(seed);
        byte[] bitmap = bitmap(random, pages, kind);
        byte[] file = new byte[AT + bitmap.length];
        System.arraycopy(bitmap, 0, file, AT, bitmap.length);
        DumpBitmap bits = DumpBitmap.read(new DumpBytes.Mapped(MemorySegment.ofArray(file)), AT, pages, "bitmap");
        DumpRuns runs = new DumpRuns(bits, SHIFT);
        List<MemoryRange> expected = naiveRuns(bitmap, pages);

        assertThat(runs.size()).isEqualTo(expected.size());
        for (int k = 0; k < Math.min(300, expected.size()); k++) {
            int i = random.nextInt(expected.size());
            if (!runs.get(i).equals(expected.get(i))) throw new AssertionError("run " + i + " is " + runs.get(i) + ", not " + expected.get(i));
        }
        assertThat(new ArrayList<>(runs)).as("the runs in order").isEqualTo(expected);
        // Backwards: each step misses the last run found, so each is a search from scratch.
        for (int i = expected.size() - 1; i >= Math.max(0, expected.size() - 200); i--) {
            if (!runs.get(i).equals(expected.get(i))) throw new AssertionError("run " + i + " backwards is " + runs.get(i));
        }

        for (int k = 0; k < 400; k++) {
            long from;
            long to;
            if (!expected.isEmpty() && k % 2 == 0) {
                // Around a run: inside it, or one page more or less at either end.
                MemoryRange r = expected.get(random.nextInt(expected.size()));
                from = Math.max(0, (r.base() >>> SHIFT) + random.nextInt(3) - 1);
                to = Math.max(from + 1, (r.end() >>> SHIFT) + random.nextInt(3) - 1);
            } else {
                from = random.nextLong(pages + 100);
                to = from + 1 + random.nextLong(k % 3 == 0 ? 40_000 : 100);
            }
            boolean all = true;
            for (long p = from; p < to && all; p++) all = naive(bitmap, p, pages);
            if (bits.allSet(from, to) != all) throw new AssertionError("allSet(" + from + ", " + to + ") of " + pages + " pages is not " + all);
        }
    }

    /** Kinds: empty, sparse, runs of any length (some across chunks), alternating 0x55 and 0xAA, random, full, chunks all set or all clear. */
    private static byte[] bitmap(Random random, long pages, int kind) {
        byte[] b = new byte[(int) ((pages + 63) / 64 * 8)];
        switch (kind) {
            case 0 -> { }
            case 1 -> { for (int i = 0; i < 30; i++) set(b, random.nextLong(pages)); }
            case 2 -> {
                for (int i = 0; i < 25; i++) {
                    long from = random.nextLong(pages);
                    long to = Math.min(pages, from + 1 + random.nextInt(random.nextBoolean() ? 70 : 20_000));
                    for (long p = from; p < to; p++) set(b, p);
                }
            }
            case 3 -> Arrays.fill(b, random.nextBoolean() ? (byte) 0x55 : (byte) 0xAA);
            case 4 -> random.nextBytes(b);
            case 5 -> Arrays.fill(b, (byte) -1);
            default -> {
                for (int at = 0; at < b.length; at += 1024) {
                    if (random.nextBoolean()) Arrays.fill(b, at, Math.min(b.length, at + 1024), (byte) -1);
                }
            }
        }
        return b;
    }

    private static void set(byte[] b, long pfn) { b[(int) (pfn >>> 3)] |= (byte) (1 << (pfn & 7)); }

    private static boolean naive(byte[] b, long pfn, long pages) {
        return pfn >= 0 && pfn < pages && (b[(int) (pfn >>> 3)] >> (pfn & 7) & 1) != 0;
    }

    /** The runs of set bits below {@code pages}, bit by bit. */
    private static List<MemoryRange> naiveRuns(byte[] b, long pages) {
        List<MemoryRange> runs = new ArrayList<>();
        long start = -1;
        for (long p = 0; p <= pages; p++) {
            boolean set = naive(b, p, pages);
            if (set && start < 0) start = p;
            if (!set && start >= 0) {
                runs.add(new MemoryRange(start << SHIFT, (p - start) << SHIFT));
                start = -1;
            }
        }
        return runs;
    }
}
