package dev.granule.dump;

import dev.granule.memory.PageNotInDumpException;
import dev.granule.memory.PageState;
import dev.granule.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link KdumpMemory}'s page cache and bitmap answers over more pages than the cache holds, read
 * in orders that make pages of one cache set evict each other; every value is checked against
 * what {@link KdumpBytes} wrote (each word is its own PA), and every {@code contains} against the
 * writer's own set of dumped pages.
 */
class KdumpPageCacheTest {

    private static final int BS = 4096;
    private static final long BASE = 0x40000;
    /** Three times the pages the cache holds at 4K (8 MiB / 4 KiB = 2,048), so every set overflows. */
    private static final int PAGES = 3 * (KdumpMemory.CACHE_BYTES / BS);

    @Test
    void pagesThatShareACacheSetReadBackAsWrittenInAnyOrder() {
        KdumpBytes k = new KdumpBytes(BS, BASE + PAGES + 64);
        TreeSet<Long> dumped = new TreeSet<>();
        int[] codecs = {0, KdumpBytes.ZLIB, KdumpBytes.LZO, KdumpBytes.SNAPPY, KdumpBytes.ZSTD};
        for (long p = 0; p < PAGES; p++) {
            long pfn = BASE + p;
            if (p % 97 == 5) {
                k.excluded.add(pfn);
                continue;
            }
            k.page(pfn, k.pattern(pfn, 0), codecs[(int) (p % codecs.length)]);
            dumped.add(pfn);
        }
        byte[] file = k.build();
        try (PhysicalMemory m = KdumpFile.parse(new DumpBytes.Mapped(MemorySegment.ofArray(file))).memory()) {
            int sets = KdumpMemory.CACHE_BYTES / BS / 2;
            // Three pages per set in turn (pfn, pfn + sets, pfn + 2 sets), three rounds: hits, misses and evictions.
            for (int round = 0; round < 3; round++) {
                for (long p = 0; p < sets; p++) {
                    for (int way = 0; way < 3; way++) checkPage(m, dumped, BASE + p + (long) way * sets, p * 8 % BS);
                }
            }
            SplittableRandom r = new SplittableRandom(18);
            for (int i = 0; i < 20_000; i++) checkPage(m, dumped, BASE + r.nextLong(PAGES), r.nextLong(BS / 8) * 8);
            // contains() of tables and reads up to a few pages, against the writer's dumped set.
            for (int i = 0; i < 20_000; i++) {
                long pa = (BASE << 12) + r.nextLong((long) PAGES * BS) - BS;
                long length = 1 + r.nextLong(5L * BS);
                boolean all = true;
                for (long pfn = pa >>> 12; pfn <= (pa + length - 1) >>> 12; pfn++) all &= dumped.contains(pfn);
                assertThat(m.contains(pa, length)).as("contains(%#x, %d)", pa, length).isEqualTo(all);
            }
        }
    }

    private static void checkPage(PhysicalMemory m, TreeSet<Long> dumped, long pfn, long offset) {
        long pa = pfn * BS + offset;
        if (dumped.contains(pfn)) {
            assertThat(m.readLong(pa)).isEqualTo(pa);
            assertThat(m.pageState(pa)).isEqualTo(PageState.PRESENT);
        } else {
            assertThat(m.pageState(pa)).isEqualTo(PageState.EXCLUDED);
            assertThatThrownBy(() -> m.readLong(pa)).isInstanceOf(PageNotInDumpException.class);
        }
    }
}
