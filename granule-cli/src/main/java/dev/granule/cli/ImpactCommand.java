package dev.granule.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.granule.impact.ImpactAnalysis;
import dev.granule.impact.PageSizeImpact;
import dev.granule.impact.Pagemap;
import dev.granule.impact.SmapsParser;
import dev.granule.impact.TraceReplay;
import dev.granule.impact.Vma;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
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

    /** A trace line is an access kind and an address; anything much longer is not a trace. */
    static final int MAX_TRACE_LINE = 4096;

    @Option(names = "--pid", paramLabel = "PID", description = "A process to analyse; repeatable.")
    List<Long> pids = new ArrayList<>();

    @Option(names = "--smaps", paramLabel = "FILE", description = "A saved smaps file; repeatable (resident sizes are then estimates).")
    List<Path> files = new ArrayList<>();

    @Option(names = "--estimate", description = "Estimate resident sizes from smaps Rss even where pagemap is readable.")
    boolean estimate;

    @Option(names = "--trace", paramLabel = "FILE", description = "Address trace to replay: lines '[r|w|x] <hex VA>'.")
    Path trace;

    @Option(names = "--tlb-entries", paramLabel = "N", defaultValue = "1024",
            description = "TLB size for the trace (default ${DEFAULT-VALUE}, a typical arm64 L2 TLB).")
    int tlbEntries;

    @Option(names = "--tlb-ways", paramLabel = "N", defaultValue = "4", description = "TLB associativity (default ${DEFAULT-VALUE}).")
    int tlbWays;

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
        if (tlbEntries < 1 || tlbWays < 1 || tlbEntries % tlbWays != 0 || Integer.bitCount(tlbEntries / tlbWays) != 1) {
            throw new UserException("--tlb-entries must be a multiple of --tlb-ways giving a power-of-two number of sets (was "
                    + tlbEntries + " and " + tlbWays + ")");
        }
        if (chart != null) ImpactChart.checkExtension(chart); // before a long run, not after it
        List<Input> inputs = new ArrayList<>();
        for (Path f : files) {
            InputFile.requireReadable("--smaps " + f, f, MAX_SMAPS_BYTES);
            inputs.add(new Input(f, null));
        }
        if (trace != null) InputFile.requireReadable("--trace " + trace, trace, Long.MAX_VALUE); // streamed
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
        int exact = 0;
        try (Progress bar = Progress.of("impact", inputs.size(), progress)) {
            for (Input in : inputs) {
                bar.message(in.smaps().getParent() == null ? in.smaps().toString() : in.smaps().getParent().toString());
                Analysed r = analyse(in, system);
                bar.step(1);
                if (r == null) continue;
                perProcess.add(r.impact());
                if (r.exact()) exact++;
            }
        }
        List<PageSizeImpact> total = ImpactAnalysis.total(perProcess);
        List<TraceReplay.Result> replay = null;
        if (trace != null) {
            try (BufferedReader reader = new BoundedLineReader(Files.newBufferedReader(trace, java.nio.charset.StandardCharsets.ISO_8859_1),
                    "--trace " + trace, MAX_TRACE_LINE)) {
                replay = TraceReplay.replay(reader, trace.toString(), tlbEntries, tlbWays);
            } catch (NoSuchFileException e) {
                throw new UserException("--trace " + trace + ": no such file");
            }
        }
        if (chart != null) {
            String subject = perProcess.size() + " process" + (perProcess.size() == 1 ? "" : "es");
            ImpactChart.save(ImpactChart.build(total, replay, subject), chart);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("processes", perProcess.size());
            doc.put("exactResidency", exact);
            doc.put("pageSizes", total);
            if (replay != null) doc.put("trace", replay);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
        } else {
            print(out, perProcess.size(), exact, total, replay);
        }
        out.flush();
        return 0;
    }

    /** One process's costs, and whether its residency came from pagemap. */
    record Analysed(List<PageSizeImpact> impact, boolean exact) {}

    /** One process's result, or null for a process that exited while being read in a whole-system run. */
    private Analysed analyse(Input in, boolean system) {
        List<Vma> vmas;
        try {
            vmas = SmapsParser.parse(in.smaps().toString(), Files.readString(in.smaps(), java.nio.charset.StandardCharsets.ISO_8859_1));
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
                return new Analysed(ImpactAnalysis.analyseExact(vmas, runs), true);
            } catch (IOException e) {
                // pagemap went away (the process exited) or is not ours to read: fall back to Rss
            }
        }
        return new Analysed(ImpactAnalysis.analyse(vmas), false);
    }

    private static void print(PrintWriter out, int processes, int exact, List<PageSizeImpact> total,
                              List<TraceReplay.Result> replay) {
        out.printf("%d process%s; resident sizes %s%n%n", processes, processes == 1 ? "" : "es",
                exact == processes ? "exact from /proc/PID/pagemap"
                        : exact == 0 ? "estimated from smaps Rss (touched bytes assumed clustered)"
                        : "exact from pagemap for " + exact + ", estimated from smaps Rss for the rest");
        out.printf("%-6s %12s %12s %9s %12s %12s %12s %12s%n", "page", "virtual", "resident", "vs 4K", "anon res.",
                "page tables", "TLB entries", "best case");
        PageSizeImpact base = total.getFirst();
        for (PageSizeImpact p : total) {
            out.printf("%-6s %12s %12s %8.1f%% %12s %12s %12d %12d%n", p.granule().label(), Units.approx(p.virtual()),
                    Units.approx(p.resident()), 100.0 * (p.resident() - base.resident()) / Math.max(1, base.resident()),
                    Units.approx(p.residentAnon()), Units.approx(p.tableBytes()), p.tlbEntries(), p.tlbEntriesBestCase());
        }
        out.printf("%nTLB entries: one per page, as Linux maps user memory without THP; best case: the largest"
                + " block or Contiguous run that fits each aligned resident span (THP, contpte).%n");
        if (replay != null) {
            TraceReplay.Result r0 = replay.getFirst();
            out.printf("%ntrace: %d accesses through a %d-entry %d-way TLB%n", r0.accesses(), r0.tlbEntries(), r0.tlbWays());
            out.printf("%-6s %12s %10s %12s %12s%n", "page", "TLB misses", "miss rate", "page faults", "TLB reach");
            for (TraceReplay.Result r : replay) {
                out.printf("%-6s %12d %9.3f%% %12d %12s%n", r.granule().label(), r.tlbMisses(), 100 * r.missRate(),
                        r.pageFaults(), Units.approx(r.reach()));
            }
        }
    }
}
