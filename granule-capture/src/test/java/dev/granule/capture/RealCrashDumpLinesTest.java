package dev.granule.capture;

import dev.granule.dump.KernelDump;
import dev.granule.dump.TranslationLines;
import dev.granule.dump.TranslationText;
import dev.granule.table.Mapping;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code dump translate}'s lean lines ({@link TranslationLines}) are, byte for byte, the record
 * path's ({@link KernelDump#resolve} then {@link TranslationText}, which {@link RealCrashDumpTest}
 * checks against QEMU's gva2gpa) on every real crash file: kexec's ELF and every makedumpfile file
 * of both Debian kernels, at every probed address (twice: the second time from a warm walk cache)
 * and at the first, last and a middle byte of 3,000 of the kernel's leaves, including pages the
 * dump left out at {@code -d 31}.
 */
@Tag("qemu")
class RealCrashDumpLinesTest {

    static Stream<Arguments> everyFile() {
        List<Arguments> out = new ArrayList<>();
        for (CrashCapture.Variant f : CrashCapture.Variant.values()) out.add(Arguments.of(f, "vmcore.elf"));
        out.addAll(RealCrashDumpTest.files().toList());
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("everyFile")
    void everyLineIsTheRecordPathsLine(CrashCapture.Variant flavour, String name) throws Exception {
        CrashCapture.Capture c = RealCrashDumpTest.capture(flavour);
        try (KernelDump dump = KernelDump.open(RealCrashDumpTest.file(c, name))) {
            List<Long> vas = new ArrayList<>();
            for (Probe p : c.probes()) vas.add(p.va());
            List<Mapping> leaves = dump.kernelWalker().mappings();
            Random r = new Random(name.hashCode());
            int stride = Math.max(1, leaves.size() / 3_000);
            for (int i = r.nextInt(stride); i < leaves.size(); i += stride) {
                Mapping m = leaves.get(i);
                vas.add(m.va());
                vas.add(m.lastVa());
                vas.add(m.va() + (r.nextLong(m.size()) & -8));
            }
            for (Probe p : c.probes()) vas.add(p.va()); // again, from a warm walk cache
            TranslationText text = new TranslationText(dump.geometry());
            StringBuilder expected = new StringBuilder();
            for (long va : vas) text.append(expected, dump.resolve(va), null).append('\n');
            TranslationLines lines = new TranslationLines(dump, StandardCharsets.UTF_8);
            for (long va : vas) lines.append(va, null);
            String lean = new String(lines.buffer(), 0, lines.length(), StandardCharsets.UTF_8);
            System.err.printf("[%s %s] %d addresses, %d lines not in the dump%n", flavour, name, vas.size(),
                    expected.toString().lines().filter(l -> l.contains("not in the dump")).count());
            assertThat(lean).isEqualTo(expected.toString());
            // Most lines come from the walk cache, so the comparison above checks its answers.
            assertThat(lines.cachedLines()).as("lines the walk cache answered").isGreaterThan(vas.size() / 2);
        }
    }
}
