package dev.granule.dump;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.GeometryException;
import dev.granule.geometry.Granule;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.Mapping;
import dev.granule.table.TableWalker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the geometry of a kernel's TTBR1 tables when the dump does not say (no VMCOREINFO): every
 * candidate page size and VA size is tried on the given root, and a candidate validates only if
 * its walk looks like a Linux kernel's tables:
 * <ol>
 *   <li>the root table lies in dumped RAM;
 *   <li>the walk ends within a descriptor budget (garbage read as tables fans out);
 *   <li>no table descriptor points outside RAM (a wrong geometry reads leaves as tables);
 *   <li>the root page has no entries past the ones the candidate reads (tables built for a wider VA);
 *   <li>one VA-to-PA offset maps at least three quarters of RAM: the linear map, which Linux builds over all
 *       of memory; a wrong geometry scatters leaves over unrelated offsets;
 *   <li>every address the caller expects mapped ({@link Options#expect}) translates as expected.
 * </ol>
 * Geometries with the same number of levels read the same tables alike and differ only in where
 * they put them in the VA space; {@link #RANKING} orders the valid ones, and the result says when
 * the choice came down to the last tie-break, so that a user can pin the VA size or give an
 * expected address.
 */
public final class GeometrySearch {

    /** Linux's VA sizes per page size (CONFIG_ARM64_VA_BITS choices). */
    static final Map<Granule, int[]> LINUX_VA_BITS = Map.of(
            Granule.FOUR_K, new int[] {39, 48, 52},
            Granule.SIXTEEN_K, new int[] {36, 47, 48, 52},
            Granule.SIXTY_FOUR_K, new int[] {42, 48, 52});

    /**
     * Share of RAM the linear map must cover. Linux maps all memory there except no-map firmware
     * carve-outs; a wrong geometry that happens to read one real table lands near 1/2 or less.
     */
    static final double MIN_LINEAR_COVERAGE = 0.75;

    /** Descriptor reads one candidate's walk may spend. */
    public static final long READ_BUDGET = 1L << 22;

    /**
     * What is known. {@code pageSize} and {@code vaBits} of 0 mean "try all"; the root comes from
     * {@code rootPa} if it is not negative, else from {@code ttbr1} (decoded per candidate, as the
     * 52-bit BADDR form depends on the geometry).
     */
    public record Options(long pageSize, int vaBits, long rootPa, long ttbr1, List<Expectation> expect) {
        public Options {
            expect = List.copyOf(expect);
        }
    }

    /** A VA the kernel maps, and the PA it maps to if known (-1: anywhere in RAM). */
    public record Expectation(long va, long pa) {}

    /** One candidate's result. */
    public record Candidate(Geometry geometry, long rootPa, boolean valid, List<String> reasons, long leaves,
                            long linearOffset, double linearCoverage, boolean linearAtPageOffset, boolean topEntryUsed) {}

    public record Result(List<Candidate> candidates, Optional<KernelTables> chosen, boolean ambiguous) {}

    /**
     * Among valid candidates: the root's last entry in use (fixmap), then the linear map at
     * PAGE_OFFSET, then the larger linear map; what still ties is read alike by every candidate, and
     * the smallest VA is taken, since a table built for a wider VA would put the kernel image in
     * entries past the smaller reading (which fails the "entries past the root" check).
     */
    static final Comparator<Candidate> RANKING_BEFORE_VA = Comparator.comparing(Candidate::topEntryUsed).reversed()
            .thenComparing(Comparator.comparing(Candidate::linearAtPageOffset).reversed())
            .thenComparing(Comparator.comparingDouble(Candidate::linearCoverage).reversed());
    static final Comparator<Candidate> RANKING = RANKING_BEFORE_VA
            .thenComparingInt((Candidate c) -> c.geometry().vaBits());

    private GeometrySearch() {}

    public static Result search(PhysicalMemory memory, Options options) {
        if (options.rootPa() < 0 && options.ttbr1() == -1) {
            throw new IllegalArgumentException("without VMCOREINFO the root table is needed: give --root PA or --ttbr1 VALUE");
        }
        List<Candidate> out = new ArrayList<>();
        for (Granule granule : Granule.values()) {
            if (options.pageSize() != 0 && granule.pageSize() != options.pageSize()) continue;
            int[] sizes = options.vaBits() != 0 ? new int[] {options.vaBits()} : LINUX_VA_BITS.get(granule);
            for (int va : sizes) {
                int pa = va == 52 ? 52 : 48;
                Geometry g;
                try {
                    g = Geometry.of(granule, va, pa);
                } catch (GeometryException e) {
                    out.add(new Candidate(null, -1, false, List.of(granule.label() + "/" + va + ": " + e.getMessage()),
                            0, 0, 0, false, false));
                    continue;
                }
                long root = options.rootPa() >= 0 ? options.rootPa() : KernelTables.rootFromTtbr(g, options.ttbr1());
                out.add(evaluate(memory, g, root, options.expect()));
            }
        }
        List<Candidate> valid = out.stream().filter(Candidate::valid).sorted(RANKING).toList();
        Optional<KernelTables> chosen = valid.stream().findFirst().map(c -> new KernelTables(c.geometry(), c.rootPa(),
                List.of(String.format("geometry %s found by trying candidates on root %#x: %s", c.geometry().label(),
                        c.rootPa(), String.join("; ", c.reasons())))));
        boolean ambiguous = valid.size() > 1 && RANKING_BEFORE_VA.compare(valid.get(0), valid.get(1)) == 0;
        return new Result(out, chosen, ambiguous);
    }

    static Candidate evaluate(PhysicalMemory memory, Geometry g, long root, List<Expectation> expect) {
        List<String> reasons = new ArrayList<>();
        boolean ok = true;
        int start = g.startLevel();
        if ((root & (Math.min(g.tableBytes(start), 64) - 1)) != 0 || !memory.contains(root, g.tableBytes(start))) {
            reasons.add(String.format("root table [%#x, +%d) is not an aligned table in dumped RAM", root, g.tableBytes(start)));
            return new Candidate(g, root, false, reasons, 0, 0, 0, false, false);
        }
        long tail = nonZeroEntriesPastRoot(memory, g, root);
        if (tail > 0) {
            ok = false;
            reasons.add(tail + " non-zero entries follow the " + g.entries(start)
                    + "-entry root table in its page: tables built for a wider VA");
        }
        TableWalker walker = TableWalker.of(g, memory, root, dev.granule.table.VaRange.UPPER);
        walker.setReadLimit(READ_BUDGET);
        long[] unreadable = {0};
        long ram = 0;
        for (MemoryRange r : memory.ranges()) ram += r.size();
        Map<Long, Long> byOffset = new HashMap<>();
        long[] leaves = {0};
        walker.walk(walker.firstVa(), walker.lastVa(), new dev.granule.table.LeafVisitor() {
            @Override
            public boolean leaf(long va, int level, dev.granule.format.Descriptor d) {
                leaves[0]++;
                long pa = walker.format().outputAddress(d, level);
                long size = g.entrySpan(level);
                if (memory.contains(pa, size)) byOffset.merge(va - pa, size, Long::sum);
                return true;
            }

            @Override
            public void unreadableTable(long va, int level, long tableAddress) {
                unreadable[0]++;
            }
        });
        if (walker.truncated()) {
            ok = false;
            reasons.add("walk exceeded " + READ_BUDGET + " descriptor reads: not tables of this geometry");
        }
        if (unreadable[0] > 0) {
            ok = false;
            reasons.add(unreadable[0] + " table descriptors point outside dumped RAM");
        }
        if (leaves[0] == 0) {
            ok = false;
            reasons.add("no leaf maps anything");
        }
        long bestOffset = 0;
        long bestBytes = 0;
        for (var e : byOffset.entrySet()) {
            if (e.getValue() > bestBytes) {
                bestBytes = e.getValue();
                bestOffset = e.getKey();
            }
        }
        double coverage = ram == 0 ? 0 : (double) bestBytes / ram;
        if (coverage < MIN_LINEAR_COVERAGE) {
            ok = false;
            reasons.add(String.format("no linear map: the most common VA-PA offset maps %.1f%% of RAM (a kernel's maps all of it)",
                    100 * coverage));
        } else {
            reasons.add(String.format("linear map VA = PA + %#x covers %.1f%% of RAM", bestOffset, 100 * coverage));
        }
        // Where the linear map's lowest RAM address lands: PAGE_OFFSET is the first VA of the half.
        long lowestRam = memory.ranges().isEmpty() ? 0 : memory.ranges().getFirst().base();
        long linearStart = lowestRam + bestOffset;
        boolean atPageOffset = coverage >= MIN_LINEAR_COVERAGE && linearStart == walker.firstVa();
        for (Expectation x : expect) {
            Optional<Mapping> m = walker.lookup(x.va());
            if (m.isEmpty()) {
                ok = false;
                reasons.add(String.format("expected VA %#x is not mapped", x.va()));
            } else if (x.pa() >= 0 ? m.get().translate(x.va()) != x.pa() : !memory.contains(m.get().translate(x.va()), 1)) {
                ok = false;
                reasons.add(String.format("expected VA %#x translates to %#x, not %s", x.va(), m.get().translate(x.va()),
                        x.pa() >= 0 ? String.format("%#x", x.pa()) : "RAM"));
            }
        }
        if (ok) reasons.add(leaves[0] + " leaves, every table in RAM");
        // Linux puts the fixmap and the end of vmemmap at the top of the kernel half: its root
        // table's last entry is in use, which a reading with too wide a VA does not see.
        boolean top = (memory.readLong(root + (g.entries(start) - 1L) * g.descriptorBytes()) & 1) != 0;
        return new Candidate(g, root, ok, reasons, leaves[0], bestOffset, coverage, atPageOffset, top);
    }

    /** Non-zero 8-byte words in the root's page after the start-level table, when that table is smaller than a page. */
    private static long nonZeroEntriesPastRoot(PhysicalMemory memory, Geometry g, long root) {
        long tableBytes = g.tableBytes(g.startLevel());
        long pageEnd = (root | (g.pageSize() - 1)) + 1;
        long count = 0;
        for (long pa = root + tableBytes; pa < pageEnd; pa += 8) {
            if (!memory.contains(pa, 8)) break;
            if (memory.readLong(pa) != 0) count++;
        }
        return count;
    }
}
