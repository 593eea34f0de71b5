package dev.granule.capture;

import dev.granule.dump.DumpOptions;
import dev.granule.dump.ElfCore;
import dev.granule.dump.GeometrySearch;
import dev.granule.dump.KernelDump;
import dev.granule.dump.KernelTables;
import dev.granule.capture.DebianKernel;
import dev.granule.capture.KernelCapture;
import dev.granule.capture.Probe;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MappedMemory;
import dev.granule.table.Mapping;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Debian arm64 kernel, booted under QEMU and dumped (see {@link KernelCapture}): granule must
 * detect the geometry the kernel was built with (its /boot/config) from the dump alone, and
 * translate every probed kernel address exactly as QEMU's own table walker ({@code gva2gpa}) did
 * when the guest was stopped, mapped and unmapped alike.
 *
 * <p>The first run downloads the kernel and busybox with apt and boots the kernel (about 20 s per
 * flavour); the capture is cached under {@code ${XDG_CACHE_HOME:-~/.cache}/granule/captures}. The
 * test is skipped, with the reason, only where the capture cannot run here (no QEMU, no apt or no
 * arm64 package lists).
 */
@Tag("qemu")
class RealKernelDumpTest {

    private static final Map<DebianKernel.Flavour, Object> CAPTURES = new EnumMap<>(DebianKernel.Flavour.class);

    /** The capture for a flavour, made once per JVM; skips the test if it cannot be made here. */
    static synchronized KernelCapture.Capture capture(DebianKernel.Flavour flavour) throws Exception {
        Object c = CAPTURES.get(flavour);
        if (c == null) {
            try {
                c = KernelCapture.captureOrCached(flavour, DebianKernel.cacheRoot(), msg -> System.err.println("[capture] " + msg));
            } catch (CaptureUnavailableException e) {
                c = e;
            }
            CAPTURES.put(flavour, c);
        }
        if (c instanceof CaptureUnavailableException e) {
            Assumptions.abort("cannot capture a real " + flavour + " kernel dump here: " + e.getMessage());
        }
        return (KernelCapture.Capture) c;
    }

    /** The kernel's build configuration, as /boot/config-* states it: the independent expectation. */
    record KernelConfig(long pageSize, int vaBits, int paBits, int levels) {
        static KernelConfig read(Path config) throws IOException {
            Map<String, String> c = new HashMap<>();
            for (String line : Files.readAllLines(config)) {
                int eq = line.indexOf('=');
                if (line.startsWith("CONFIG_") && eq > 0) c.put(line.substring(0, eq), line.substring(eq + 1));
            }
            long page = "y".equals(c.get("CONFIG_ARM64_4K_PAGES")) ? 4096
                    : "y".equals(c.get("CONFIG_ARM64_16K_PAGES")) ? 16384
                    : "y".equals(c.get("CONFIG_ARM64_64K_PAGES")) ? 65536 : 0;
            return new KernelConfig(page, Integer.parseInt(c.get("CONFIG_ARM64_VA_BITS")),
                    Integer.parseInt(c.get("CONFIG_ARM64_PA_BITS")), Integer.parseInt(c.get("CONFIG_PGTABLE_LEVELS")));
        }
    }

    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void detectsTheGeometryTheKernelWasBuiltWith(DebianKernel.Flavour flavour) throws Exception {
        KernelCapture.Capture capture = capture(flavour);
        KernelConfig config = KernelConfig.read(capture.config());
        try (KernelDump dump = KernelDump.open(capture.vmcore())) {
            Geometry g = dump.geometry();
            assertThat(dump.vmcoreInfoSource()).startsWith("ELF note");
            assertThat(g.pageSize()).as("page size vs CONFIG_ARM64_*K_PAGES").isEqualTo(config.pageSize());
            // -cpu max implements FEAT_LVA and FEAT_LPA2, so the kernel runs the VA size it was built for.
            assertThat(g.vaBits()).as("VA size vs CONFIG_ARM64_VA_BITS").isEqualTo(config.vaBits());
            assertThat(g.paBits()).as("PA size vs CONFIG_ARM64_PA_BITS").isEqualTo(config.paBits());
            assertThat(g.levels()).as("levels vs CONFIG_PGTABLE_LEVELS").isEqualTo(config.levels());
            assertThat(dump.vmcoreInfo().orElseThrow().osRelease()).contains(capture.properties().getProperty("release"));
        }
    }

    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void translatesEveryProbedAddressAsQemuDoes(DebianKernel.Flavour flavour) throws Exception {
        KernelCapture.Capture capture = capture(flavour);
        List<Probe> probes = capture.probes();
        List<String> mismatches = new ArrayList<>();
        Map<String, int[]> perCategory = new TreeMap<>(); // mapped, unmapped
        try (KernelDump dump = KernelDump.open(capture.vmcore())) {
            for (Probe p : probes) {
                Optional<Mapping> m = dump.translate(p.va());
                long ours = m.map(x -> x.translate(p.va())).orElse(-1L);
                if (ours != p.pa()) {
                    mismatches.add(String.format("%s 0x%016x: QEMU %s, granule %s", p.category(), p.va(),
                            p.mapped() ? String.format("0x%x", p.pa()) : "unmapped", m.map(Mapping::toString).orElse("unmapped")));
                }
                String kind = p.category().contains(":") ? p.category().substring(0, p.category().indexOf(':')) : p.category();
                perCategory.computeIfAbsent(kind, k -> new int[2])[p.mapped() ? 0 : 1]++;
            }
        }
        assertThat(mismatches).as("addresses granule translates differently from QEMU's gva2gpa").isEmpty();
        // The probes must exercise every region, or agreement would prove little.
        for (String kind : List.of("symbol", "kallsyms", "text", "linear", "vmemmap", "vmalloc")) {
            assertThat(perCategory.getOrDefault(kind, new int[2])[0]).as("mapped %s probes", kind).isGreaterThan(0);
        }
        assertThat(perCategory.get("random")[1]).as("unmapped random probes").isGreaterThan(0);
        assertThat(probes.size()).isGreaterThan(200);
        System.err.printf("[%s] %d probes agree with QEMU: %s%n", flavour, probes.size(), describe(perCategory));
    }

    private static String describe(Map<String, int[]> perCategory) {
        StringBuilder b = new StringBuilder();
        perCategory.forEach((k, v) -> b.append(k).append(' ').append(v[0]).append('/').append(v[0] + v[1]).append(" mapped, "));
        return b.toString();
    }

    /** Without VMCOREINFO, given only the root, the candidate search must settle on the same geometry. */
    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void findsTheGeometryByTryingCandidatesWhenVmcoreInfoIsIgnored(DebianKernel.Flavour flavour) throws Exception {
        KernelCapture.Capture capture = capture(flavour);
        KernelConfig config = KernelConfig.read(capture.config());
        long root;
        try (KernelDump dump = KernelDump.open(capture.vmcore())) {
            root = dump.tables().rootPa();
        }
        try (KernelDump blind = KernelDump.open(capture.vmcore(), DumpOptions.defaults().withoutVmcoreInfo().withRoot(root))) {
            GeometrySearch.Result r = blind.search().orElseThrow();
            assertThat(r.ambiguous()).as("ambiguous: %s", r.candidates()).isFalse();
            assertThat(blind.geometry().pageSize()).isEqualTo(config.pageSize());
            assertThat(blind.geometry().vaBits()).isEqualTo(config.vaBits());
            assertThat(r.candidates().stream().filter(GeometrySearch.Candidate::valid)).hasSize(1);
        }
    }

    /**
     * Read as a raw memory image (no ELF headers used), the dump still describes itself: the scan
     * finds the kernel's own VMCOREINFO note in RAM.
     */
    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void aRawImageIsDescribedByTheVmcoreInfoFoundInRam(DebianKernel.Flavour flavour) throws Exception {
        KernelCapture.Capture capture = capture(flavour);
        MappedMemory.Segment ram;
        KernelTables fromNote;
        try (KernelDump dump = KernelDump.open(capture.vmcore())) {
            ram = dump.mappedMemory().orElseThrow().segments().getFirst();
            fromNote = dump.tables();
        }
        // Map the whole file so that file offset F is PA (F - ram.fileOffset + ram.pa).
        long base = ram.pa() - ram.fileOffset();
        try (KernelDump raw = KernelDump.open(capture.vmcore(), DumpOptions.defaults().withRawBase(base))) {
            assertThat(raw.elf()).isEmpty();
            assertThat(raw.vmcoreInfoSource()).startsWith("found in RAM at PA");
            assertThat(raw.tables().geometry()).isEqualTo(fromNote.geometry());
            assertThat(raw.tables().rootPa()).isEqualTo(fromNote.rootPa());
        }
    }

    /** binutils' readelf as a second reader of the same file: segments and notes must agree. */
    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void segmentsAndNotesAgreeWithReadelf(DebianKernel.Flavour flavour) throws Exception {
        KernelCapture.Capture capture = capture(flavour);
        Process p;
        try {
            p = new ProcessBuilder("readelf", "-l", "-n", "-W", capture.vmcore().toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("readelf (binutils) is not installed: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isZero();
        List<long[]> loads = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s+LOAD\\s+0x(\\p{XDigit}+)\\s+0x\\p{XDigit}+\\s+0x(\\p{XDigit}+)\\s+0x(\\p{XDigit}+)\\s+0x(\\p{XDigit}+)").matcher(out);
        while (m.find()) {
            loads.add(new long[] {Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16),
                    Long.parseUnsignedLong(m.group(3), 16), Long.parseUnsignedLong(m.group(4), 16)});
        }
        List<String> noteOwners = new ArrayList<>();
        Matcher n = Pattern.compile("(?m)^\\s+(CORE|LINUX|VMCOREINFO)\\s+0x(\\p{XDigit}+)").matcher(out);
        while (n.find()) noteOwners.add(n.group(1) + "/" + Long.parseLong(n.group(2), 16));
        try (KernelDump dump = KernelDump.open(capture.vmcore())) {
            ElfCore core = dump.elf().orElseThrow();
            List<long[]> ours = core.segments().stream()
                    .map(s -> new long[] {s.fileOffset(), s.pa(), s.fileSize(), s.memorySize()}).toList();
            assertThat(ours).hasSameSizeAs(loads);
            for (int i = 0; i < loads.size(); i++) assertThat(ours.get(i)).containsExactly(loads.get(i));
            assertThat(core.notes().stream().map(x -> x.name() + "/" + x.descSize()).toList()).containsExactlyElementsOf(noteOwners);
        }
    }
}
