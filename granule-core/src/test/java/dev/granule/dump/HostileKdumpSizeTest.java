package dev.granule.dump;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.PageState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Headers that claim up to 2^30 pages (256 MiB of bitmaps) for files that hold a few pages: what
 * opening one allocates follows the bits the file holds, not the claim. A flattened stream can
 * leave its bitmaps in a hole, so the file stays a few KiB; a KDUMP file must hold its bitmaps
 * whole, so there the claim is 2^27 pages (32 MiB of bitmaps, almost all zero). The bytes this
 * thread allocates while the file is parsed and its memory opened are measured
 * ({@code com.sun.management.ThreadMXBean}); reading both 2^30-page bitmaps onto the heap took 320 MiB.
 */
class HostileKdumpSizeTest {

    private static final int BS = 4096;
    /** What opening may allocate: the chunk index and ranks of two bitmaps of 2^30 pages are 2 MiB. */
    private static final long OPEN_BUDGET = 4L << 20;

    /** Pages at both ends of the claimed pfns and one in the middle, and an excluded page: the chunks kept are these. */
    private static KdumpBytes farApart(long maxMapnr) {
        KdumpBytes k = new KdumpBytes(BS, maxMapnr);
        for (long pfn : new long[] {0, 0x40000, maxMapnr - 1}) k.page(pfn, k.pattern(pfn, 0), 0);
        k.excluded.add(0x40001L);
        return k;
    }

    /** Opens small files of both forms first, so that loading the readers' classes is not counted. */
    @BeforeAll
    static void loadTheReaders() {
        KdumpBytes k = farApart(0x40010);
        KdumpFile.parse(new DumpBytes.Mapped(MemorySegment.ofArray(k.build()))).memory().close();
        KdumpFile.parse(FlattenedFile.index(MemorySegment.ofArray(k.flattenedSparse()))).memory().close();
        allocatedWhile(() -> { });
    }

    @Test
    void aFlattenedFileWhoseBitmapsAreAHoleOpensWithoutAllocatingTheClaim() {
        KdumpBytes k = new KdumpBytes(BS, KdumpFile.MAX_PAGES);
        byte[] file = k.flattenedSparse();
        assertThat(file.length).isLessThan(16 << 10);
        KdumpMemory[] m = new KdumpMemory[1];
        long allocated = allocatedWhile(() -> m[0] = KdumpFile.parse(FlattenedFile.index(MemorySegment.ofArray(file))).memory());
        try (KdumpMemory memory = m[0]) {
            assertThat(memory.file().pages()).isEqualTo(1L << 30);
            assertThat(memory.dumpedPages()).isZero();
            assertThat(memory.ranges()).isEmpty();
            assertThat(memory.pageState(0x4000_0000L)).isEqualTo(PageState.NOT_RAM);
            assertThat(memory.pageState(((1L << 30) - 1) * BS)).isEqualTo(PageState.NOT_RAM);
            assertThat(memory.contains(0, BS)).isFalse();
        }
        assertThat(allocated).as("bytes allocated opening a %d-byte file that claims 2^30 pages", file.length).isLessThan(OPEN_BUDGET);
    }

    @Test
    void aFlattenedFileWithBitsAtBothEndsOfA2To30PageClaimReadsThemAndAllocatesLittle() {
        KdumpBytes k = farApart(KdumpFile.MAX_PAGES);
        byte[] file = k.flattenedSparse();
        assertThat(file.length).isLessThan(32 << 10);
        KdumpMemory[] m = new KdumpMemory[1];
        long allocated = allocatedWhile(() -> m[0] = KdumpFile.parse(FlattenedFile.index(MemorySegment.ofArray(file))).memory());
        try (KdumpMemory memory = m[0]) {
            assertFarApartPages(memory, KdumpFile.MAX_PAGES);
        }
        assertThat(allocated).as("bytes allocated opening a %d-byte file that claims 2^30 pages", file.length).isLessThan(OPEN_BUDGET);
    }

    @Test
    void aKdumpFileWithMostlyZeroBitmapsKeepsOnlyTheChunksWithBitsSet() {
        long pages = 1L << 27;
        KdumpBytes k = farApart(pages);
        byte[] file = k.build();
        assertThat((long) file.length).isGreaterThan(pages / 4); // both bitmaps are in the file: 32 MiB
        KdumpMemory[] m = new KdumpMemory[1];
        long allocated = allocatedWhile(() -> m[0] = KdumpFile.parse(new DumpBytes.Mapped(MemorySegment.ofArray(file))).memory());
        try (KdumpMemory memory = m[0]) {
            assertFarApartPages(memory, pages);
        }
        // The bitmaps held whole would be 32 MiB, their per-word ranks 8 MiB more.
        assertThat(allocated).as("bytes allocated opening a KDUMP file with 2^27 pages of bitmaps").isLessThan(2 << 20);
    }

    /** Bytes of the 0x55 2nd bitmap in the KDUMP file: 2^21 pages, 2^20 of them dumped, each a run of its own. */
    private static final int ALTERNATE_KDUMP_BITMAP = 256 << 10;
    /** ...and in the flattened stream, whose page_desc array can be a hole: 2^23 pages, 2^22 runs. */
    private static final int ALTERNATE_FLAT_BITMAP = 1 << 20;

    /**
     * A 2nd bitmap of 0x55 bytes (every other page dumped: four runs a byte) under a 1st bitmap of
     * 0xff (every page RAM). The runs held as two int arrays grown by doubling allocated 32 bytes
     * and more per bitmap byte; now what opening allocates is the two bitmaps and a little more.
     * The KDUMP file must hold the page_desc of each dumped page (24 bytes each), all naming one
     * stored page here.
     */
    @Test
    void aKdumpFileWhose2ndBitmapAlternatesAllocatesLittleMoreThanItsBitmaps() {
        byte[] file = alternating(ALTERNATE_KDUMP_BITMAP, false);
        KdumpMemory[] m = new KdumpMemory[1];
        long allocated = allocatedWhile(() -> m[0] = KdumpFile.parse(new DumpBytes.Mapped(MemorySegment.ofArray(file))).memory());
        try (KdumpMemory memory = m[0]) {
            assertAlternatingPages(memory, ALTERNATE_KDUMP_BITMAP);
        }
        // Both bitmaps are 512 KiB; the runs held as int pairs were 8 MiB more (and 16 MiB allocated growing them).
        assertThat(allocated).as("bytes allocated opening a KDUMP file with a 256 KiB 0x55 2nd bitmap")
                .isLessThan(2L * ALTERNATE_KDUMP_BITMAP + (128 << 10));
    }

    @Test
    void aFlattenedFileWhose2ndBitmapAlternatesAllocatesLittleMoreThanItsBitmaps() {
        byte[] file = alternating(ALTERNATE_FLAT_BITMAP, true);
        assertThat(file.length).isLessThan(2 * ALTERNATE_FLAT_BITMAP + (64 << 10));
        KdumpMemory[] m = new KdumpMemory[1];
        long allocated = allocatedWhile(() -> m[0] = KdumpFile.parse(FlattenedFile.index(MemorySegment.ofArray(file))).memory());
        try (KdumpMemory memory = m[0]) {
            assertAlternatingPages(memory, ALTERNATE_FLAT_BITMAP);
        }
        assertThat(allocated).as("bytes allocated opening a %d-byte flattened file with a 1 MiB 0x55 2nd bitmap", file.length)
                .isLessThan(2L * ALTERNATE_FLAT_BITMAP + (256 << 10));
    }

    /** The value {@link #alternating}'s one stored page holds at byte offset {@code at}. */
    private static long storedLong(int at) { return 0x5A5A_0000_0000_0000L | at; }

    /**
     * A file of {@code bitmapBytes * 8} pages whose 1st bitmap is 0xff bytes and 2nd 0x55 bytes. As a
     * KDUMP file: every page_desc names one uncompressed page after the array. As a flattened stream:
     * records for the header blocks, each bitmap, the first two page_descs and the page; the rest of
     * the page_desc array is a hole, ended by a record of its last byte.
     */
    private static byte[] alternating(int bitmapBytes, boolean flattened) {
        KdumpBytes k = new KdumpBytes(BS, 8L * bitmapBytes);
        assertThat(k.bitmapHalf()).isEqualTo(bitmapBytes);
        long dumped = 4L * bitmapBytes;
        long dataAt = k.descAt() + 24 * dumped;
        ByteBuffer page = ByteBuffer.allocate(BS).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < BS; at += 8) page.putLong(at, storedLong(at));
        ByteBuffer desc = ByteBuffer.allocate((int) (24 * (flattened ? 2 : dumped))).order(ByteOrder.LITTLE_ENDIAN);
        while (desc.hasRemaining()) desc.putLong(dataAt).putInt(BS).putInt(0).putLong(0);
        byte[] ram = new byte[bitmapBytes];
        byte[] dumpedBits = new byte[bitmapBytes];
        Arrays.fill(ram, (byte) 0xff);
        Arrays.fill(dumpedBits, (byte) 0x55);
        if (!flattened) {
            ByteBuffer f = ByteBuffer.allocate((int) (dataAt + BS));
            f.put(0, k.headerBlocks()).put((int) k.bitmapAt(), ram).put((int) (k.bitmapAt() + bitmapBytes), dumpedBits)
                    .put((int) k.descAt(), desc.array()).put((int) dataAt, page.array());
            return f.array();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(4096).put(0, "makedumpfile".getBytes(StandardCharsets.US_ASCII)).putLong(16, 1).putLong(24, 1).array());
        record(out, 0, k.headerBlocks());
        record(out, k.bitmapAt(), ram);
        record(out, k.bitmapAt() + bitmapBytes, dumpedBits);
        record(out, k.descAt(), desc.array());
        record(out, dataAt - 1, new byte[1]);
        record(out, dataAt, page.array());
        out.writeBytes(ByteBuffer.allocate(16).putLong(-1).putLong(-1).array());
        return out.toByteArray();
    }

    private static void record(ByteArrayOutputStream out, long offset, byte[] data) {
        out.writeBytes(ByteBuffer.allocate(16).putLong(offset).putLong(data.length).array());
        out.writeBytes(data);
    }

    /** {@link #alternating}'s memory: the even pages dumped, each its own range; the odd ones RAM left out. */
    private static void assertAlternatingPages(KdumpMemory memory, int bitmapBytes) {
        long runs = 4L * bitmapBytes;
        assertThat(memory.dumpedPages()).isEqualTo(runs);
        List<MemoryRange> ranges = memory.ranges();
        assertThat(ranges).hasSize((int) runs);
        for (long i : new long[] {0, 1, 4095, 4096, runs / 2 + 3, runs - 1}) {
            assertThat(ranges.get((int) i)).isEqualTo(new MemoryRange(2 * i * BS, BS));
        }
        long pages = 0;
        long previousEnd = -1;
        for (MemoryRange r : ranges) {
            // Each range one page at an even pfn, after a gap of one page.
            if (r.size() != BS || r.base() != previousEnd + 1 + (previousEnd < 0 ? 0 : BS - 1)) {
                throw new AssertionError("range " + pages + " is " + r + " after one ending at " + previousEnd);
            }
            previousEnd = r.end();
            pages++;
        }
        assertThat(pages).isEqualTo(runs);
        long lastPa = 2 * (runs - 1) * BS;
        assertThat(memory.pageState(lastPa)).isEqualTo(PageState.PRESENT);
        assertThat(memory.pageState(BS)).isEqualTo(PageState.EXCLUDED);
        assertThat(memory.pageState(lastPa + BS)).isEqualTo(PageState.EXCLUDED);
        assertThat(memory.pageState(lastPa + 2 * BS)).as("past max_mapnr").isEqualTo(PageState.NOT_RAM);
        assertThat(memory.contains(lastPa, BS)).isTrue();
        assertThat(memory.contains(lastPa, BS + 1)).isFalse();
        assertThat(memory.contains(0, 64L * BS)).as("an extent of 64 pages, counted by rank").isFalse();
        // Empty extents as MemoryRange.contains has them: inside a range or at its end, not inside a gap.
        assertThat(memory.contains(BS, 0)).as("the end of range 0").isTrue();
        assertThat(memory.contains(2 * BS + 8, 0)).isTrue();
        assertThat(memory.contains(BS + 8, 0)).as("inside the first page left out").isFalse();
        assertThat(memory.readLong(0)).isEqualTo(storedLong(0));
        assertThat(memory.readLong(2 * BS + 8)).isEqualTo(storedLong(8));
        if (bitmapBytes == ALTERNATE_KDUMP_BITMAP) assertThat(memory.readLong(lastPa + BS - 8)).isEqualTo(storedLong(BS - 8));
    }

    /** {@link #farApart}'s pages read back as their own addresses (KdumpBytes.pattern), with nothing else in the dump. */
    private static void assertFarApartPages(KdumpMemory memory, long pages) {
        long last = pages - 1;
        assertThat(memory.dumpedPages()).isEqualTo(3);
        assertThat(memory.ranges()).containsExactly(new MemoryRange(0, BS), new MemoryRange(0x40000L * BS, BS),
                new MemoryRange(last * BS, BS));
        for (long pfn : new long[] {0, 0x40000, last}) {
            long pa = pfn * BS;
            assertThat(memory.pageState(pa)).isEqualTo(PageState.PRESENT);
            assertThat(memory.readLong(pa)).isEqualTo(pa);
            assertThat(memory.readLong(pa + BS - 8)).isEqualTo(pa + BS - 8);
            assertThat(memory.contains(pa, BS)).isTrue();
        }
        assertThat(memory.pageState(0x40001L * BS)).isEqualTo(PageState.EXCLUDED);
        assertThat(memory.pageState(0x40002L * BS)).isEqualTo(PageState.NOT_RAM);
        assertThat(memory.pageState((last - 1) * BS)).isEqualTo(PageState.NOT_RAM);
        assertThat(memory.pageState(pages * BS)).as("past max_mapnr").isEqualTo(PageState.NOT_RAM);
        assertThat(memory.contains(0x40000L * BS, 2 * BS)).isFalse();
    }

    /**
     * Bytes this thread allocated while {@code open} ran, from {@code com.sun.management.ThreadMXBean}
     * (taken by reflection: the module these tests are compiled into does not read java.management).
     */
    private static long allocatedWhile(Runnable open) {
        try {
            Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            Method allocated = Class.forName("com.sun.management.ThreadMXBean").getMethod("getThreadAllocatedBytes", long.class);
            long id = Thread.currentThread().threadId();
            long before = (long) allocated.invoke(threads, id);
            open.run();
            long bytes = (long) allocated.invoke(threads, id) - before;
            System.out.printf("HostileKdumpSizeTest: %,d bytes allocated while opening%n", bytes);
            return bytes;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no per-thread allocation counter in this JVM", e);
        }
    }
}
