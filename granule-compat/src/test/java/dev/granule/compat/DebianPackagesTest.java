package dev.granule.compat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian bookworm's arm64 libc6 and libjemalloc2, fetched with {@code apt-get download} (cached under
 * ${XDG_CACHE_HOME:-~/.cache}/granule/compat-debs). Oracles: {@code dpkg-deb -x} for which ELFs the package
 * holds, {@code readelf -hlW} for their headers, and binutils' AArch64 disassembler for jemalloc's compare.
 */
class DebianPackagesTest {

    static final String[] PACKAGES = {"libc6:arm64", "libjemalloc2:arm64"};

    @TempDir
    Path tmp;

    static Path cache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("granule/compat-debs");
    }

    static List<Path> debs() throws IOException, InterruptedException {
        Path dir = cache();
        Files.createDirectories(dir);
        if (find(dir, "libc6_").isEmpty() || find(dir, "libjemalloc2_").isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of("apt-get", "download"));
            cmd.addAll(List.of(PACKAGES));
            try {
                Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                boolean done = p.waitFor(300, TimeUnit.SECONDS);
                assumeTrue(done && p.exitValue() == 0, "apt-get download " + String.join(" ", PACKAGES) + " failed (is arm64 added with dpkg --add-architecture?): " + out.strip());
            } catch (IOException e) {
                assumeTrue(false, "apt-get is not available: " + e.getMessage());
            }
        }
        List<Path> all = new ArrayList<>(find(dir, "libc6_"));
        all.addAll(find(dir, "libjemalloc2_"));
        assumeTrue(all.size() == 2, "packages not in the cache " + dir);
        return all;
    }

    private static List<Path> find(Path dir, String prefix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix) && p.toString().endsWith("_arm64.deb")).sorted().toList();
        }
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    @Test
    void everyElfInTheDebianPackagesIsFoundAndJudgedAsReadelfSays() throws Exception {
        assumeTrue(Readelf.available(), "readelf (binutils) is not installed");
        for (Path deb : debs()) {
            Map<String, ElfReport> ours = new HashMap<>();
            List<Finding> broken = new ArrayList<>();
            new Scanner(f -> {
                if (f instanceof Finding.ElfFound e) ours.put(e.report().path(), e.report());
                else broken.add(f);
            }).scan(deb);
            assertThat(broken).isEmpty();
            Path root = Files.createDirectories(tmp.resolve(deb.getFileName().toString()));
            run("dpkg-deb", "-x", deb.toString(), root.toString());
            String member = dataMember(deb);
            int elfs = 0;
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                    byte[] head = new byte[4];
                    try (var in = Files.newInputStream(f)) {
                        if (in.readNBytes(head, 0, 4) < 4 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') continue;
                    }
                    elfs++;
                    String name = deb + "!/" + member + "!/" + root.relativize(f);
                    assertThat(ours).as(name).containsKey(name);
                    Readelf.Header h = Readelf.read(f);
                    ElfReport r = ours.get(name);
                    if (!h.interp() && h.type().equals("DYN")) {
                        for (long p : h.pageSizes()) assertThat(r.verdict(p).orElseThrow().loads()).as(name + " at " + p).isEqualTo(h.ldSoLoads(p));
                    }
                }
            }
            assertThat(ours).hasSize(elfs);
            System.out.println("DebianPackagesTest: " + deb.getFileName() + ": " + elfs + " ELF files agree with dpkg-deb and readelf");
        }
    }

    @Test
    void debiansJemallocIsBuiltFor64KPagesAsItsCodeSays() throws Exception {
        Path deb = debs().get(1);
        List<ElfReport> found = new ArrayList<>();
        new Scanner(f -> {
            if (f instanceof Finding.ElfFound e && e.report().path().endsWith("libjemalloc.so.2")) found.add(e.report());
        }).scan(deb);
        ElfReport r = found.getFirst();
        assertThat(r.mayFail()).as("built for 64K, the largest AArch64 page: no risk left").isEmpty();
        String note = r.notes().stream().filter(n -> n.contains("jemalloc")).findFirst().orElseThrow();
        assertThat(note).contains("pages up to 64K");
        // Oracle: binutils disassembles the instruction granule took the page size from.
        String cmpAt = note.replaceAll(".*CMP #0x[0-9a-f]+ at 0x([0-9a-f]+).*", "$1");
        Path root = Files.createDirectories(tmp.resolve("jemalloc"));
        run("dpkg-deb", "-x", deb.toString(), root.toString());
        Path lib;
        try (Stream<Path> s = Files.walk(root)) {
            lib = s.filter(p -> p.getFileName().toString().equals("libjemalloc.so.2") && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).findFirst().orElseThrow();
        }
        String objdump = "aarch64-linux-gnu-objdump";
        try {
            run(objdump, "--version");
        } catch (IOException e) {
            assumeTrue(false, "aarch64-linux-gnu-objdump (binutils-aarch64-linux-gnu) is not installed");
        }
        long at = Long.parseLong(cmpAt, 16);
        String dis = run(objdump, "-d", "--start-address=0x" + Long.toHexString(at), "--stop-address=0x" + Long.toHexString(at + 8), lib.toString());
        assertThat(dis).containsPattern("cmp\\s+x\\d+, #0x10, lsl #12").containsPattern("b\\.hi");
    }

    private static String dataMember(Path deb) throws IOException, InterruptedException {
        String list = run("ar", "t", deb.toString());
        return list.lines().filter(l -> l.startsWith("data.tar")).findFirst().orElseThrow();
    }
}
