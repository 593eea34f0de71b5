package dev.granule.compat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * JARs with native libraries from Maven Central, old and new (copied to target/native-jars by the build):
 * every ELF granule finds must be an ELF java.util.zip finds, and granule's verdict at every page size must
 * be the one computed from {@code readelf -hlW}'s output of that library. Plus the facts in FACTS.md.
 */
class RealArtifactsTest {

    @TempDir
    Path tmp;

    static Path jars() {
        String dir = System.getProperty("granule.compat.jars");
        assumeTrue(dir != null && Files.isDirectory(Path.of(dir)), "native JARs not copied (run through Maven)");
        return Path.of(dir);
    }

    @Test
    void everyLibraryInTheMavenCentralJarsGetsReadelfsVerdict() throws Exception {
        assumeTrue(Readelf.available(), "readelf (binutils) is not installed");
        List<Path> jarFiles;
        try (var s = Files.list(jars())) {
            jarFiles = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        assertThat(jarFiles).hasSizeGreaterThanOrEqualTo(12);
        int compared = 0;
        int failingAt16k = 0;
        for (Path jar : jarFiles) {
            Map<String, ElfReport> ours = new HashMap<>();
            List<Finding> findings = new ArrayList<>();
            new Scanner(findings::add).scan(jar);
            for (Finding f : findings) {
                assertThat(f).as("no broken members in " + jar).isInstanceOf(Finding.ElfFound.class);
                ElfReport r = ((Finding.ElfFound) f).report();
                ours.put(r.path(), r);
            }
            int elfs = 0;
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                    ZipEntry e = en.nextElement();
                    byte[] data;
                    try (InputStream in = zip.getInputStream(e)) {
                        data = in.readAllBytes();
                    }
                    if (data.length < 4 || data[0] != 0x7f || data[1] != 'E' || data[2] != 'L' || data[3] != 'F') continue;
                    elfs++;
                    String name = jar + "!/" + e.getName();
                    assertThat(ours).as("granule found " + name).containsKey(name);
                    Path file = tmp.resolve("elf" + compared);
                    Files.write(file, data);
                    Readelf.Header h = Readelf.read(file);
                    ElfReport r = ours.get(name);
                    assertThat(r.type()).as(name).isEqualTo(h.type());
                    assertThat(r.verdicts()).extracting(PageVerdict::pageSize).as(name + " " + h.machine()).containsExactlyElementsOf(h.pageSizes());
                    if (!h.interp()) {
                        for (long p : h.pageSizes()) {
                            assertThat(r.verdict(p).orElseThrow().loads()).as(name + " at " + p + ": " + h.loads()).isEqualTo(h.ldSoLoads(p));
                        }
                    }
                    if (r.verdict(16384).map(v -> !v.loads()).orElse(false)) failingAt16k++;
                    Files.delete(file);
                    compared++;
                }
            }
            assertThat(ours).as("no ELF granule names that java.util.zip does not see, in " + jar).hasSize(elfs);
        }
        System.out.println("RealArtifactsTest: " + compared + " libraries in " + jarFiles.size() + " JARs agree with readelf; "
                + failingAt16k + " will not load at 16K");
        assertThat(compared).isGreaterThan(100);
        assertThat(failingAt16k).as("the Android builds of snappy-java at least").isGreaterThan(0);
    }

    @Test
    void snappyJavaCarriesA64KLinuxLibraryAndA4KAndroidOne() {
        // FACTS.md: Linux aarch64 libraries have p_align 0x10000; snappy-java's Linux/android-aarch64 one has 0x1000.
        Path jar = jars().resolve("snappy-java-1.1.10.8.jar");
        Map<String, ElfReport> byPath = new HashMap<>();
        new Scanner(f -> {
            if (f instanceof Finding.ElfFound e) byPath.put(e.report().path(), e.report());
        }).scan(jar);
        ElfReport linux = byPath.get(jar + "!/org/xerial/snappy/native/Linux/aarch64/libsnappyjava.so");
        ElfReport android = byPath.get(jar + "!/org/xerial/snappy/native/Linux/android-aarch64/libsnappyjava.so");
        assertThat(linux.largestPageSize()).isEqualTo(65536);
        assertThat(android.largestPageSize()).isEqualTo(4096);
        // Built by the NDK (readelf -n: an "Android" note in .note.android.ident), so Android's linker loads it, and
        // a 16K Android device refuses it with this message (bionic's ElfReader, Android 15+).
        assertThat(android.loader()).contains(LoadRules.Loader.BIONIC);
        assertThat(linux.loader()).contains(LoadRules.Loader.LD_SO);
        assertThat(android.verdict(16384).orElseThrow().problems().getFirst())
                .contains("program alignment (4096) cannot be smaller than system page size (16384)");
        assertThat(android.fix()).contains("relink with -Wl,-z,max-page-size=65536");
    }

    @Test
    void theOtherLinuxAarch64LibrariesOfFactsMdLoadAt64K() {
        String[][] cases = {
                {"sqlite-jdbc-3.34.0.jar", "/Linux/aarch64/"}, {"sqlite-jdbc-3.54.1.0.jar", "/Linux/aarch64/"},
                {"jna-5.8.0.jar", "linux-aarch64/"}, {"jna-5.19.1.jar", "linux-aarch64/"},
                {"zstd-jni-1.5.0-4.jar", "linux/aarch64/"}, {"zstd-jni-1.5.7-21.jar", "linux/aarch64/"},
                {"snappy-java-1.1.8.4.jar", "/Linux/aarch64/"}, {"lz4-java-1.8.0.jar", "linux/aarch64/"}};
        for (String[] c : cases) {
            Path jar = jars().resolve(c[0]);
            List<ElfReport> hits = new ArrayList<>();
            new Scanner(f -> {
                if (f instanceof Finding.ElfFound e && e.report().path().contains(c[1])) hits.add(e.report());
            }).scan(jar);
            assertThat(hits).as(c[0]).isNotEmpty();
            assertThat(hits).as(c[0]).allMatch(r -> r.architecture() == Architecture.AARCH64 && r.largestPageSize() == 65536);
        }
    }
}
