package dev.granule.cli;

import dev.granule.geometry.Geometry;
import dev.granule.impact.trace.ReplayResult;
import dev.granule.impact.trace.Replayer;
import dev.granule.impact.trace.StreamingReplay;
import dev.granule.impact.trace.TlbConfig;
import dev.granule.impact.trace.TraceFormat;
import dev.granule.impact.trace.TraceInput;
import dev.granule.impact.trace.TraceStats;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The trace replay options of {@code granule impact} and what they print. */
final class TraceOptions {

    @Option(names = "--trace", paramLabel = "FILE", required = true,
            description = "Address trace to replay, '-' for standard input: Valgrind lackey, perf script (event,addr),"
                    + " '[r|w|x] <hex VA>' lines or granule's binary format; gzip or zstd compressed or not.")
    String trace;

    @Option(names = "--trace-format", paramLabel = "FORMAT", description = "lackey, perf, plain or binary (default: detected).")
    TraceFormat format;

    @Option(names = "--strict", description = "Stop at the first malformed trace line instead of counting it.")
    boolean strict;

    @Option(names = "--cpu", paramLabel = "PRESET",
            description = "TLBs of this CPU (repeatable): cortex-a72, cortex-a76, neoverse-n1, neoverse-v1 (default neoverse-n1).")
    List<String> cpus = new ArrayList<>();

    @Option(names = "--tlb-entries", paramLabel = "N", description = "Also replay through one unified TLB of N entries (no L1s).")
    Integer tlbEntries;

    @Option(names = "--tlb-ways", paramLabel = "N", description = "That TLB's associativity (default 4).")
    Integer tlbWays;

    @Option(names = "--thp", description = "Fault and map whole PMD blocks (transparent huge pages): 2M, 32M, 512M.")
    boolean thp;

    @Option(names = "--contpte", description = "Fault and map Contiguous runs of pages (contpte): 64K, 2M, 2M.")
    boolean contpte;

    StreamingReplay.Plan plan(List<Geometry> geometries) {
        if (thp && contpte) throw new UserException("--thp and --contpte exclude each other: choose what a fault maps");
        List<TlbConfig> configs = new ArrayList<>();
        for (String c : cpus) configs.add(TlbConfig.preset(c));
        if (tlbWays != null && tlbEntries == null) throw new UserException("--tlb-ways needs --tlb-entries");
        if (tlbEntries != null) {
            int ways = tlbWays == null ? 4 : tlbWays;
            if (tlbEntries < 1 || ways < 1 || tlbEntries % ways != 0 || Integer.bitCount(tlbEntries / ways) != 1) {
                throw new UserException("--tlb-entries must be a multiple of --tlb-ways giving a power-of-two number of sets (was "
                        + tlbEntries + " and " + ways + ")");
            }
            configs.add(TlbConfig.oneLevel(tlbEntries, ways));
        }
        if (configs.isEmpty()) configs.add(TlbConfig.NEOVERSE_N1);
        if (!trace.equals("-") && !Files.exists(Path.of(trace))) throw new UserException("--trace " + trace + ": no such file");
        return new StreamingReplay.Plan(geometries, configs, thp ? Replayer.Mapping.THP
                : contpte ? Replayer.Mapping.CONTPTE : Replayer.Mapping.PAGES);
    }

    StreamingReplay.Outcome replay(StreamingReplay.Plan plan, Progress.ProgressMode mode) throws IOException, InterruptedException {
        TraceInput input = new TraceInput(trace);
        long start = System.nanoTime();
        try (Progress bar = Progress.of("trace", input.size(), mode)) {
            long[] shown = {0};
            StreamingReplay.Outcome o = StreamingReplay.run(input, format, strict, plan, accesses -> {
                if (accesses - shown[0] < 1 << 20) return; // a redraw per million accesses at most
                shown[0] = accesses;
                bar.stepTo(input.bytesRead());
                bar.message(rate(accesses, start));
            });
            bar.stepTo(input.bytesRead());
            bar.message(rate(o.stats().accesses(), start));
            return o;
        }
    }

    private static String rate(long accesses, long startNanos) {
        double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        return String.format("%,d accesses, %.1f M/s", accesses, accesses / seconds / 1e6);
    }

    static Map<String, Object> json(String trace, StreamingReplay.Outcome o) {
        TraceStats s = o.stats();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("input", trace);
        doc.put("format", s.format().name().toLowerCase());
        doc.put("records", s.records());
        doc.put("accesses", s.accesses());
        doc.put("malformed", s.malformed());
        doc.put("firstMalformed", s.firstMalformed());
        doc.put("firstMalformedWhy", s.firstMalformedWhy());
        doc.put("results", o.results());
        return doc;
    }

    static void print(PrintWriter out, String trace, StreamingReplay.Outcome o) {
        TraceStats s = o.stats();
        out.printf("%ntrace %s (%s): %d accesses", trace, s.format().name().toLowerCase(), s.accesses());
        if (s.malformed() > 0) {
            out.printf("; %d malformed %s skipped, the first at %s %d: %s", s.malformed(),
                    s.format() == TraceFormat.BINARY ? "records" : "lines",
                    s.format() == TraceFormat.BINARY ? "record" : "line", s.firstMalformed(), s.firstMalformedWhy());
        }
        out.println();
        String cpu = null;
        for (ReplayResult r : o.results()) {
            if (!r.cpu().equals(cpu)) {
                cpu = r.cpu();
                TlbConfig c = cpu.equals("custom") ? null : TlbConfig.preset(cpu);
                out.printf("%n%s: %s; walk cache %d entries (assumed); %s%n", cpu,
                        c == null ? "one TLB" : c.describe(), TlbConfig.ASSUMED_WALK_CACHE,
                        r.mapping().equals("pages") ? "pages" : r.mapping() + " mappings");
                out.printf("%-6s %11s %11s %11s %9s %9s %5s %13s %13s %10s %10s %10s%n", "page", "L1i misses", "L1d misses",
                        "L2 misses", "L2 MPKA", "L2 MPKI", "walk", "walk refs", "with w.cache", "faults", "footprint", "L2 reach");
            }
            out.printf("%-6s %11d %11d %11d %9.3f %9s %5d %13d %13d %10d %10s %10s%n", r.pageSize(), r.l1iMisses(),
                    r.l1dMisses(), r.l2Misses(), r.l2MissesPerKiloAccess(),
                    r.instructions() == 0 ? "-" : String.format("%.3f", r.l2MissesPerKiloInstruction()), r.walkLevels(), r.walkReferences(),
                    r.walkReferencesWithWalkCache(), r.pageFaults(), Units.approx(r.footprintBytes()),
                    Units.approx(r.l2ReachBytes()));
        }
        out.printf("%nMPKA, MPKI: misses per thousand accesses, instruction fetches; walk: descriptors read"
                + " per walk without a walk cache.%n");
    }
}
