package dev.granule.impact;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;

import java.util.ArrayList;
import java.util.Comparator;
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
 *   <li>Page tables: the resident ranges mapped with pages only (Linux maps user memory with
 *       PTEs unless THP applies) in a 48-bit address space of that granule. The tables are
 *       counted by arithmetic over table-index spans ({@link #tables}): a table at level L exists
 *       for each distinct VA >> shift(L - 1) of a resident page, so the time follows the number of
 *       ranges, not of pages, and a TiB process costs what a MiB one does. The tests build the
 *       same tables with the engine and compare. TLB entries are the leaves. The top-level table
 *       is counted as arm64's {@code pgd_alloc} allocates it ({@link #pgdBytes}).
 * </ul>
 */
public final class ImpactAnalysis {

    public static final List<Granule> GRANULES = List.of(Granule.FOUR_K, Granule.SIXTEEN_K, Granule.SIXTY_FOUR_K);

    private ImpactAnalysis() {}

    /** The geometries of {@link #GRANULES} with a 48-bit VA and PA: the defaults when no boot command line is given. */
    public static final List<Geometry> DEFAULT_GEOMETRIES = GRANULES.stream().map(g -> Geometry.of(g, 48, 48)).toList();

    /** Resident sizes estimated from smaps Rss/Anonymous. */
    public static List<PageSizeImpact> analyse(List<Vma> vmas) {
        return analyse(vmas, DEFAULT_GEOMETRIES);
    }

    /** The same for each of {@code geometries} (e.g. from boot command lines). */
    public static List<PageSizeImpact> analyse(List<Vma> vmas, List<Geometry> geometries) {
        List<PageSizeImpact> out = new ArrayList<>();
        for (Geometry g : geometries) out.add(analyse(vmas, null, g));
        return out;
    }

    /**
     * Exact resident sizes: {@code residentRuns.get(i)} are the resident byte ranges of
     * {@code vmas.get(i)} as {@link Pagemap#residentRuns} gives them.
     */
    public static List<PageSizeImpact> analyseExact(List<Vma> vmas, List<long[]> residentRuns) {
        return analyseExact(vmas, residentRuns, DEFAULT_GEOMETRIES);
    }

    public static List<PageSizeImpact> analyseExact(List<Vma> vmas, List<long[]> residentRuns, List<Geometry> geometries) {
        if (residentRuns.size() != vmas.size()) {
            throw new IllegalArgumentException("one list of resident runs per mapping: " + residentRuns.size()
                    + " for " + vmas.size() + " mappings");
        }
        List<PageSizeImpact> out = new ArrayList<>();
        for (Geometry g : geometries) out.add(analyse(vmas, residentRuns, g));
        return out;
    }

    /**
     * Per geometry, the user mappings the analysis leaves out because they lie above what its VA
     * size holds (a process laid out for 47 or 48 bits analysed at 39): {mappings, virtual bytes}.
     * Only the lower half counts; an upper-half mapping such as x86-64's [vsyscall] page is not a
     * user address on arm64 at any size.
     */
    public static long[][] beyondVa(List<Vma> vmas, List<Geometry> geometries) {
        long[][] beyond = new long[geometries.size()][2];
        for (Vma v : vmas) {
            if (v.end() < 0) continue;   // the upper half (end above 2^63)
            for (int i = 0; i < geometries.size(); i++) {
                if (Long.compareUnsigned(v.end(), 1L << geometries.get(i).vaBits()) > 0) {
                    beyond[i][0]++;
                    beyond[i][1] += v.size();
                }
            }
        }
        return beyond;
    }

    /** Sums per-process results (each process has its own tables). */
    public static List<PageSizeImpact> total(List<List<PageSizeImpact>> perProcess) {
        return total(perProcess, DEFAULT_GEOMETRIES);
    }

    public static List<PageSizeImpact> total(List<List<PageSizeImpact>> perProcess, List<Geometry> geometries) {
        List<PageSizeImpact> sum = new ArrayList<>();
        for (Geometry g : geometries) sum.add(new PageSizeImpact(g.granule(), 0, 0, 0, 0, 0, 0, 0));
        for (List<PageSizeImpact> p : perProcess) {
            for (int i = 0; i < sum.size(); i++) sum.set(i, sum.get(i).plus(p.get(i)));
        }
        return sum;
    }

    static PageSizeImpact analyse(List<Vma> vmas, List<long[]> exact, Geometry geometry) {
        Granule granule = geometry.granule();
        long page = granule.pageSize();
        List<long[]> file = new ArrayList<>(), anon = new ArrayList<>();
        List<long[]> residentFileRanges = new ArrayList<>(), residentAnonRanges = new ArrayList<>();
        List<long[]> estimatedAnonRanges = new ArrayList<>();
        for (int i = 0; i < vmas.size(); i++) {
            Vma v = vmas.get(i);
            if (Long.compareUnsigned(v.end(), 1L << geometry.vaBits()) > 0) continue; // not a user address this VA size holds
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
        long residentAnon = length(merge(exact != null ? residentAnonRanges : estimatedAnonRanges));
        long residentFile = exact != null ? length(merge(residentFileRanges)) : length(merged) - residentAnon;
        long[] tables = tables(merged, geometry);
        return new PageSizeImpact(granule, length(merge(file)), length(merge(anon)), residentFile, residentAnon,
                tables[0], tables[1], bestCaseEntries(merged, geometry));
    }

    /**
     * Table bytes and leaves for {@code ranges} (sorted, disjoint, page-aligned) mapped with pages
     * only, by arithmetic: the tables at level L below the root are the distinct values of
     * {@code va >> shift(L - 1)} over the mapped pages. Each range contributes its span of indexes;
     * a range whose first index equals the previous range's last shares that table. Exact, and
     * linear in the number of ranges.
     */
    static long[] tables(List<long[]> ranges, Geometry g) {
        long bytes = pgdBytes(g); // every process has one, mapped or not
        for (int level = g.startLevel() + 1; level <= 3; level++) {
            int shift = g.shift(level - 1);
            long tables = 0, lastIndex = -1;
            for (long[] r : ranges) {
                long first = r[0] >>> shift, last = (r[1] - 1) >>> shift;
                tables += last - first + 1;
                if (first == lastIndex) tables--;
                lastIndex = last;
            }
            bytes += tables * g.tableBytes(level);
        }
        long leaves = 0;
        for (long[] r : ranges) leaves += (r[1] - r[0]) >>> g.pageShift();
        return new long[]{bytes, leaves};
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
