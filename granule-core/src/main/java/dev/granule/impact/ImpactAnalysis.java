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

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;

/**
 * The cost of one process's memory map at 4K, 16K and 64K pages.
 *
 * <p>The model, stated so a reader can judge it:
 * <ul>
 *   <li>Virtual size: every mapping rounded out to the page size; pages that rounding makes two
 *       mappings of the same class share are counted once.
 *   <li>Resident size, exact ({@link #analyseExact}, from /proc/PID/pagemap): every resident base
 *       page makes the larger page around it resident, so the resident set is the pagemap's
 *       resident pages rounded out to the page size. Pages are file or anonymous as their mapping
 *       is (by inode), like the virtual size.
 *   <li>Resident size, estimated ({@link #analyse}, from smaps Rss and Anonymous only): the resident
 *       bytes rounded up to the page size, at most the rounded mapping — the touched bytes are
 *       assumed clustered at the mapping's start. Scattered touches cost more, which only the
 *       exact analysis sees.
 *   <li>Page tables: the resident ranges are mapped with pages only (Linux maps user memory with
 *       PTEs unless THP applies) in a 48-bit address space of that granule, and the tables the
 *       engine allocates are counted; TLB entries are the leaves. The top-level table is counted
 *       as arm64's {@code pgd_alloc} allocates it ({@link #pgdBytes}).
 * </ul>
 */
public final class ImpactAnalysis {

    public static final List<Granule> GRANULES = List.of(Granule.FOUR_K, Granule.SIXTEEN_K, Granule.SIXTY_FOUR_K);

    /**
     * Largest resident set one process may claim: its tables are built in memory (512 MiB of PTEs
     * at 4K for this much), so a corrupt or hostile smaps cannot make the analysis run for hours.
     */
    public static final long MAX_RESIDENT_PER_PROCESS = 1L << 38;

    private ImpactAnalysis() {}

    /** Resident sizes estimated from smaps Rss/Anonymous. */
    public static List<PageSizeImpact> analyse(List<Vma> vmas) {
        List<PageSizeImpact> out = new ArrayList<>();
        for (Granule g : GRANULES) out.add(analyse(vmas, null, g));
        return out;
    }

    /**
     * Exact resident sizes: {@code residentRuns.get(i)} are the resident byte ranges of
     * {@code vmas.get(i)} as {@link Pagemap#residentRuns} gives them.
     */
    public static List<PageSizeImpact> analyseExact(List<Vma> vmas, List<long[]> residentRuns) {
        if (residentRuns.size() != vmas.size()) {
            throw new IllegalArgumentException("one list of resident runs per mapping: " + residentRuns.size()
                    + " for " + vmas.size() + " mappings");
        }
        List<PageSizeImpact> out = new ArrayList<>();
        for (Granule g : GRANULES) out.add(analyse(vmas, residentRuns, g));
        return out;
    }

    /** Sums per-process results (each process has its own tables). */
    public static List<PageSizeImpact> total(List<List<PageSizeImpact>> perProcess) {
        List<PageSizeImpact> sum = new ArrayList<>();
        for (Granule g : GRANULES) sum.add(new PageSizeImpact(g, 0, 0, 0, 0, 0, 0, 0));
        for (List<PageSizeImpact> p : perProcess) {
            for (int i = 0; i < sum.size(); i++) sum.set(i, sum.get(i).plus(p.get(i)));
        }
        return sum;
    }

    static PageSizeImpact analyse(List<Vma> vmas, List<long[]> exact, Granule granule) {
        long page = granule.pageSize();
        List<long[]> file = new ArrayList<>(), anon = new ArrayList<>();
        List<long[]> residentFileRanges = new ArrayList<>(), residentAnonRanges = new ArrayList<>();
        List<long[]> estimatedAnonRanges = new ArrayList<>();
        for (int i = 0; i < vmas.size(); i++) {
            Vma v = vmas.get(i);
            if (Long.compareUnsigned(v.end(), 1L << 48) > 0) continue; // not a user address an arm64 48-bit VA holds
            long s = v.start() & -page;
            long e = (v.end() + page - 1) & -page;
            (v.fileBacked() ? file : anon).add(new long[]{s, e});
            if (exact != null) {
                long[] runs = exact.get(i);
                for (int r = 0; r + 1 < runs.length; r += 2) {
                    (v.fileBacked() ? residentFileRanges : residentAnonRanges)
                            .add(new long[]{runs[r] & -page, (runs[r + 1] + page - 1) & -page});
                }
            } else {
                // Rss from the mapping's start, its Anonymous part first; two mappings that share a
                // large page after rounding share its residency too (merged below).
                long res = Math.min((v.rssBytes() + page - 1) & -page, e - s);
                long anonPart = Math.min((v.anonBytes() + page - 1) & -page, res);
                if (anonPart > 0) estimatedAnonRanges.add(new long[]{s, s + anonPart});
                if (res > 0) (v.fileBacked() ? residentFileRanges : residentAnonRanges).add(new long[]{s, s + res});
            }
        }
        List<long[]> all = new ArrayList<>(residentFileRanges);
        all.addAll(residentAnonRanges);
        List<long[]> merged = merge(all);
        if (length(merged) > MAX_RESIDENT_PER_PROCESS) {
            throw new IllegalArgumentException(String.format("the mappings claim %d GiB resident; the analysis builds tables"
                    + " for at most %d GiB per process (is the smaps file corrupt?)", length(merged) >> 30,
                    MAX_RESIDENT_PER_PROCESS >> 30));
        }
        long residentAnon = length(merge(exact != null ? residentAnonRanges : estimatedAnonRanges));
        long residentFile = exact != null ? length(merge(residentFileRanges)) : length(merged) - residentAnon;
        long[] tables = tables(merged, granule);
        return new PageSizeImpact(granule, length(merge(file)), length(merge(anon)), residentFile, residentAnon,
                tables[0], tables[1], bestCaseEntries(merged, Geometry.of(granule, 48, 48)));
    }

    private static long[] tables(List<long[]> ranges, Granule granule) {
        Geometry g = Geometry.of(granule, 48, 48);
        // Output addresses equal the (user, below 2^47) VAs; the tables live at the top of the 48-bit PA space.
        try (SparseMemory memory = SparseMemory.confinedOfPaBits(48)) {
            FrameAllocator frames = FrameAllocator.over(memory, g.pageSize(), new MemoryRange(0xFF00_0000_0000L, 1L << 36));
            AddressSpace space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
            for (long[] r : ranges) {
                space.map(r[0], r[0], r[1] - r[0], Attributes.userData(),
                        EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
            }
            // Pages only: every mapped page is one leaf, so the leaves need no walk to count.
            long leaves = 0;
            for (long[] r : ranges) leaves += (r[1] - r[0]) >>> g.pageShift();
            // The engine gives the root a whole page; Linux does only when PGD_SIZE == PAGE_SIZE.
            return new long[]{space.tableBytes() - g.pageSize() + pgdBytes(g), leaves};
        }
    }

    /**
     * Bytes of one process's top-level table as arm64's {@code pgd_alloc} (arch/arm64/mm/pgd.c)
     * allocates it: a whole page when {@code PGD_SIZE == PAGE_SIZE}, otherwise a {@code PGD_SIZE}
     * object from the {@code pgd_cache} slab, where {@code PGD_SIZE = PTRS_PER_PGD * sizeof(pgd_t)}
     * (16 bytes at 16K/48-bit, 512 bytes at 64K/48-bit).
     */
    public static long pgdBytes(Geometry g) {
        long pgdSize = (long) g.ptrsPerPgd() * g.descriptorBytes();
        return pgdSize == g.pageSize() ? g.pageSize() : pgdSize;
    }

    /**
     * TLB entries for {@code ranges} (identity-mapped, so VA and PA align alike) if each is covered
     * greedily by the largest aligned leaf that fits: blocks and Contiguous runs of blocks or pages
     * ({@link Geometry#contiguousEntries}), as the engine maps without MapFlags. One entry each: a
     * Contiguous run is one TLB entry on CPUs that use the hint.
     */
    static long bestCaseEntries(List<long[]> ranges, Geometry g) {
        List<Long> sizes = new ArrayList<>();
        for (int level = g.startLevel(); level <= 3; level++) {
            if (level < 3 && !g.blockAllowed(level)) continue;
            int run = g.contiguousEntries(level);
            if (run > 1) sizes.add(g.entrySpan(level) * run);
            sizes.add(g.entrySpan(level));
        }
        sizes.sort(Comparator.reverseOrder());
        long entries = 0;
        for (long[] r : ranges) {
            long p = r[0];
            while (p < r[1]) {
                for (long size : sizes) {
                    if ((p & (size - 1)) == 0 && r[1] - p >= size) {
                        p += size;
                        entries++;
                        break;
                    }
                }
            }
        }
        return entries;
    }

    private static List<long[]> merge(List<long[]> ranges) {
        ranges.sort(Comparator.comparingLong(r -> r[0]));
        List<long[]> out = new ArrayList<>();
        for (long[] r : ranges) {
            if (!out.isEmpty() && out.getLast()[1] >= r[0]) out.getLast()[1] = Math.max(out.getLast()[1], r[1]);
            else out.add(new long[]{r[0], r[1]});
        }
        return out;
    }

    private static long length(List<long[]> ranges) {
        long n = 0;
        for (long[] r : ranges) n += r[1] - r[0];
        return n;
    }
}
