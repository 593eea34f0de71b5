package dev.granule.dump;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link DumpBitmap} against the bitmap read naively (bit {@code pfn % 8} of byte {@code pfn / 8},
 * bits at max_mapnr and above not counted), from a mapped file and from a flattened stream whose
 * records leave holes: random bitmaps of every density, page counts that end inside a word and
 * inside a chunk, runs across chunk boundaries.
 */
class DumpBitmapTest {

    /** Where the bitmap starts in the test's files: not at 0, as in a kdump file. */
    private static final int AT = 4096;

    @Test
    void everyBitRankAndRunIsTheNaiveReadingsFromAMappedFileAndAFlattenedStreamWithHoles() {
        Random random = new Random(18);
        for (int round = 0; round < 60; round++) {
            long pages = 1 + random.nextInt(round < 30 ? 70_000 : 300_000);
            byte[] bitmap = randomBitmap(random, pages, round % 6);
            byte[] file = new byte[AT + bitmap.length];
            System.arraycopy(bitmap, 0, file, AT, bitmap.length);
            check(DumpBitmap.read(new DumpBytes.Mapped(MemorySegment.ofArray(file)), AT, pages, "bitmap"), bitmap, pages);
            FlattenedFile flat = FlattenedFile.index(MemorySegment.ofArray(flattenNonZero(file, random)));
            check(DumpBitmap.read(flat, AT, pages, "bitmap"), bitmap, pages);
        }
    }

    /** Density by {@code kind}: empty, one bit, sparse, runs (some across chunks), dense, full. */
    private static byte[] randomBitmap(Random random, long pages, int kind) {
        byte[] b = new byte[(int) ((pages + 63) / 64 * 8)];
        switch (kind) {
            case 0 -> { }
            case 1 -> set(b, random.nextLong(pages));
            case 2 -> { for (int i = 0; i < 40; i++) set(b, random.nextLong(pages)); }
            case 3 -> {
                for (int i = 0; i < 12; i++) {
                    long from = random.nextLong(pages);
                    long to = Math.min(pages, from + random.nextInt(20_000));
                    for (long p = from; p < to; p++) set(b, p);
                }
            }
            case 4 -> random.nextBytes(b);
            default -> java.util.Arrays.fill(b, (byte) -1);
        }
        return b;
    }

    private static void set(byte[] b, long pfn) { b[(int) (pfn >>> 3)] |= (byte) (1 << (pfn & 7)); }

    private static boolean naive(byte[] b, long pfn, long pages) {
        return pfn >= 0 && pfn < pages && (b[(int) (pfn >>> 3)] >> (pfn & 7) & 1) != 0;
    }

    private static void check(DumpBitmap bitmap, byte[] b, long pages) {
        // Plain compares, not an assertion per bit: a few million bits are checked.
        long expectedNextSet = -1;
        for (long pfn = pages + 70; pfn >= 0; pfn--) { // the next set bit seen from below: walk down once
            if (naive(b, pfn, pages)) expectedNextSet = pfn;
            if ((pfn % 97 == 0 || pfn > pages - 3) && bitmap.nextSet(pfn) != expectedNextSet) {
                throw new AssertionError("nextSet(" + pfn + ") of " + pages + " pages is " + bitmap.nextSet(pfn) + ", not " + expectedNextSet);
            }
        }
        long rank = 0;
        for (long pfn = 0; pfn < pages + 70; pfn++) {
            boolean set = naive(b, pfn, pages);
            if (bitmap.get(pfn) != set) throw new AssertionError("bit " + pfn + " of " + pages + " pages is not " + set);
            // Clear bits too, and past the kept chunks: DumpRuns counts the set bits of an extent by rank.
            if (bitmap.rank(pfn) != rank) throw new AssertionError("rank(" + pfn + ") is " + bitmap.rank(pfn) + ", not " + rank);
            if (!set) continue;
            if (pfn == 0 || !naive(b, pfn - 1, pages)) {
                long clear = pfn;
                while (naive(b, clear, pages)) clear++;
                if (bitmap.nextClear(pfn) != clear) throw new AssertionError("nextClear(" + pfn + ") is " + bitmap.nextClear(pfn) + ", not " + clear);
            }
            rank++;
        }
        assertThat(bitmap.count()).isEqualTo(rank);
        assertThat(bitmap.get(-1)).isFalse();
        assertThat(bitmap.rank(1L << 40)).as("rank far past the bitmap").isEqualTo(rank);
        assertThat(bitmap.get(Long.MIN_VALUE)).isFalse();
    }

    /** {@code file} as a flattened stream of records for its non-zero stretches only, in random order: the rest are holes. */
    private static byte[] flattenNonZero(byte[] file, Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(4096);
        head.put(0, "makedumpfile".getBytes(StandardCharsets.US_ASCII)).putLong(16, 1).putLong(24, 1);
        out.writeBytes(head.array());
        java.util.List<int[]> stretches = new java.util.ArrayList<>();
        for (int i = 0; i < file.length; ) {
            if (file[i] == 0) {
                i++;
                continue;
            }
            int end = Math.min(file.length, i + 1 + random.nextInt(3000));
            stretches.add(new int[] {i, end});
            i = end;
        }
        // The logical file must reach the bitmap's end: a last zero byte there.
        stretches.add(new int[] {file.length - 1, file.length});
        java.util.Collections.shuffle(stretches, random);
        for (int[] s : stretches) {
            out.writeBytes(ByteBuffer.allocate(16).putLong(s[0]).putLong(s[1] - s[0]).array());
            out.write(file, s[0], s[1] - s[0]);
        }
        out.writeBytes(ByteBuffer.allocate(16).putLong(-1).putLong(-1).array());
        return out.toByteArray();
    }
}
