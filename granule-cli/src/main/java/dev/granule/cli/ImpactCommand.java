package dev.granule.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.granule.impact.ImpactAnalysis;
import dev.granule.impact.PageSizeImpact;
import dev.granule.impact.SmapsParser;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code granule impact}: what 4K, 16K and 64K pages would cost this machine's processes. */
@Command(name = "impact",
        description = {"Estimate memory footprint, page-table memory and TLB entries at 4K, 16K and 64K pages",
                "from /proc/PID/smaps (default: every readable process) or saved smaps files."},
        mixinStandardHelpOptions = true)
final class ImpactCommand implements Callable<Integer> {

    @Option(names = "--pid", paramLabel = "PID", description = "A process to analyse; repeatable.")
    List<Long> pids = new ArrayList<>();

    @Option(names = "--smaps", paramLabel = "FILE", description = "A saved smaps file; repeatable.")
    List<Path> files = new ArrayList<>();

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<Path> inputs = new ArrayList<>(files);
        for (long pid : pids) {
            Path p = Path.of("/proc", Long.toString(pid), "smaps");
            if (!Files.isReadable(p)) throw new UserException("--pid " + pid + ": no readable " + p + " (no such process?)");
            inputs.add(p);
        }
        boolean system = inputs.isEmpty();
        if (system) {
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                        .map(p -> p.resolve("smaps")).filter(Files::isReadable).sorted().forEach(inputs::add);
            }
        }
        List<List<PageSizeImpact>> perProcess = new ArrayList<>();
        for (Path p : inputs) {
            String text;
            try {
                text = Files.readString(p);
            } catch (NoSuchFileException e) {
                if (system) continue; // the process exited meanwhile
                throw new UserException("cannot read " + p, e);
            } catch (IOException e) {
                if (system) continue;
                throw new UserException("cannot read " + p + ": " + e.getMessage(), e);
            }
            perProcess.add(ImpactAnalysis.analyse(SmapsParser.parse(p.toString(), text)));
        }
        List<PageSizeImpact> total = ImpactAnalysis.total(perProcess);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(total));
        } else {
            out.printf("%d process%s; resident sizes are estimates from smaps Rss (touched bytes assumed clustered)%n%n",
                    perProcess.size(), perProcess.size() == 1 ? "" : "es");
            out.printf("%-6s %12s %12s %12s %12s %12s %12s%n", "page", "virtual", "resident", "  vs 4K",
                    "anon res.", "page tables", "TLB entries");
            PageSizeImpact base = total.getFirst();
            for (PageSizeImpact p : total) {
                out.printf("%-6s %12s %12s %11.1f%% %12s %12s %12d%n", p.granule().label(), Units.approx(p.virtual()),
                        Units.approx(p.resident()), 100.0 * (p.resident() - base.resident()) / Math.max(1, base.resident()),
                        Units.approx(p.residentAnon()), Units.approx(p.tableBytes()), p.tlbEntries());
            }
        }
        out.flush();
        return 0;
    }
}
