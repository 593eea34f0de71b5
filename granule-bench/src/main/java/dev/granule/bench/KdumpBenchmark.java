package dev.granule.bench;

import dev.granule.dump.KernelDump;
import dev.granule.dump.Translation;
import dev.granule.dump.TranslationLines;
import dev.granule.dump.TranslationText;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.TableWalker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One real crash in three files: QEMU's ELF dump of a stopped Debian kernel, QEMU's kdump-zlib
 * dump of the same guest (flattened) and that file rewritten by {@code makedumpfile -R} (KDUMP), as
 * made by granule-capture's real-kernel capture (run its tests once first). Per format: translating
 * the addresses QEMU was asked about; 8-byte reads at random linear-map addresses over all of RAM
 * ({@code cold}: nearly every read decompresses a page) and within 16 pages ({@code warm}: the page
 * cache holds them); and translate plus the text line {@code dump translate} prints, the library's
 * share of the command's per-address cost.
 *
 * <p>The capture directory is {@code -Dgranule.capture=DIR}, default the first
 * {@code ~/.cache/granule/captures/*-f4} of the 4K kernel.
 */
@State(Scope.Benchmark)
public class KdumpBenchmark extends NanosecondBenchmark {

    static final int READS = 4096;
    /** QEMU's probe addresses, cycled to this many. */
    static final int PROBES = 512;

    /**
     * QEMU's three files of one stopped guest; or ({@code crash-}) kexec's ELF /proc/vmcore and
     * Debian's makedumpfile {@code -l -d 0} KDUMP file (LZO, 4K blocks) of one crash, as
     * granule-capture's {@code CrashCapture} makes them ({@code -Dgranule.crash=DIR}, default the 4K kernel's).
     */
    @Param({"elf", "kdump", "flattened", "crash-elf", "crash-kdump"})
    public String format;

    KernelDump dump;
    TableWalker walker;
    PhysicalMemory memory;
    long[] probes;
    long[] coldVas;
    long[] warmVas;
    TranslationText text;
    TranslationLines lines;
    StringBuilder line = new StringBuilder(200);

    static Path captureDir() throws IOException {
        String dir = System.getProperty("granule.capture");
        if (dir != null) return Path.of(dir);
        Path base = CacheDir.granule().resolve("captures");
        try (var s = Files.list(base)) {
            return s.filter(p -> p.getFileName().toString().endsWith("-f4") && !p.toString().contains("16k")).sorted().findFirst()
                    .orElseThrow(() -> new IllegalStateException("no capture in " + base + ": run granule-capture's tests first"));
        }
    }

    static Path crashDir() throws IOException {
        String dir = System.getProperty("granule.crash");
        if (dir != null) return Path.of(dir);
        Path base = CacheDir.granule().resolve("crash-captures");
        try (var s = Files.list(base)) {
            return s.filter(p -> !p.toString().contains("16k") && Files.exists(p.resolve("guest/vmcore-l-d0.kdump"))).sorted().findFirst()
                    .orElseThrow(() -> new IllegalStateException("no crash capture in " + base + ": run granule-capture's RealCrashDumpTest first"));
        }
    }

    @Setup(Level.Trial)
    public void open() throws IOException {
        Path dir = format.startsWith("crash-") ? crashDir() : captureDir();
        Path file = dir.resolve(switch (format) {
            case "elf" -> "vmcore.elf";
            case "kdump" -> "vmcore.kdump";
            case "crash-elf" -> "guest/vmcore.elf";
            case "crash-kdump" -> "guest/vmcore-l-d0.kdump";
            default -> "vmcore.kdump-flat";
        });
        dump = KernelDump.open(file);
        walker = dump.kernelWalker();
        memory = dump.memory();
        text = new TranslationText(dump.geometry());
        lines = new TranslationLines(dump, java.nio.charset.StandardCharsets.UTF_8);
        List<Long> vas = new ArrayList<>();
        for (String l : Files.readAllLines(dir.resolve("gva2gpa.tsv"))) {
            if (l.isBlank() || l.startsWith("#")) continue;
            vas.add(Long.parseUnsignedLong(l.split("\t")[1].substring(2), 16));
        }
        probes = new long[PROBES];
        for (int i = 0; i < PROBES; i++) probes[i] = vas.get(i % vas.size());
        long pageOffset = -(1L << dump.geometry().vaBits());
        long ramBase = memory.ranges().getFirst().base();
        long ramSize = memory.ranges().getFirst().size();
        SplittableRandom random = new SplittableRandom(18);
        coldVas = new long[READS];
        warmVas = new long[READS];
        long warmBase = ramBase + (ramSize / 2 & -65536L);
        for (int i = 0; i < READS; i++) {
            coldVas[i] = pageOffset + (random.nextLong(ramSize) & -8L);
            warmVas[i] = pageOffset + (warmBase - ramBase) + (random.nextLong(16 * 4096) & -8L);
        }
        // PHYS_OFFSET is the first RAM range's base on QEMU's virt board: linear address = PAGE_OFFSET + (PA - base).
        if (walker.outputAddress(coldVas[0]) < ramBase) throw new IllegalStateException("linear map not where expected");
    }

    @TearDown(Level.Trial)
    public void close() { dump.close(); }

    /** QEMU's probe addresses (text, linear map, vmalloc, vmemmap, unmapped) through the kernel's tables. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long translate() {
        long sum = 0;
        for (long va : probes) sum += walker.outputAddress(va);
        return sum;
    }

    /** Translate and read 8 bytes at random linear-map addresses over all of RAM. */
    @Benchmark
    @OperationsPerInvocation(READS)
    public long readCold() { return readAll(coldVas); }

    /** The same within 16 pages. */
    @Benchmark
    @OperationsPerInvocation(READS)
    public long readWarm() { return readAll(warmVas); }

    private long readAll(long[] vas) {
        long sum = 0;
        for (long va : vas) sum += memory.readLong(walker.outputAddress(va));
        return sum;
    }

    /** {@link KernelDump#resolve}: the walk with its leaf as a value and the target page's state, no text. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long resolve() {
        long n = 0;
        for (long va : probes) {
            if (dump.resolve(va) instanceof Translation.Mapped m) n += m.pa();
        }
        return n;
    }

    /** What {@code dump translate} does per address in the library: resolve, then the text line. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public int resolveAndFormat() {
        int n = 0;
        for (long va : probes) {
            line.setLength(0);
            Translation t = dump.resolve(va);
            n += text.append(line, t, null).length();
        }
        return n;
    }

    /** {@code dump translate}'s lean path: the same lines as {@link #resolveAndFormat}, as ASCII bytes in one reused buffer. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public int lines() {
        lines.clear();
        for (long va : probes) lines.append(va, null);
        return lines.length();
    }
}
