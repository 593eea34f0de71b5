package dev.granule.capture;

import dev.granule.dump.KernelDump;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.PageState;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.Mapping;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * QEMU's own kdump-compressed dump of the stopped guest ({@code dump-guest-memory} format
 * {@code kdump-zlib}, written in makedumpfile's flattened form), and the same file rewritten to the
 * seekable KDUMP form by Debian's {@code makedumpfile -R}: granule must read the geometry from their
 * VMCOREINFO, translate every probed address as QEMU's {@code gva2gpa} did, and read the same bytes
 * as from QEMU's ELF dump of the same guest (an independent writer and an independent reader).
 */
@Tag("qemu")
class RealKdumpTest {

    enum Form { FLATTENED, KDUMP }

    static Stream<Arguments> files() {
        List<Arguments> out = new ArrayList<>();
        for (DebianKernel.Flavour f : DebianKernel.Flavour.values()) {
            for (Form form : Form.values()) out.add(Arguments.of(f, form));
        }
        return out.stream();
    }

    private static Path file(KernelCapture.Capture c, Form form) {
        Path p = form == Form.FLATTENED ? c.kdumpFlattened() : c.kdump();
        if (!Files.isRegularFile(p)) {
            Assumptions.abort(p + " is missing: " + (form == Form.KDUMP ? "makedumpfile is not installed (scripts/install-test-deps.sh)"
                    : "the capture has no kdump-zlib dump"));
        }
        return p;
    }

    @ParameterizedTest
    @MethodSource("files")
    void translatesEveryProbedAddressAsQemuDoesAndAsTheElfDumpSays(DebianKernel.Flavour flavour, Form form) throws Exception {
        KernelCapture.Capture capture = RealKernelDumpTest.capture(flavour);
        List<Probe> probes = capture.probes();
        List<String> mismatches = new ArrayList<>();
        try (KernelDump kd = KernelDump.open(file(capture, form)); KernelDump elf = KernelDump.open(capture.vmcore())) {
            assertThat(kd.format()).isEqualTo(form == Form.FLATTENED ? KernelDump.Format.FLATTENED_KDUMP : KernelDump.Format.KDUMP);
            assertThat(kd.vmcoreInfoSource()).startsWith("kdump_sub_header");
            assertThat(kd.geometry()).isEqualTo(elf.geometry());
            assertThat(kd.tables().rootPa()).isEqualTo(elf.tables().rootPa());
            int mapped = 0;
            for (Probe p : probes) {
                Optional<Mapping> m = kd.translate(p.va());
                long ours = m.map(x -> x.translate(p.va())).orElse(-1L);
                if (ours != p.pa()) {
                    mismatches.add(String.format("%s 0x%016x: QEMU %s, granule %s", p.category(), p.va(),
                            p.mapped() ? String.format("0x%x", p.pa()) : "unmapped", m.map(Mapping::toString).orElse("unmapped")));
                    continue;
                }
                long pa = p.pa() & -8L;
                if (p.mapped() && elf.memory().contains(pa, 8)) { // device memory (the GIC, the UART) is in neither dump
                    mapped++;
                    assertThat(kd.memory().pageState(pa)).as("page of %#x", pa).isEqualTo(PageState.PRESENT);
                    assertThat(kd.memory().readLong(pa)).as("8 bytes at PA %#x (%s)", pa, p.category())
                            .isEqualTo(elf.memory().readLong(pa));
                }
            }
            assertThat(mapped).isGreaterThan(200);
        }
        assertThat(mismatches).as("addresses translated differently from QEMU's gva2gpa").isEmpty();
    }

    /** Whole pages across RAM, byte for byte against the ELF dump of the same stopped guest. */
    @ParameterizedTest
    @MethodSource("files")
    void pagesMatchTheElfDumpByteForByte(DebianKernel.Flavour flavour, Form form) throws Exception {
        KernelCapture.Capture capture = RealKernelDumpTest.capture(flavour);
        try (KernelDump kd = KernelDump.open(file(capture, form)); KernelDump elf = KernelDump.open(capture.vmcore())) {
            PhysicalMemory a = kd.memory();
            PhysicalMemory b = elf.memory();
            Random random = new Random(18);
            List<MemoryRange> ram = b.ranges();
            byte[] x = new byte[4096];
            byte[] y = new byte[4096];
            int compared = 0;
            int excluded = 0;
            for (int i = 0; i < 2000; i++) {
                MemoryRange r = ram.get(random.nextInt(ram.size()));
                long pa = (r.base() + (long) (random.nextDouble() * (r.size() - x.length))) & -4096L;
                if (a.pageState(pa) != PageState.PRESENT) {
                    // QEMU leaves out only pages that are all zero; the ELF must say so.
                    b.read(pa, y, 0, y.length);
                    assertThat(y).as("excluded page at %#x in the ELF dump", pa).containsOnly(0);
                    excluded++;
                    continue;
                }
                a.read(pa, x, 0, x.length);
                b.read(pa, y, 0, y.length);
                if (!Arrays.equals(x, y)) throw new AssertionError(String.format("page at PA %#x differs from the ELF dump", pa));
                compared++;
            }
            System.err.printf("[%s %s] %d pages equal to the ELF dump, %d not in the kdump file%n", flavour, form, compared, excluded);
            assertThat(compared).isGreaterThan(1000);
        }
    }
}
