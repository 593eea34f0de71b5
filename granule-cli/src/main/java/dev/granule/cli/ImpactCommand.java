package dev.granule.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.granule.impact.ImpactAnalysis;
import dev.granule.impact.PageSizeImpact;
import dev.granule.impact.Pagemap;
import dev.granule.impact.SmapsParser;
import dev.granule.impact.Vma;
import dev.granule.impact.trace.ReplayResult;
import dev.granule.impact.trace.StreamingReplay;
import dev.granule.impact.trace.TraceStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code granule impact}: what 4K, 16K and 64K pages would cost this machine's processes. */
@Command(name = "impact",
        footerHeading = "%nExamples:%n",
        footer = {"  granule impact", "  granule impact --pid 1234 --chart impact.png", "  granule impact --smaps saved-smaps.txt --trace trace.txt --tlb-entries 64"},
        description = {"Memory footprint, page-table memory and TLB entries at 4K, 16K and 64K pages, from",
                "/proc/PID/smaps and /proc/PID/pagemap (default: every readable process) or saved smaps files;",
                "optionally an address trace replayed through the TLB model, and a chart."},
        mixinStandardHelpOptions = true)
final class ImpactCommand implements Callable<Integer> {

    /** The base page of this machine's kernel, which pagemap entries describe. */
    static final long HOST_PAGE = 4096;

    /** A saved smaps file is read whole; the smaps of a process with 100,000 mappings is about 30 MiB. */
    static final long MAX_SMAPS_BYTES = 256L << 20;

    @Option(names = "--pid", paramLabel = "PID", description = "A process to analyse; repeatable.")
    List<Long> pids = new ArrayList<>();

    @Option(names = "--smaps", paramLabel = "FILE", description = "A saved smaps file; repeatable (resident sizes are then estimates).")
    List<Path> files = new ArrayList<>();

    @Option(names = "--estimate", description = "Estimate resident sizes from smaps Rss even where pagemap is readable.")
    boolean estimate;

    @picocli.CommandLine.ArgGroup(exclusive = false, heading = "Trace replay%n")
    TraceOptions traceOptions;

    @Mixin
    MachineOptions machineOptions;

    @Option(names = "--chart", paramLabel = "FILE", description = "Also draw the result as a chart: FILE.png or FILE.svg.")
    Path chart;

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
            description = "Progress bar on stderr over the processes: auto (on a terminal), always, never.")
    Progress.ProgressMode progress;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** One input: a smaps file and, for a live process, its pagemap. */
    record Input(Path smaps, Path pagemap) {}

    @Override
    public Integer call() throws Exception {
        List<dev.granule.geometry.Geometry> geometries = machineOptions.geometries();
        StreamingReplay.Plan plan = traceOptions == null ? null : traceOptions.plan(geometries); // refuse bad options before a long run
        machineOptions.structPage();
        if (chart != null) ImpactChart.checkExtension(chart); // before a long run, not after it
        List<Input> inputs = new ArrayList<>();
        for (Path f : files) {
            InputFile.requireReadable("--smaps " + f, f, MAX_SMAPS_BYTES);
            inputs.add(new Input(f, null));
        }
        if (traceOptions != null && !traceOptions.trace.equals("-")) {
            InputFile.requireStreamable("--trace " + traceOptions.trace, Path.of(traceOptions.trace));
        }
        for (long pid : pids) {
            Path p = Path.of("/proc", Long.toString(pid), "smaps");
            if (!Files.isReadable(p)) throw new UserException("--pid " + pid + ": no readable " + p + " (no such process?)");
            inputs.add(new Input(p, p.resolveSibling("pagemap")));
        }
        boolean system = inputs.isEmpty();
        if (system) {
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).sorted()
                        .filter(p -> Files.isReadable(p.resolve("smaps")))
                        .forEach(p -> inputs.add(new Input(p.resolve("smaps"), p.resolve("pagemap"))));
            }
        }
        List<List<PageSizeImpact>> perProcess = new ArrayList<>();
        long[][] beyondVa = new long[geometries.size()][2];
        int exact = 0;
        try (Progress bar = Progress.of("impact", inputs.size(), progress)) {
            for (Input in : inputs) {
                bar.message(in.smaps().getParent() == null ? in.smaps().toString() : in.smaps().getParent().toString());
                Analysed r = analyse(in, system, geometries);
                bar.step(1);
                if (r == null) continue;
                perProcess.add(r.impact());
                for (int i = 0; i < geometries.size(); i++) {
                    beyondVa[i][0] += r.beyondVa()[i][0];
                    beyondVa[i][1] += r.beyondVa()[i][1];
                }
                if (r.exact()) exact++;
            }
        }
        List<PageSizeImpact> total = ImpactAnalysis.total(perProcess, geometries);
        List<dev.granule.impact.MachineCost> machine = machineOptions.machine(system, geometries);
        StreamingReplay.Outcome replay = plan == null ? null : traceOptions.replay(plan, progress);
        if (chart != null) {
            String subject = perProcess.size() + " process" + (perProcess.size() == 1 ? "" : "es");
            ImpactChart.save(ImpactChart.build(total, replay == null ? null : replay.results(), subject), chart);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("processes", perProcess.size());
            doc.put("exactResidency", exact);
            doc.put("bootCommandLines", machineOptions.bootLines());
            doc.put("geometries", geometries.stream().map(dev.granule.geometry.Geometry::label).toList());
            doc.put("pageSizes", total);
            List<Map<String, Object>> left = new ArrayList<>();
            for (int i = 0; i < geometries.size(); i++) {
                if (beyondVa[i][0] == 0) continue;
                left.add(Map.of("geometry", geometries.get(i).label(), "mappings", beyondVa[i][0], "virtualBytes", beyondVa[i][1]));
            }
            if (!left.isEmpty()) doc.put("beyondVa", left);
            if (machine != null) doc.put("machine", machine);
            if (replay != null) doc.put("trace", TraceOptions.json(traceOptions.trace, replay));
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
        } else {
            machineOptions.printGeometries(out, geometries);
            print(out, perProcess.size(), exact, total);
            for (int i = 0; i < geometries.size(); i++) {
                if (beyondVa[i][0] == 0) continue;
                int vaBits = geometries.get(i).vaBits();
                out.printf("note: %s: %d mapping%s (%s virtual) above 2^%d not counted: the process%s laid out for a larger VA%n",
                        geometries.get(i).label(), beyondVa[i][0], beyondVa[i][0] == 1 ? "" : "s",
                        Units.approx(beyondVa[i][1]), vaBits, perProcess.size() == 1 ? " was" : "es were");
            }
            if (machine != null) machineOptions.printMachine(out, system, machine);
            if (replay != null) TraceOptions.print(out, traceOptions.trace, replay);
        }
        out.flush();
        return 0;
    }

    /** One process's costs, and whether its residency came from pagemap. */
    record Analysed(List<PageSizeImpact> impact, boolean exact, long[][] beyondVa) {}

    /** One process's result, or null for a process that exited while being read in a whole-system run. */
    private Analysed analyse(Input in, boolean system, List<dev.granule.geometry.Geometry> geometries) {
        List<Vma> vmas;
        try {
            vmas = SmapsParser.parse(in.smaps()); // streamed and bounded: /dev/zero is a one-line error
        } catch (NoSuchFileException e) {
            if (system) return null;
            throw new UserException("cannot read " + in.smaps() + ": no such file (has the process exited?)");
        } catch (java.nio.file.AccessDeniedException e) {
            if (system) return null;
            throw new UserException("cannot read " + in.smaps() + ": permission denied (another user's process needs"
                    + " root or the right to ptrace it)");
        } catch (IOException e) {
            if (system) return null;
            throw new UserException("cannot read " + in.smaps() + ": " + e.getMessage(), e);
        }
        if (!estimate && in.pagemap() != null && Files.isReadable(in.pagemap())) {
            try (Pagemap pagemap = new Pagemap(in.pagemap(), HOST_PAGE)) {
                List<long[]> runs = new ArrayList<>();
                for (Vma v : vmas) runs.add(pagemap.residentRuns(v));
                return new Analysed(ImpactAnalysis.analyseExact(vmas, runs, geometries), true,
                        ImpactAnalysis.beyondVa(vmas, geometries));
            } catch (IOException e) {
                // pagemap went away (the process exited) or is not ours to read: fall back to Rss
            }
        }
        return new Analysed(ImpactAnalysis.analyse(vmas, geometries), false, ImpactAnalysis.beyondVa(vmas, geometries));
    }

    private static void print(PrintWriter out, int processes, int exact, List<PageSizeImpact> total) {
        out.printf("%d process%s; resident sizes %s%n%n", processes, processes == 1 ? "" : "es",
                exact == processes ? "exact from /proc/PID/pagemap"
                        : exact == 0 ? "estimated from smaps Rss (touched bytes assumed clustered)"
                        : "exact from pagemap for " + exact + ", estimated from smaps Rss for the rest");
        PageSizeImpact base = total.getFirst();   // the first geometry given (4K by default)
        out.printf("%-6s %12s %12s %9s %12s %12s %12s %12s%n", "page", "virtual", "resident", "vs " + base.granule().label(),
                "anon res.", "page tables", "TLB entries", "best case");
        for (PageSizeImpact p : total) {
            out.printf("%-6s %12s %12s %8.1f%% %12s %12s %12d %12d%n", p.granule().label(), Units.approx(p.virtual()),
                    Units.approx(p.resident()), 100.0 * (p.resident() - base.resident()) / Math.max(1, base.resident()),
                    Units.approx(p.residentAnon()), Units.approx(p.tableBytes()), p.tlbEntries(), p.tlbEntriesBestCase());
        }
        out.printf("%nTLB entries: one per page, as Linux maps user memory without THP; best case: the largest"
                + " block or Contiguous run that fits each aligned resident span (THP, contpte).%n");
    }
}
