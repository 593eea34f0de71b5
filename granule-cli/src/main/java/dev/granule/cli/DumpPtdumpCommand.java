package dev.granule.cli;

import dev.granule.dump.KernelDump;
import dev.granule.dump.VmcoreInfo;
import dev.granule.geometry.Geometry;
import dev.granule.table.Ptdump;
import dev.granule.table.TableWalker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import dev.granule.memory.PageState;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code granule dump ptdump FILE}: the dumped kernel's TTBR1 mappings, one line per run of leaves
 * adjacent in VA and PA with equal attributes, with the kernel's region markers, like Linux's
 * arm64 ptdump ({@code /sys/kernel/debug/kernel_page_tables}).
 */
@Command(name = "ptdump",
        footerHeading = "%nExample:%n",
        footer = {"  granule dump ptdump vmcore.elf"}, mixinStandardHelpOptions = true,
        description = "List the dumped kernel's mappings (ranges, sizes, levels, attributes) like Linux's arm64 ptdump.")
final class DumpPtdumpCommand implements Callable<Integer> {

    /** The scan walks the VA space in this many slices, so that progress can be shown and a budget kept. */
    static final int SLICES = 4096;

    @Mixin
    DumpSourceOptions source = new DumpSourceOptions();

    @Option(names = "--from", paramLabel = "VA", converter = AddressConverter.class, description = "First VA to list (default: PAGE_OFFSET).")
    Long from;

    @Option(names = "--to", paramLabel = "VA", converter = AddressConverter.class, description = "Last VA to list (default: the top).")
    Long to;

    @Option(names = "--read-limit", paramLabel = "N",
            description = "Stop after reading N descriptors (hostile or corrupt tables can fan out). Default: ${DEFAULT-VALUE}.")
    long readLimit = 1L << 26;

    @Option(names = "--progress", paramLabel = "WHEN",
            description = "Progress bar on stderr: auto (when stderr is a terminal), always, never. Default: ${DEFAULT-VALUE}.")
    Progress.ProgressMode progress = Progress.ProgressMode.auto;

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (readLimit <= 0) throw new UserException("--read-limit must be positive, was " + readLimit);
        PrintWriter out = spec.commandLine().getOut();
        try (KernelDump dump = source.open()) {
            Geometry g = dump.geometry();
            TableWalker walker = dump.kernelWalker();
            long first = from == null ? walker.firstVa() : from;
            long last = to == null ? walker.lastVa() : to;
            if (!walker.covers(first) || !walker.covers(last) || Long.compareUnsigned(first, last) > 0) {
                throw new UserException(String.format("--from/--to must be kernel addresses in [%#x, %#x], from <= to",
                        walker.firstVa(), walker.lastVa()));
            }
            NavigableMap<Long, String> markers = markers(dump, walker);
            out.printf("# %s, root %s%s%n", g.label(), Units.hex(dump.tables().rootPa()),
                    dump.vmcoreInfo().flatMap(VmcoreInfo::osRelease).map(r -> ", Linux " + r).orElse(""));
            long slice = Long.divideUnsigned(last - first, SLICES) + 1;
            slice = Math.max(g.pageSize(), (slice + g.pageSize() - 1) & -g.pageSize());
            long reads = 0;
            long lines = 0;
            long mapped = 0;
            long unseen = 0;
            boolean truncated = false;
            Ptdump.Range open = null;
            try (Progress bar = Progress.of("ptdump", SLICES, progress)) {
                long sliceFirst = first;
                while (true) {
                    long sliceLast = Long.compareUnsigned(last - sliceFirst, slice - 1) <= 0 ? last : sliceFirst + slice - 1;
                    walker.setReadLimit(readLimit - reads);
                    List<Ptdump.Unseen> unseenHere = new ArrayList<>();
                    List<Ptdump.Range> ranges = Ptdump.ranges(walker, sliceFirst, sliceLast, unseenHere);
                    int u = 0;
                    for (Ptdump.Range r : ranges) {
                        // Spans the walk could not see come out in VA order among the ranges.
                        while (u < unseenHere.size() && Long.compareUnsigned(unseenHere.get(u).va(), r.va()) < 0) {
                            if (open != null) {
                                printMarkers(out, markers, open.va());
                                print(out, g, open);
                                lines++;
                                open = null;
                            }
                            printUnseen(out, dump, markers, unseenHere.get(u++));
                            unseen++;
                        }
                        if (open != null && joins(open, r)) {
                            open = new Ptdump.Range(open.va(), r.lastVa(), open.pa(), open.level(), open.contiguous(),
                                    open.attributes(), open.leaves() + r.leaves());
                        } else {
                            if (open != null) {
                                printMarkers(out, markers, open.va());
                                print(out, g, open);
                                lines++;
                            }
                            open = r;
                        }
                        mapped += r.size();
                    }
                    if (u < unseenHere.size() && open != null) {
                        printMarkers(out, markers, open.va());
                        print(out, g, open);
                        lines++;
                        open = null;
                    }
                    while (u < unseenHere.size()) {
                        printUnseen(out, dump, markers, unseenHere.get(u++));
                        unseen++;
                    }
                    reads += walker.descriptorsRead();
                    bar.step(1);
                    bar.message(Units.approx(mapped) + " mapped");
                    if (walker.truncated()) {
                        truncated = true;
                        break;
                    }
                    if (sliceLast == last) break;
                    sliceFirst = sliceLast + 1;
                }
            }
            if (open != null) {
                printMarkers(out, markers, open.va());
                print(out, g, open);
                lines++;
            }
            printMarkers(out, markers, last);
            out.printf("# %d ranges, %s mapped, %d descriptors read%n", lines, Units.approx(mapped), reads);
            if (unseen > 0) {
                out.printf("# %d spans not seen: their tables are not in the dump or not RAM (marked \"not seen\" above)%n", unseen);
            }
            if (truncated) {
                out.printf("# stopped at the read limit of %d descriptors: the tables fan out more than a kernel's; raise --read-limit to go on%n",
                        readLimit);
            }
        }
        out.flush();
        return 0;
    }

    private static void printUnseen(PrintWriter out, KernelDump dump, NavigableMap<Long, String> markers, Ptdump.Unseen u) {
        printMarkers(out, markers, u.va());
        Geometry g = dump.geometry();
        boolean excluded = dump.memory().pageState(u.tablePa()) == PageState.EXCLUDED;
        out.printf("0x%016x-0x%016x %9s not seen: the level %d (%s) table at PA %#x %s%n", u.va(), u.lastVa() + 1,
                Units.approx(u.size()), u.tableLevel(), g.linuxLevelName(u.tableLevel()), u.tablePa(),
                excluded ? "is not in the dump" : "is not RAM");
    }

    private static boolean joins(Ptdump.Range a, Ptdump.Range b) {
        return a.level() == b.level() && a.contiguous() == b.contiguous() && a.lastVa() + 1 == b.va()
                && a.pa() + a.size() == b.pa() && a.attributes().equals(b.attributes());
    }

    private static void print(PrintWriter out, Geometry g, Ptdump.Range r) {
        out.printf("0x%016x-0x%016x %9s %-3s %s %s  -> 0x%013x  %s%n", r.va(), r.lastVa() + 1, Units.approx(r.size()),
                g.linuxLevelName(r.level()), r.level() == 3 ? "   " : "BLK", r.contiguous() ? "CON" : "   ", r.pa(),
                r.attributes().summary());
    }

    private static void printMarkers(PrintWriter out, NavigableMap<Long, String> markers, long upTo) {
        while (!markers.isEmpty() && Long.compareUnsigned(markers.firstKey(), upTo) <= 0) {
            out.printf("---[ %s ]---%n", markers.pollFirstEntry().getValue());
        }
    }

    /** Region markers as Linux's arm64 ptdump names them, from the dump's VMCOREINFO where it has them. */
    static NavigableMap<Long, String> markers(KernelDump dump, TableWalker walker) {
        NavigableMap<Long, String> m = new TreeMap<>(Long::compareUnsigned);
        Geometry g = dump.geometry();
        m.put(walker.firstVa(), "Linear Mapping start");
        m.put(-(1L << (g.vaBits() - 1)), "Linear Mapping end");
        dump.vmcoreInfo().ifPresent(info -> {
            put(m, info.number("MODULES_VADDR"), "Modules start");
            put(m, info.number("MODULES_END"), "Modules end");
            put(m, info.number("VMALLOC_START"), "vmalloc() area");
            put(m, info.number("VMALLOC_END"), "vmalloc() end");
            put(m, info.number("VMEMMAP_START"), "vmemmap start");
            put(m, info.number("VMEMMAP_END"), "vmemmap end");
            put(m, info.symbol("_stext"), "Kernel Mapping (_stext)");
        });
        return m;
    }

    private static void put(Map<Long, String> m, OptionalLong va, String name) {
        if (va.isPresent()) m.merge(va.getAsLong(), name, (a, b) -> a + " / " + b);
    }
}
