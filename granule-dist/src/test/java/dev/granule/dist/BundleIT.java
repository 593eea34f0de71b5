package dev.granule.dist;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tar.gz that scripts/bundle.sh builds, unpacked and run as someone without a JDK would run
 * it: an empty environment whose PATH holds only the two tools the launcher uses, so neither a
 * {@code java} on PATH nor JAVA_HOME can stand in for the bundled runtime.
 */
class BundleIT {

    @TempDir
    static Path dir;

    static Path home;
    static Path tools;

    @BeforeAll
    static void unpack() throws Exception {
        Path target = Path.of(System.getProperty("granule.bundle.dir", "target"));
        Path tarball;
        try (Stream<Path> files = Files.list(target)) {
            tarball = files.filter(p -> p.getFileName().toString().matches("granule-.+-linux-.+\\.tar\\.gz")).findFirst()
                    .orElseThrow(() -> new AssertionError("no granule-*-linux-*.tar.gz in " + target + " (mvn package makes it)"));
        }
        assertThat(exec(List.of("tar", "-C", dir.toString(), "-xzf", tarball.toString()), null).exit()).isZero();
        String top = tarball.getFileName().toString().replace(".tar.gz", "");
        home = dir.resolve(top);
        tools = Files.createDirectories(dir.resolve("tools"));
        for (String tool : List.of("readlink", "dirname")) {
            Files.createSymbolicLink(tools.resolve(tool), Path.of("/usr/bin", tool));
        }
    }

    record Run(int exit, String out, String err) {}

    /** Runs {@code command}; with {@code path} non-null, in an environment holding nothing but PATH=path. */
    static Run exec(List<String> command, Path path) throws IOException, InterruptedException {
        return exec(command, path, Map.of());
    }

    /** As {@link #exec(List, Path)}, with {@code extra} added to the environment. */
    static Run exec(List<String> command, Path path, Map<String, String> extra) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (path != null) {
            pb.environment().clear();
            pb.environment().put("PATH", path.toString());
        }
        pb.environment().putAll(extra);
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("did not finish: " + command);
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Run granule(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/granule").toString()));
        command.addAll(List.of(args));
        return exec(command, tools);
    }

    @Test
    void theEnvironmentHasNoJava() throws Exception {
        Run r = exec(List.of("/bin/sh", "-c", "command -v java || echo none; echo \"${JAVA_HOME:-unset}\""), tools);
        assertThat(r.out()).isEqualTo("none\nunset\n");
    }

    @Test
    void bootResolvesAGeometryWithTheBundledRuntime() throws Exception {
        Run r = granule("boot", "arm64.pagesize=16k granule.va_bits=47");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        // 16K granule: PAGE_SHIFT 14, 11 bits per level; 47 bits = 14 + 11 + 11 + 11, so three levels
        // with the PGD resolving VA bits [46:36] and the PMD [35:25].
        assertThat(r.out()).contains("16K/47-bit VA").contains("PGDIR_SHIFT            36")
                .contains("PMD_SHIFT              25").contains("PTRS_PER_PMD           2048");
    }

    @Test
    void translateWalksTablesWrittenByHand() throws Exception {
        // 4K granule, T0SZ = 16: level 0, 1 and 2 tables chained through entry 0 at PA 0x40000000,
        // 0x40001000, 0x40002000; level 3 table at 0x40003000 whose entry 1 maps VA 0x1000 to PA
        // 0x80000000 (page descriptor: bits [1:0] = 0b11, AF = bit 10). Entry 2 is invalid.
        ByteBuffer b = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0x4000_1003L).putLong(4096, 0x4000_2003L).putLong(8192, 0x4000_3003L);
        b.putLong(3 * 4096 + 8, 0x8000_0403L);
        Path image = dir.resolve("tables.bin");
        Files.write(image, b.array());
        // TCR_EL1: T0SZ = 16 (bits [5:0]), EPD1 = 1 (bit 23), IPS = 0b101 (48-bit PA, bits [34:32]).
        Run r = granule("translate", "--tcr", "0x500800010", "--ttbr0", "0x40000000", "--image", image + "@0x40000000",
                "0x1234", "0x2000");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out().lines()).hasSize(2);
        assertThat(r.out().lines().toList().get(0)).matches("0x0*1234 -> 0x0*80000234\\b.*level 3 4K.*");
        assertThat(r.out().lines().toList().get(1)).contains("TRANSLATION fault, level 3");
    }

    @Test
    void versionAndCompletionAndManPagesShipWithIt() throws Exception {
        assertThat(granule("--version").out()).matches("granule \\S+ \\(commit \\S+\\)\\n");
        assertThat(home.resolve("share/man/man1/granule.1")).isNotEmptyFile();
        assertThat(home.resolve("share/man/man1/granule-boot.1")).content(StandardCharsets.UTF_8)
                .startsWith("'\\\" t").contains(".SH \"SYNOPSIS\"").contains("granule boot \"arm64.pagesize=16k granule.va_bits=47\"");
        assertThat(home.resolve("share/bash-completion/completions/granule")).content(StandardCharsets.UTF_8)
                .contains("complete -F _complete_granule");
    }

    @Test
    void bootTakesPicocliAndItsOwnClassesFromTheAotCache() throws Exception {
        // The JVM's class-loading log names where each class came from: "source: shared objects file"
        // is the AOT cache, a jar's URL is a load (and, for picocli's old class files, a verification)
        // at run time. picocli's jar is Java 5, which the cache refused until granule-picocli.
        Path log = dir.resolve("class-load.txt");
        Run r = exec(List.of(home.resolve("bin/granule").toString(), "boot", "arm64.pagesize=16k"), tools,
                Map.of("GRANULE_JAVA_OPTS", "-Xlog:class+load=info:file=" + log));
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> picocli = Files.readAllLines(log).stream().filter(l -> l.contains(" picocli.")).toList();
        assertThat(picocli).hasSizeGreaterThan(100).anyMatch(l -> l.contains(" picocli.CommandLine source:"));
        assertThat(picocli).allMatch(l -> l.endsWith("source: shared objects file"));
        assertThat(Files.readAllLines(log)).anyMatch(l -> l.contains(" dev.granule.cli.BootCommand source: shared objects file"));
    }

    @Test
    void aBrokenAotCacheIsSkippedSilently() throws Exception {
        Path copy = dir.resolve("broken");
        assertThat(exec(List.of("cp", "-a", home.toString(), copy.toString()), null).exit()).isZero();
        Files.writeString(copy.resolve("lib/granule.aot"), "not an AOT cache");
        Run r = exec(List.of(copy.resolve("bin/granule").toString(), "boot", "arm64.pagesize=64k"), tools);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("64K/48-bit VA");
    }
}
