package dev.granule.cli;

import dev.granule.capture.CaptureUnavailableException;
import dev.granule.capture.DebianKernel;
import dev.granule.capture.KernelCapture;
import dev.granule.capture.Probe;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.granule.cli.BootCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code dump translate -f} over the real captures, every form of the same crash: the command's
 * answer for each address QEMU was asked about must be QEMU's {@code gva2gpa} answer.
 */
@Tag("qemu")
class RealDumpTranslateCommandTest {

    @ParameterizedTest
    @EnumSource(DebianKernel.Flavour.class)
    void batchTranslationOfEveryFormAgreesWithQemu(DebianKernel.Flavour flavour) throws Exception {
        KernelCapture.Capture c;
        try {
            c = KernelCapture.captureOrCached(flavour, DebianKernel.cacheRoot(), msg -> System.err.println("[capture] " + msg));
        } catch (CaptureUnavailableException e) {
            Assumptions.abort("cannot capture a real " + flavour + " kernel dump here: " + e.getMessage());
            return;
        }
        List<Probe> probes = c.probes();
        Path list = Files.createTempFile("granule-probes", ".txt");
        try {
            List<String> lines = new ArrayList<>();
            for (Probe p : probes) lines.add(String.format("0x%016x %s", p.va(), p.category()));
            Files.write(list, lines);
            int files = 0;
            for (Path dump : List.of(c.vmcore(), c.kdumpFlattened(), c.kdump())) {
                if (!Files.isRegularFile(dump)) continue;
                files++;
                var r = run("dump", "translate", dump.toString(), "-f", list.toString());
                assertThat(r.exit()).as(r.err()).isZero();
                Map<Long, Long> answers = new HashMap<>();
                for (String l : r.out().lines().toList()) {
                    if (l.startsWith("#")) continue;
                    long va = Long.parseUnsignedLong(l.substring(2, 18), 16);
                    int arrow = l.indexOf("  -> 0x");
                    answers.put(va, arrow < 0 ? -1L : Long.parseUnsignedLong(l.substring(arrow + 7, arrow + 20), 16));
                    if (arrow < 0) assertThat(l).as("an answer without a PA").contains("unmapped");
                }
                for (Probe p : probes) {
                    assertThat(answers.get(p.va())).as("%s %#x in %s", p.category(), p.va(), dump.getFileName()).isEqualTo(p.pa());
                }
            }
            assertThat(files).isGreaterThanOrEqualTo(2);
        } finally {
            Files.deleteIfExists(list);
        }
    }
}
