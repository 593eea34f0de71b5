package dev.granule.capture;

import dev.granule.dump.KernelDump;
import dev.granule.dump.Translation;
import dev.granule.dump.VmcoreInfo;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.PageState;
import dev.granule.memory.PhysicalMemory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crash dumps made as a Debian user's kdump makes them ({@link CrashCapture}): kexec's ELF
 * {@code /proc/vmcore} and Debian's arm64 makedumpfile's files of the same crash, at dump levels 0
 * and 31. Oracles: QEMU's {@code gva2gpa} (asked while the first kernel ran), the ELF of the same
 * crash (pages byte for byte), the file's dumpable bitmap as this test reads it
 * ({@link DiskDumpBitmap}), and what the kernel's own {@code struct page} says about each page the
 * dump left out (zero, page cache, user or free: the four classes of {@code -d 31}).
 */
@Tag("qemu")
class RealCrashDumpTest {

    private static final Map<CrashCapture.Variant, Object> CAPTURES = new EnumMap<>(CrashCapture.Variant.class);

    static synchronized CrashCapture.Capture capture(CrashCapture.Variant flavour) throws Exception {
        Object c = CAPTURES.get(flavour);
        if (c == null) {
            try {
                c = CrashCapture.captureOrCached(flavour, DebianKernel.cacheRoot(), msg -> System.err.println("[crash capture] " + msg));
            } catch (CaptureUnavailableException e) {
                c = e;
            }
            CAPTURES.put(flavour, c);
        }
        if (c instanceof CaptureUnavailableException e) {
            String why = "cannot make a kdump crash capture of " + flavour + " here: " + e.getMessage();
            System.out.println("SKIPPED: " + why);
            Assumptions.abort(why);
        }
        return (CrashCapture.Capture) c;
    }

    /** Every makedumpfile file: the kdump-compressed ones and the flattened one. */
    static Stream<Arguments> files() {
        List<Arguments> out = new ArrayList<>();
        for (CrashCapture.Variant f : CrashCapture.Variant.values()) {
            for (String c : CrashCapture.COMPRESSIONS) {
                for (int d : CrashCapture.DUMP_LEVELS) out.add(Arguments.of(f, CrashCapture.kdumpName(c, d)));
            }
            out.add(Arguments.of(f, CrashCapture.FLATTENED));
            for (int d : CrashCapture.ZSTD_LEVELS) out.add(Arguments.of(f, CrashCapture.zstdName(d)));
        }
        return out.stream();
    }

    /**
     * The file; the test skips, with makedumpfile's own words, where makedumpfile refuses the kernel
     * ("... not supported": Debian's 1.7.2 and the 16K kernel), and fails on any other missing file.
     */
    static Path file(CrashCapture.Capture c, String name) throws Exception {
        Path p = c.guest().resolve(name);
        if (name.contains("-trixie-") && c.trixieMakedumpfile().isEmpty()) {
            String why = name + ": the capture was made without trixie's makedumpfile (scripts/makedumpfile-trixie.sh, which "
                    + "scripts/install-test-deps.sh runs, could not fetch it): no real zstd pages here";
            System.out.println("SKIPPED: " + why);
            Assumptions.abort(why);
        }
        if (c.exit(name) != 0 || !Files.isRegularFile(p) || Files.size(p) == 0) {
            String log = c.log(name).strip();
            String why = name + " was not written in the crash kernel (exit " + c.exit(name) + "): " + log;
            if (log.contains("not supported")) {
                System.out.println("SKIPPED: " + why);
                Assumptions.abort(why);
            }
            throw new AssertionError(why);
        }
        return p;
    }

    static int level(String name) {
        return name.contains("-d31") ? 31 : 0;
    }

    /** The dumpable bitmap of the file, or for the flattened file that of the KDUMP file made with the same options. */
    static DiskDumpBitmap bitmap(CrashCapture.Capture c, String name) throws Exception {
        return DiskDumpBitmap.read(name.equals(CrashCapture.FLATTENED) ? file(c, CrashCapture.kdumpName("c", 31)) : file(c, name));
    }

    @ParameterizedTest
    @EnumSource(CrashCapture.Variant.class)
    void kexecsElfAgreesWithQemuOnEveryProbedAddress(CrashCapture.Variant flavour) throws Exception {
        CrashCapture.Capture c = capture(flavour);
        Path elf = file(c, "vmcore.elf");
        List<String> mismatches = new ArrayList<>();
        int mapped = 0;
        try (KernelDump d = KernelDump.open(elf)) {
            assertThat(d.format()).isEqualTo(KernelDump.Format.ELF);
            for (Probe p : c.probes()) {
                long ours = d.translate(p.va()).map(m -> m.translate(p.va())).orElse(-1L);
                if (ours != p.pa()) mismatches.add(String.format("%s %#x: QEMU %#x, granule %#x", p.category(), p.va(), p.pa(), ours));
                if (p.mapped()) mapped++;
            }
        }
        System.err.printf("[%s kexec ELF] %d probes (%d mapped), %d mismatches%n", flavour, c.probes().size(), mapped, mismatches.size());
        assertThat(mapped).isGreaterThan(200);
        assertThat(mismatches).as("addresses translated differently from QEMU's gva2gpa").isEmpty();
    }

    /**
     * Every probed address: the same PA as QEMU's gva2gpa, or "not in the dump" (a table or the
     * target page left out), and then the page must be one the bitmap really leaves out, only at
     * level 31, and one the kernel's struct page puts in one of level 31's classes.
     */
    @ParameterizedTest
    @MethodSource("files")
    void agreesWithQemuAndTheElfOfTheSameCrash(CrashCapture.Variant flavour, String name) throws Exception {
        CrashCapture.Capture c = capture(flavour);
        Path path = file(c, name);
        DiskDumpBitmap bitmap = bitmap(c, name);
        List<String> mismatches = new ArrayList<>();
        Map<String, Integer> excludedWhy = new TreeMap<>();
        int agreed = 0;
        try (KernelDump kd = KernelDump.open(path); KernelDump elf = KernelDump.open(file(c, "vmcore.elf"))) {
            assertThat(kd.format()).isEqualTo(name.endsWith(".flat") ? KernelDump.Format.FLATTENED_KDUMP : KernelDump.Format.KDUMP);
            assertThat(kd.geometry()).isEqualTo(elf.geometry());
            assertThat(kd.tables().rootPa()).isEqualTo(elf.tables().rootPa());
            StructPages pages = new StructPages(elf, elf.vmcoreInfo().orElseThrow());
            for (Probe p : c.probes()) {
                Translation t = kd.resolve(p.va());
                long leftOut = -1;
                switch (t) {
                    case Translation.Mapped m -> {
                        if (m.pa() != p.pa()) {
                            mismatches.add(String.format("%s %#x: QEMU %#x, granule %#x", p.category(), p.va(), p.pa(), m.pa()));
                        } else if (m.target() == PageState.EXCLUDED) {
                            leftOut = m.pa();
                        } else if (m.target() == PageState.PRESENT) {
                            agreed++;
                            long pa = m.pa() & -8L;
                            assertThat(kd.memory().readLong(pa)).as("8 bytes at PA %#x", pa).isEqualTo(elf.memory().readLong(pa));
                        } else {
                            agreed++; // device memory, in neither file
                        }
                    }
                    case Translation.Unmapped u -> {
                        if (p.mapped()) mismatches.add(String.format("%s %#x: QEMU %#x, granule unmapped", p.category(), p.va(), p.pa()));
                        else agreed++;
                    }
                    case Translation.NotInDump n -> leftOut = n.tablePa();
                    default -> mismatches.add(String.format("%s %#x: QEMU %s, granule %s", p.category(), p.va(),
                            p.mapped() ? String.format("%#x", p.pa()) : "unmapped", t));
                }
                if (leftOut >= 0) {
                    String why = level(name) == 0 ? null : pages.whyLeftOut(leftOut);
                    if (bitmap.dumpable(leftOut) || why == null) {
                        mismatches.add(String.format("%s %#x: granule says PA %#x is not in the dump; bitmap %s, struct page %s",
                                p.category(), p.va(), leftOut, bitmap.dumpable(leftOut) ? "has it" : "leaves it out", pages.describe(leftOut)));
                    } else {
                        excludedWhy.merge(why, 1, Integer::sum);
                    }
                }
            }
        }
        System.err.printf("[%s %s] %d probes agree with QEMU, not in the dump: %s%n", flavour, name, agreed, excludedWhy);
        assertThat(mismatches).as("answers that differ from QEMU's gva2gpa or from the bitmap").isEmpty();
        assertThat(agreed).isGreaterThan(200);
        if (level(name) == 0) assertThat(excludedWhy).isEmpty();
    }

    /** Pages the file holds are the ELF's pages, byte for byte; the ones it leaves out are ones the bitmap leaves out. */
    @ParameterizedTest
    @MethodSource("files")
    void pagesAreTheElfsPagesAndTheBitmapSaysWhichAreLeftOut(CrashCapture.Variant flavour, String name) throws Exception {
        CrashCapture.Capture c = capture(flavour);
        DiskDumpBitmap bitmap = bitmap(c, name);
        try (KernelDump kd = KernelDump.open(file(c, name)); KernelDump elf = KernelDump.open(file(c, "vmcore.elf"))) {
            PhysicalMemory a = kd.memory();
            PhysicalMemory b = elf.memory();
            StructPages pages = new StructPages(elf, elf.vmcoreInfo().orElseThrow());
            int pageSize = bitmap.blockSize();
            byte[] x = new byte[pageSize];
            byte[] y = new byte[pageSize];
            Random random = new Random(18);
            List<MemoryRange> ram = b.ranges();
            int compared = 0;
            Map<String, Integer> leftOut = new TreeMap<>();
            for (int i = 0; i < 2000; i++) {
                MemoryRange r = ram.get(random.nextInt(ram.size()));
                long pa = (r.base() + (long) (random.nextDouble() * (r.size() - pageSize))) & -(long) pageSize;
                PageState state = a.pageState(pa);
                assertThat(state == PageState.PRESENT).as("page %#x present in granule's view and in the bitmap", pa)
                        .isEqualTo(bitmap.dumpable(pa));
                if (state != PageState.PRESENT) {
                    String why = level(name) == 0 ? null : pages.whyLeftOut(pa);
                    assertThat(why).as("why %s leaves out PA %#x: %s", name, pa, pages.describe(pa)).isNotNull();
                    leftOut.merge(why, 1, Integer::sum);
                    continue;
                }
                a.read(pa, x, 0, pageSize);
                b.read(pa, y, 0, pageSize);
                if (!Arrays.equals(x, y)) throw new AssertionError(String.format("page at PA %#x differs from the ELF of the same crash", pa));
                compared++;
            }
            System.err.printf("[%s %s] %d pages equal to kexec's ELF, left out: %s%n", flavour, name, compared, leftOut);
            assertThat(compared).isGreaterThan(100);
        }
    }

    /**
     * Trixie's {@code -z} files really hold zstd pages (what bookworm's cannot write): the header's
     * status has DUMP_DH_COMPRESSED_ZSTD (0x20) and most page descriptors (24 bytes each after the
     * bitmaps: offset, size, flags, page_flags) carry the page flag DUMP_DH_COMPRESSED_ZSTD, read
     * here from diskdump_mgmt.h's layout apart from granule's reader.
     */
    @ParameterizedTest
    @MethodSource("zstdFiles")
    void trixiesZstdFilesHoldZstdPages(CrashCapture.Variant flavour, String name) throws Exception {
        CrashCapture.Capture c = capture(flavour);
        Path path = file(c, name);
        DiskDumpBitmap bitmap = DiskDumpBitmap.read(path);
        assertThat(bitmap.status() & 0x20).as("disk_dump_header.status of %s", name).isEqualTo(0x20);
        long zstd = 0, described = 0;
        try (FileChannel ch = FileChannel.open(path)) {
            ByteBuffer h = ByteBuffer.allocate(448).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            long descriptors = (long) bitmap.blockSize() * (1 + h.getInt(432) + Integer.toUnsignedLong(h.getInt(436)));
            ByteBuffer d = ByteBuffer.allocate(24 * 4096).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(d, descriptors);
            for (int i = 0; i + 24 <= d.position(); i += 24) {
                described++;
                if ((d.getInt(i + 12) & 0x20) != 0) zstd++;
            }
        }
        System.err.printf("[%s %s] %d of the first %d page descriptors are zstd pages%n", flavour, name, zstd, described);
        assertThat(zstd).as("zstd pages among the first %d descriptors of %s", described, name).isGreaterThan(described / 4);
    }

    static Stream<Arguments> zstdFiles() {
        return files().filter(a -> a.get()[1].toString().contains("-trixie-"));
    }

    /** Level 31 leaves pages out that level 0 keeps: fewer dumpable pages, in the bitmap and in granule's count. */
    @ParameterizedTest
    @EnumSource(CrashCapture.Variant.class)
    void level31HasFewerDumpablePagesThanLevel0(CrashCapture.Variant flavour) throws Exception {
        CrashCapture.Capture c = capture(flavour);
        for (String comp : CrashCapture.COMPRESSIONS) {
            DiskDumpBitmap d0 = DiskDumpBitmap.read(file(c, CrashCapture.kdumpName(comp, 0)));
            DiskDumpBitmap d31 = DiskDumpBitmap.read(file(c, CrashCapture.kdumpName(comp, 31)));
            try (KernelDump k0 = KernelDump.open(c.kdump(comp, 0)); KernelDump k31 = KernelDump.open(c.kdump(comp, 31))) {
                long g0 = ((dev.granule.dump.KdumpMemory) k0.memory()).dumpedPages();
                long g31 = ((dev.granule.dump.KdumpMemory) k31.memory()).dumpedPages();
                System.err.printf("[%s -%s] dumpable pages: -d 0 %d, -d 31 %d%n", flavour, comp, d0.dumpablePages(), d31.dumpablePages());
                assertThat(g0).isEqualTo(d0.dumpablePages());
                assertThat(g31).isEqualTo(d31.dumpablePages());
                assertThat(d31.dumpablePages()).isLessThan(d0.dumpablePages());
            }
        }
    }
}
