package dev.granule.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.granule.compat.ElfReport;
import dev.granule.compat.Finding;
import dev.granule.compat.PageSizes;
import dev.granule.compat.PageVerdict;
import dev.granule.compat.ScanLimits;
import dev.granule.compat.Scanner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code granule compat}: will these binaries, libraries, JARs, APKs and packages load at 16K or 64K pages? */
@Command(name = "compat",
        footerHeading = "%nExamples:%n",
        footer = {"  granule compat --page-size 16k app.apk", "  granule compat --json ~/.m2/repository", "  granule compat --sarif /srv/rootfs > compat.sarif",
                "  granule compat --page-size 16k --ignore '**/android-*/**' target/dependency"},
        description = {"Page-size compatibility of ELF files, directories, JAR/AAR/APK/AAB/zip, .deb and tar(.gz/.xz/.zst):",
                "for every ELF inside, whether the loaders map it at each page size its architecture has.",
                "Exit status: 0 everything loads, 1 something will not, 2 an input could not be read."},
        mixinStandardHelpOptions = true)
final class CompatCommand implements Callable<Integer> {

    static final int ALL_LOAD = 0;
    static final int SOME_WILL_NOT = 1;
    static final int BAD_INPUT = 2;

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Files, directories or archives to scan.")
    List<Path> paths = new ArrayList<>();

    @Option(names = "--page-size", paramLabel = "SIZE", description = "Ask about one page size only (4k, 16k, 64k); default: every size of each ELF's architecture.")
    String pageSize;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(names = "--sarif", description = "Print SARIF 2.1.0 (for CI code scanning).")
    boolean sarif;

    @Option(names = "--max-depth", paramLabel = "N", defaultValue = "8", description = "Archive nesting bound (default ${DEFAULT-VALUE}).")
    int maxDepth;

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
            description = "Progress bar on stderr over the bytes to scan: auto (on a terminal), always, never.")
    Progress.ProgressMode progress;

    @Option(names = "--ignore", paramLabel = "GLOB",
            description = "Leave out the ELF files whose path (through the archives: x.jar!/lib/android-arm64/libx.so) matches GLOB; "
                    + "repeatable. A glob of java.nio's PathMatcher: * stays within a path element, ** crosses '/'.")
    List<String> ignore = new ArrayList<>();

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (json && sarif) throw new UserException("--json and --sarif: choose one");
        List<Long> asked = pageSize == null ? List.of() : List.of(PageSizes.parse(pageSize));
        IgnoreGlobs ignored = IgnoreGlobs.of(ignore);
        ScanLimits d = ScanLimits.DEFAULT;
        ScanLimits limits = new ScanLimits(maxDepth, d.maxMemberBytes(), d.maxTotalBytes(), d.maxRatio());
        List<Finding> findings = new ArrayList<>();
        long total = 0;
        for (Path p : paths) total += bytesUnder(p);
        try (Progress bar = Progress.of("compat", total, progress)) {
            Scanner scanner = new Scanner(limits, f -> {
                if (ignored.leavesOut(f)) return;
                findings.add(f);
                if (f instanceof Finding.Broken b && !json && !sarif) bar.message(b.path());
            }, bar::step);
            for (Path p : paths) scanner.scan(p);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(CompatJson.document(findings, asked)));
        } else if (sarif) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(CompatSarif.document(findings, asked)));
        } else {
            CompatTable.print(out, findings, asked);
            if (ignored.count() > 0) out.println(ignored.count() + " ELF files left out by --ignore");
        }
        // A broken input is one line on stderr in every format, so scripts reading stdout still see it.
        for (Finding f : findings) {
            if (f instanceof Finding.Broken b) err.println("granule: compat: " + b.path() + ": " + b.reason());
        }
        out.flush();
        err.flush();
        return exitStatus(findings, asked);
    }

    static int exitStatus(List<Finding> findings, List<Long> asked) {
        if (findings.stream().anyMatch(f -> f instanceof Finding.Broken)) return BAD_INPUT;
        boolean fails = findings.stream().anyMatch(f -> f instanceof Finding.ElfFound e && e.report().failsAt(asked));
        return fails ? SOME_WILL_NOT : ALL_LOAD;
    }

    /** The verdicts to show for one ELF: those asked for, or all. */
    static List<PageVerdict> shown(ElfReport r, List<Long> asked) {
        return asked.isEmpty() ? r.verdicts() : r.verdicts().stream().filter(v -> asked.contains(v.pageSize())).toList();
    }

    /** Findings grouped by the top-level input they came from, in scan order. */
    static Map<String, List<Finding>> byContainer(List<Finding> findings) {
        Map<String, List<Finding>> m = new LinkedHashMap<>();
        for (Finding f : findings) m.computeIfAbsent(f.container(), k -> new ArrayList<>()).add(f);
        return m;
    }

    private static long bytesUnder(Path p) {
        try {
            if (Files.isDirectory(p)) {
                long sum = 0;
                for (Path f : Scanner.files(p)) sum += Files.size(f);
                return sum;
            }
            return Files.isRegularFile(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
