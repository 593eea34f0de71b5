package dev.granule.impact;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.MapFlag;
import dev.granule.table.VaRange;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The arithmetic table count against the engine: random smaps-like mappings (clustered and
 * scattered over the 47-bit user space, sizes up to 64 MiB), analysed by {@link ImpactAnalysis}
 * and mapped page by page by {@link AddressSpace}, whose allocated tables are counted.
 */
class TableArithmeticPropertyTest {

    @Property(tries = 60)
    void arithmeticCountsTheTablesTheEngineBuilds(@ForAll("processes") List<Vma> vmas) {
        List<PageSizeImpact> byArithmetic = ImpactAnalysis.analyse(vmas);
        for (PageSizeImpact p : byArithmetic) {
            long[] engine = engineTables(vmas, p.granule());
            assertThat(new long[]{p.tableBytes(), p.tlbEntries()}).as(p.granule().label()).containsExactly(engine);
        }
    }

    @Provide
    Arbitrary<List<Vma>> processes() {
        Arbitrary<Long> start = Arbitraries.oneOf(
                Arbitraries.longs().between(0x400, 0x2000).map(p -> p << 12),                 // clustered low
                Arbitraries.longs().between(0x7f00_0000_0L, 0x7fff_ffff_0L).map(p -> p << 12), // near the top
                Arbitraries.longs().between(1, (1L << 35) - 0x10000).map(p -> p << 12));       // anywhere
        Arbitrary<Long> pages = Arbitraries.oneOf(Arbitraries.longs().between(1, 40), Arbitraries.longs().between(1, 16384));
        Arbitrary<Vma> vma = net.jqwik.api.Combinators.combine(start, pages, Arbitraries.integers().between(0, 100),
                Arbitraries.of(0L, 1234L)).as((s, n, percent, inode) -> {
            long size = n << 12;
            long rss = (size * percent / 100) & -4096L;
            return new Vma(s, s + size, "rw-p", inode, inode == 0 ? "" : "/lib/x.so", rss, inode == 0 ? rss : 0);
        });
        return vma.list().ofMinSize(1).ofMaxSize(12);
    }

    /** The resident ranges the analysis estimates, mapped with the engine: table bytes (PGD as pgd_alloc takes it) and leaves. */
    static long[] engineTables(List<Vma> vmas, Granule granule) {
        Geometry g = Geometry.of(granule, 48, 48);
        long page = g.pageSize();
        List<long[]> ranges = new ArrayList<>();
        for (Vma v : vmas) {
            long s = v.start() & -page, e = (v.end() + page - 1) & -page;
            long res = Math.min((v.rssBytes() + page - 1) & -page, e - s);
            if (res > 0) ranges.add(new long[]{s, s + res});
        }
        ranges.sort(java.util.Comparator.comparingLong(r -> r[0]));
        try (SparseMemory memory = SparseMemory.confinedOfPaBits(48)) {
            FrameAllocator frames = FrameAllocator.over(memory, page, new MemoryRange(0xFF00_0000_0000L, 1L << 36));
            AddressSpace space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
            long mappedUpTo = 0, leaves = 0;
            for (long[] r : ranges) {
                long s = Math.max(r[0], mappedUpTo); // overlapping estimates: map each page once
                if (s >= r[1]) continue;
                space.map(s, s, r[1] - s, Attributes.userData(), EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
                leaves += (r[1] - s) / page;
                mappedUpTo = Math.max(mappedUpTo, r[1]);
            }
            return new long[]{space.tableBytes() - page + ImpactAnalysis.pgdBytes(g), leaves};
        }
    }
}
