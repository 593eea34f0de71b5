package dev.granule.compat;

import dev.granule.capture.CaptureUnavailableException;
import dev.granule.capture.CpioWriter;
import dev.granule.capture.DebianKernel;
import dev.granule.capture.GuestRun;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The executable oracle: Debian's arm64 kernels (the 4K {@code arm64} flavour and the 16K {@code arm64-16k}
 * one, as the dump tests use them) boot under QEMU with an initramfs holding a static busybox, Debian's
 * arm64 glibc loader and libc (libc6), and every library of the test set: the AArch64 shared objects in the
 * Maven Central JARs of {@link RealArtifactsTest}, the ones in Debian's libc6 and libjemalloc2 packages, and
 * the hand-written {@link LoadableFixtures}. The init runs {@code ld-linux-aarch64.so.1 --list} on each and
 * prints one line per library on the serial console; a load error naming the library itself ("ELF load
 * command address/offset not page-aligned" from glibc 2.35 on; "ELF load command alignment not page-aligned"
 * and "... address/offset not properly aligned" from older ones) is a refusal, missing
 * dependencies ("not found") are not a page-size verdict. Programs (libc.so.6, which has PT_INTERP, and the
 * hand-written static ones) are executed instead, so the kernel's ELF loader maps them: they load when they
 * run to their exit. granule's verdict at the kernel's page size must equal the loader's for every file.
 *
 * <p>Debian builds no 64K arm64 kernel, so 64K has no executable oracle here and rests on the rule
 * ({@link LoadRules}) alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoaderOracleTest {

    static final String NO_64K = "64K: Debian builds no 64K-page arm64 kernel (its arm64 flavours are arm64 = 4K and "
            + "arm64-16k), so granule's 64K verdicts rest on the loader's rule (LoadRules) alone, not on this oracle";

    /**
     * A file of the test set: where it came from, its bytes, and granule's report on those bytes. Shared
     * objects go to the loader; programs (granule's loader KERNEL) are executed, so the kernel maps them.
     */
    record Library(String origin, String name, byte[] bytes, ElfReport report) {
        boolean program() {
            return report.loader().equals(java.util.Optional.of(LoadRules.Loader.KERNEL));
        }
    }

    /** The loader's answer for one library, from its console line. */
    record Answer(String verdict, int exit, int notFound, String message) {}

    private final List<Library> libraries = new ArrayList<>();
    private final List<String> androidLeftOut = new ArrayList<>();
    private Path libc;
    private Path work;

    @BeforeAll
    void collectTheTestSet() throws Exception {
        work = Files.createTempDirectory("granule-loader-oracle");
        try (Stream<Path> s = Files.list(RealArtifactsTest.jars())) {
            for (Path jar : s.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) fromJar(jar);
        }
        List<Path> debs = DebianPackagesTest.debs();
        for (Path deb : debs) {
            Path root = Files.createDirectories(work.resolve(deb.getFileName().toString()));
            DebianPackagesTest.run("dpkg-deb", "-x", deb.toString(), root.toString());
            if (deb.getFileName().toString().startsWith("libc6_")) libc = root;
            fromTree(deb.getFileName().toString(), root);
        }
        LoadableFixtures.all().forEach((name, bytes) -> add("fixture", name, bytes));
        LoadableFixtures.programs().forEach((name, bytes) -> add("fixture", name, bytes));
    }

    @AfterAll
    void removeTheUnpackedPackages() throws IOException {
        if (work == null) return;
        try (Stream<Path> s = Files.walk(work)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void glibcsLoaderUnderDebiansKernelAgreesWithGranuleOnEveryLibrary(DebianKernel.Flavour flavour) throws Exception {
        DebianKernel kernel;
        Path busybox;
        try {
            GuestRun.checkQemu();
            kernel = DebianKernel.fetch(flavour, DebianKernel.cacheRoot(), System.out::println);
            busybox = DebianKernel.busybox(DebianKernel.cacheRoot(), System.out::println);
        } catch (CaptureUnavailableException e) {
            assumeTrue(false, "no QEMU or no Debian " + flavour + " kernel: " + e.getMessage());
            return;
        }
        Path console = Files.createDirectories(Path.of("target")).resolve("loader-oracle-" + flavour + ".log");
        String text;
        try {
            text = GuestRun.boot(kernel, initramfs(busybox), console, 900);
        } catch (CaptureUnavailableException e) {
            assumeTrue(false, e.getMessage());
            return;
        }
        Map<String, Answer> answers = new TreeMap<>();
        long pageSize = 0;
        boolean ended = false;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.startsWith("GRANULE-PAGESIZE ")) pageSize = Long.parseLong(line.substring(17).strip()) * 1024;
            else if (line.equals("GRANULE-LD-END")) ended = true;
            else if (line.startsWith("GRANULE-LD ")) {
                String[] f = line.split(" ", 6);
                answers.put(f[1], new Answer(f[2], Integer.parseInt(f[3]), Integer.parseInt(f[4]), f.length > 5 ? f[5] : ""));
            }
        }
        assertThat(ended).as("the guest ran the loader over the whole set (console: " + console + ")").isTrue();
        // The kernel's own word for its page size (KernelPageSize in smaps), not the flavour's name.
        assertThat(pageSize).as("KernelPageSize of " + kernel.release()).isEqualTo(flavour == DebianKernel.Flavour.ARM64_16K ? 16384 : 4096);

        List<String> disagreements = new ArrayList<>();
        List<String> otherErrors = new ArrayList<>();
        Map<String, int[]> byOrigin = new LinkedHashMap<>();   // origin -> {libraries, loaded, refused}
        int loaded = 0, refused = 0, withMissingDeps = 0;
        for (int i = 0; i < libraries.size(); i++) {
            Library lib = libraries.get(i);
            Answer a = answers.get(guestPath(i, lib.program()));
            assertThat(a).as("a loader line for " + lib.name()).isNotNull();
            boolean ours = lib.report().verdict(pageSize).orElseThrow().loads();
            int[] counts = byOrigin.computeIfAbsent(lib.origin(), k -> new int[3]);
            counts[0]++;
            if (a.notFound() > 0) withMissingDeps++;
            switch (a.verdict()) {
                case "loads" -> { loaded++; counts[1]++; }
                case "refused" -> { refused++; counts[2]++; }
                default -> {
                    otherErrors.add(lib.name() + ": " + a.message() + " (exit " + a.exit() + ")");
                    continue;
                }
            }
            boolean theirs = a.verdict().equals("loads");
            if (ours != theirs) {
                disagreements.add(lib.name() + ": glibc's loader " + (theirs ? "loads it" : "refuses it: " + a.message())
                        + "; granule says " + (ours ? "it loads" : "it does not: " + lib.report().verdict(pageSize).orElseThrow().problems()));
            }
        }
        StringBuilder summary = new StringBuilder("LoaderOracleTest: " + kernel.release() + " (" + PageSizes.name(pageSize)
                + " pages, QEMU " + flavour + "): " + libraries.size() + " files (" + libraries.stream().filter(Library::program).count()
                + " programs run, the rest through ld.so --list): " + loaded + " load, " + refused
                + " refused, " + otherErrors.size() + " other errors; " + withMissingDeps + " with dependencies not found; "
                + disagreements.size() + " disagreements with granule");
        byOrigin.forEach((o, c) -> summary.append("\n  ").append(o).append(": ").append(c[0]).append(" files, ")
                .append(c[1]).append(" load, ").append(c[2]).append(" refused"));
        summary.append("\n  ").append(androidLeftOut.size()).append(" Android (NDK) libraries left out: bionic's linker maps them, not glibc's ")
                .append(androidLeftOut);
        summary.append("\n  ").append(NO_64K);
        System.out.println(summary);
        otherErrors.forEach(e -> System.out.println("  not judged by the loader: " + e));
        assertThat(disagreements).as("granule vs glibc's loader at " + PageSizes.name(pageSize)).isEmpty();
        assertThat(otherErrors).as("load errors that are neither a page-size refusal nor a missing dependency").isEmpty();
        assertThat(loaded).as("libraries the loader mapped").isPositive();
        if (pageSize > 4096) assertThat(refused).as("libraries the loader refused at " + PageSizes.name(pageSize)).isPositive();
    }

    private void fromJar(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (e.isDirectory()) continue;
                byte[] data;
                try (InputStream in = zip.getInputStream(e)) {
                    data = in.readAllBytes();
                }
                add(jar.getFileName().toString(), jar.getFileName() + "!/" + e.getName(), data);
            }
        }
    }

    private void fromTree(String origin, Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path f : s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                // The loader cannot map itself as a program's library ("loader cannot load itself").
                if (f.getFileName().toString().startsWith("ld-linux-")) continue;
                add(origin, origin + "!/" + root.relativize(f), Files.readAllBytes(f));
            }
        }
    }

    /**
     * Keeps what runs on AArch64 Linux: ELF64 LSB AArch64 shared objects (ET_DYN without PT_INTERP, for
     * glibc's loader) and programs (PT_INTERP or ET_EXEC, for the kernel).
     */
    private void add(String origin, String name, byte[] data) {
        if (data.length < 4 || data[0] != 0x7f || data[1] != 'E' || data[2] != 'L' || data[3] != 'F') return;
        ElfReport r = ElfAnalyzer.analyze(name, MemorySegment.ofArray(data));
        if (r.architecture() == Architecture.AARCH64 && r.elfClass().equals("ELF64") && r.byteOrder().equals("LSB")
                && (r.type().equals("DYN") || r.type().equals("EXEC")) && r.loader().isPresent()) {
            // Android's linker, not glibc's, maps an NDK library: glibc's answer is not the verdict for it.
            if (r.loader().get() == LoadRules.Loader.BIONIC) androidLeftOut.add(name);
            else libraries.add(new Library(origin, name, data, r));
        }
    }

    /** Shared objects under /t, programs under /p, numbered in test-set order. */
    private static String guestPath(int i, boolean program) {
        return String.format(program ? "/p/%04d" : "/t/%04d", i);
    }

    /** busybox, glibc's loader and libc6's libraries where the loader looks, the test set under /t, and the init. */
    private byte[] initramfs(Path busybox) throws IOException {
        CpioWriter cpio = new CpioWriter().directory("bin").directory("dev").directory("proc").directory("lib")
                .directory("lib/aarch64-linux-gnu").directory("t").directory("p")
                .file("bin/busybox", 0755, Files.readAllBytes(busybox));
        boolean loader = false;
        try (Stream<Path> s = Files.walk(libc)) {
            for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                String name = f.getFileName().toString();
                if (!f.getParent().getFileName().toString().equals("aarch64-linux-gnu") || !name.contains(".so")) continue;
                if (name.equals("ld-linux-aarch64.so.1")) {
                    cpio.file("lib/ld-linux-aarch64.so.1", 0755, Files.readAllBytes(f));
                    loader = true;
                } else {
                    cpio.file("lib/aarch64-linux-gnu/" + name, 0755, Files.readAllBytes(f));
                }
            }
        }
        assertThat(loader).as("libc6 holds ld-linux-aarch64.so.1").isTrue();
        for (int i = 0; i < libraries.size(); i++) {
            cpio.file(guestPath(i, libraries.get(i).program()).substring(1), 0755, libraries.get(i).bytes());
        }
        return cpio.file("init", 0755, INIT.getBytes(StandardCharsets.US_ASCII)).finish();
    }

    /** One line per file: GRANULE-LD path verdict exit not-found-count message. */
    static final String INIT = """
            #!/bin/busybox sh
            B=/bin/busybox
            LD=/lib/ld-linux-aarch64.so.1
            $B mount -t proc proc /proc
            echo GRANULE-PAGESIZE $($B awk '/^KernelPageSize/ {print $2; exit}' /proc/self/smaps)
            for f in /t/*; do
              out=$($LD --list "$f" 2>&1)
              rc=$?
              nf=$(echo "$out" | $B grep -c -e 'not found' -e 'cannot open shared object file')
              err=$(echo "$out" | $B grep -F "error while loading shared libraries: $f: " | $B head -n 1)
              if [ -n "$err" ]; then
                msg=${err#*"shared libraries: $f: "}
                case "$msg" in
                  *"not page-aligned"*|*"not properly aligned"*) v=refused ;;
                  *) v=error ;;
                esac
              elif [ "$rc" -ge 128 ]; then
                v=error; msg="killed by signal $((rc - 128))"
              else
                v=loads; msg=$(echo "$out" | $B head -n 1)
              fi
              echo "GRANULE-LD $f $v $rc $nf $msg"
            done
            # Programs: the kernel maps them at exec; the fixtures exit 42, libc.so.6 prints its banner and exits 0.
            for f in /p/*; do
              [ -e "$f" ] || continue
              "$f" > /dev/null 2>&1
              rc=$?
              case "$rc" in 0|42) v=loads ;; *) v=refused ;; esac
              echo "GRANULE-LD $f $v $rc 0 exit status $rc"
            done
            echo GRANULE-LD-END
            $B poweroff -f
            """;
}
