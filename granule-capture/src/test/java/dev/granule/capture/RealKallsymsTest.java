package dev.granule.capture;

import dev.granule.dump.Kallsyms;
import dev.granule.dump.KernelDump;
import dev.granule.dump.SymbolTable;
import dev.granule.dump.SystemMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The kallsyms tables decoded from each dump of the stopped guest must give the addresses the
 * guest's own {@code /proc/kallsyms} printed on its console before the dump (kernel symbols; the
 * module's are not in the kernel's tables).
 */
@Tag("qemu")
class RealKallsymsTest {

    /** name -> address of the kernel's (not modules') symbols the guest printed. */
    static Map<String, Long> printed(KernelCapture.Capture c) throws Exception {
        List<String> lines = Files.readAllLines(c.console(), StandardCharsets.ISO_8859_1);
        Map<String, Long> out = new LinkedHashMap<>();
        boolean in = false;
        for (String raw : lines) {
            String l = raw.strip();
            if (l.equals("GRANULE-KALLSYMS-BEGIN")) in = true;
            else if (l.equals("GRANULE-KALLSYMS-END")) in = false;
            else if (in && !l.contains("[")) {
                String[] f = l.split("\\s+");
                if (f.length == 3) out.put(f[2], Long.parseUnsignedLong(f[0], 16));
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void kallsymsInEveryFormAgreeWithTheGuestsProcKallsyms(DebianKernel.Flavour flavour) throws Exception {
        KernelCapture.Capture c = RealKernelDumpTest.capture(flavour);
        Map<String, Long> printed = printed(c);
        assertThat(printed).containsKeys("_stext", "start_kernel", "schedule", "panic");
        for (Path file : List.of(c.vmcore(), c.kdumpFlattened(), c.kdump())) {
            if (!Files.isRegularFile(file)) Assumptions.abort(file + " is missing (makedumpfile not installed?)");
            try (KernelDump dump = KernelDump.open(file)) {
                SymbolTable t = Kallsyms.read(dump).orElseThrow();
                assertThat(t.size()).as(file.toString()).isGreaterThan(10_000);
                for (var e : printed.entrySet()) {
                    assertThat(t.address(e.getKey())).as("%s in %s", e.getKey(), file.getFileName()).hasValue(e.getValue());
                    assertThat(t.address(t.symbolize(e.getValue()).split("\\+")[0])).as("name at %s", e.getKey()).hasValue(e.getValue());
                }
                System.err.printf("[%s] %s: %s%n", flavour, file.getFileName(), t.source());
            }
        }
    }

    /** Debian's packages ship a placeholder System.map; granule says so instead of naming nothing. */
    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void debiansPlaceholderSystemMapIsRefusedWithTheReason(DebianKernel.Flavour flavour) throws Exception {
        KernelCapture.Capture c = RealKernelDumpTest.capture(flavour);
        Path kernels = DebianKernel.cacheRoot().resolve("kernels");
        Path map;
        try (var s = Files.walk(kernels, 3)) {
            map = s.filter(p -> p.getFileName().toString().startsWith("System.map-" + c.properties().getProperty("release"))).findFirst()
                    .orElse(null);
        }
        if (map == null) Assumptions.abort("no unpacked System.map of " + c.properties().getProperty("release"));
        assertThatThrownBy(() -> SystemMap.read(map, java.util.Optional.empty())).hasMessageContaining("-dbg package");
    }
}
