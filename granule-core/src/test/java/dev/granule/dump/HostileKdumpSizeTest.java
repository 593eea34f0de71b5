package dev.granule.dump;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.PageState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;

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
