package dev.granule.compat.bench;

import dev.granule.compat.Finding;
import dev.granule.compat.Scanner;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One scan of an unpacked tree by granule against what people do today, a loop of {@code readelf -lW}
 * over the same ELF files (one process per file, as {@code for f in ...; do readelf -lW "$f"; done}).
 * The tree: -Dgranule.compat.tree=DIR (e.g. an unpacked Debian arm64 root); both sides see the same files.
 * The JAR variant scans the Maven Central JARs of the tests (-Dgranule.compat.jars=DIR), archives read in memory.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CompatScanBenchmark {

    Path tree;
    Path jars;
    List<Path> elfs;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        tree = Path.of(System.getProperty("granule.compat.tree", "target/bench-tree"));
        jars = Path.of(System.getProperty("granule.compat.jars", "target/native-jars"));
        elfs = new ArrayList<>();
        long bytes = 0;
        try (Stream<Path> s = Files.walk(tree)) {
            for (Path p : s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                try (InputStream in = Files.newInputStream(p)) {
                    byte[] h = in.readNBytes(4);
                    if (h.length == 4 && h[0] == 0x7f && h[1] == 'E' && h[2] == 'L' && h[3] == 'F') {
                        elfs.add(p);
                        bytes += Files.size(p);
                    }
                }
            }
        }
        if (elfs.isEmpty()) throw new IllegalStateException("no ELF files under " + tree);
        System.out.println("\ntree " + tree + ": " + elfs.size() + " ELF files, " + bytes + " bytes");
        if (granuleTree() != elfs.size()) throw new IllegalStateException("granule and the file walk disagree on the ELF count");
    }

    @Benchmark
    public int granuleTree() {
        int[] n = {0};
        new Scanner(f -> {
            if (f instanceof Finding.ElfFound) n[0]++;
        }).scan(tree);
        return n[0];
    }

    @Benchmark
    public long readelfLoop() throws IOException, InterruptedException {
        long chars = 0;
        for (Path f : elfs) {
            Process p = new ProcessBuilder("readelf", "-lW", f.toString()).redirectErrorStream(true).start();
            chars += p.getInputStream().readAllBytes().length;
            p.waitFor();
        }
        return chars;
    }

    @Benchmark
    public int granuleJars() {
        int[] n = {0};
        new Scanner(f -> {
            if (f instanceof Finding.ElfFound) n[0]++;
        }).scan(jars);
        return n[0];
    }
}
