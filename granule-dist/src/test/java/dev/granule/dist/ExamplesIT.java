package dev.granule.dist;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The documentation's Java snippets cannot rot: every line of every {@code java} block in README.md
 * and docs/*.md must
 * appear in examples/ReadmeSnippets.java, and that project (outside the reactor, depending on
 * dev.granule:granule-core by its coordinate, run on the module path) is built and run against the
 * granule-core jar this build made. The artifacts go into a private local repository under the
 * granule cache, not into ~/.m2, where other checkouts' snapshots live.
 */
class ExamplesIT {

    static final Path ROOT = Path.of(System.getProperty("granule.root", "..")).toAbsolutePath().normalize();
    static final Path SNIPPETS = ROOT.resolve("examples/src/main/java/dev/granule/examples/ReadmeSnippets.java");

    @Test
    void everyReadmeJavaLineIsInTheExamples() throws IOException {
        String examples = Files.readString(SNIPPETS);
        List<String> lines = readmeJavaLines();
        assertThat(lines).hasSizeGreaterThan(10);
        for (String line : lines) assertThat(examples).as("README line in ReadmeSnippets.java").contains(line);
    }

    @Test
    void theExamplesBuildAgainstTheCoordinateAndRunAsAModule() throws Exception {
        String version = System.getProperty("granule.version", "0.1.0-SNAPSHOT");
        Path repo = cacheRoot().resolve("examples-m2");
        Path ours = repo.resolve("dev/granule");
        deleteTree(ours); // never a stale snapshot from an earlier run
        install(ROOT.resolve("pom.xml"), ours.resolve("granule-parent/" + version + "/granule-parent-" + version + ".pom"));
        install(ROOT.resolve("granule-core/pom.xml"), ours.resolve("granule-core/" + version + "/granule-core-" + version + ".pom"));
        install(ROOT.resolve("granule-core/target/granule-core-" + version + ".jar"),
                ours.resolve("granule-core/" + version + "/granule-core-" + version + ".jar"));

        Path mvn = onPath("mvn");
        assumeTrue(mvn != null, "no mvn on PATH to build the examples project with");
        Path log = Files.createTempFile("examples", ".log");
        Process p = new ProcessBuilder(mvn.toString(), "-q", "-B", "-f", ROOT.resolve("examples/pom.xml").toString(),
                "-Dmaven.repo.local=" + repo, "-Dgranule.version=" + version, "compile", "exec:exec")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("examples build finished").isTrue();
        String out = Files.readString(log);
        // The first run downloads the build plugins into the private repository; without the network
        // that is a missing component, not a broken example.
        assumeTrue(p.exitValue() == 0 || !out.contains("Could not transfer artifact"),
                "cannot download the examples' build plugins: " + out.lines().filter(l -> l.contains("Could not transfer")).findFirst().orElse(""));
        assertThat(p.exitValue()).as(out).isZero();
        // 64K granule, 52-bit VA: 16 offset bits and 13 per level below the PGD leave 52 - 42 = 10
        // bits, 1024 entries. Resolved without granule.va_bits the VA size is the default 48.
        assertThat(out).contains("boot 64K/52-bit VA").contains("PTRS_PER_PGD=1024").contains("default-va=48")
                .contains("fixed=4K/48-bit VA");
        // VA 0x2000000 maps PA 0x80000000; after collapse the 16K granule's 32M level-2 block is back, so
        // the leaf's output address is the block's and the walk adds the offset 0x123. 0x2004000 was unmapped
        // before the collapse (which does not map anything new).
        assertThat(out).contains("tables lookup=0x80000000 walk=0x80000123 unmapped=true");
        // PAGE_KERNEL's PIIndex is UXN:PXN:DBM:AP[1] = 0b1110; Linux's PIE_E1 gives index 0xE PIE_RW
        // (0b1100: read and write, no execute) and PIE_E0 lists no 0xE (no access). Index 0 is in neither.
        assertThat(out).contains("permissions kernel=EL1 RW- EL0 --- index0=EL1 --- EL0 ---");
    }

    /** The lines of every {@code java} block in README.md and the pages under docs/. */
    static List<String> readmeJavaLines() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<String> lines = new ArrayList<>();
        for (Path page : pages) {
            boolean in = false;
            for (String line : Files.readAllLines(page)) {
                if (line.startsWith("```")) {
                    in = line.equals("```java");
                } else if (in && !line.isBlank()) {
                    lines.add(line.strip());
                }
            }
        }
        return lines;
    }

    static Path cacheRoot() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("granule");
    }

    static void install(Path from, Path to) throws IOException {
        assertThat(from).as("built by the reactor").exists();
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    static Path onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, tool);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }
}
