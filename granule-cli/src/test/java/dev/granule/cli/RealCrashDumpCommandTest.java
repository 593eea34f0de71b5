package dev.granule.cli;

import dev.granule.capture.CaptureUnavailableException;
import dev.granule.capture.CrashCapture;
import dev.granule.capture.DebianKernel;
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
 * The commands on the files Debian's arm64 makedumpfile wrote in a crash kernel
 * ({@link CrashCapture}): {@code dump info} names each file's compression as makedumpfile was asked
 * for it and says it can write it ({@code makedumpfile -v}, run in the same crash kernel: Debian's
 * build has snappy and zstd disabled, so {@code -p} and {@code -z} write uncompressed pages), and
 * {@code dump translate -f} answers every address QEMU's gva2gpa was asked about with QEMU's PA or
 * with "not in the dump". The same for trixie's makedumpfile's {@code -z} files (zstd enabled there).
 */
@Tag("qemu")
class RealCrashDumpCommandTest {

    private static final Map<String, String> CODEC = Map.of("c", "zlib", "l", "lzo", "p", "snappy", "z", "zstd");

    @ParameterizedTest
    @EnumSource(CrashCapture.Variant.class)
    void infoNamesTheCompressionAndTranslateAgreesWithQemu(CrashCapture.Variant flavour) throws Exception {
        CrashCapture.Capture c;
        try {
            c = CrashCapture.captureOrCached(flavour, DebianKernel.cacheRoot(), msg -> System.err.println("[crash capture] " + msg));
        } catch (CaptureUnavailableException e) {
            String why = "cannot make a kdump crash capture of " + flavour + " here: " + e.getMessage();
            System.out.println("SKIPPED: " + why);
            Assumptions.abort(why);
            return;
        }
        List<Probe> probes = c.probes();
        Path list = Files.createTempFile("granule-probes", ".txt");
        int files = 0;
        int zstdFiles = 0;
        try {
            List<String> lines = new ArrayList<>();
            for (Probe p : probes) lines.add(String.format("0x%016x", p.va()));
            Files.write(list, lines);
            // Bookworm's files, then trixie's -z files (real zstd pages) where the capture has them.
            List<String[]> made = new ArrayList<>();
            for (String option : CrashCapture.COMPRESSIONS) {
                for (int level : CrashCapture.DUMP_LEVELS) made.add(new String[] {CrashCapture.kdumpName(option, level), option, "makedumpfile-version.log"});
            }
            for (int level : CrashCapture.ZSTD_LEVELS) made.add(new String[] {CrashCapture.zstdName(level), "z", "makedumpfile-trixie-version.log"});
            for (String[] m : made) {
                String name = m[0], option = m[1];
                int level = name.contains("-d31") ? 31 : 0;
                Path file = c.guest().resolve(name);
                if (c.exit(name) != 0 || !Files.isRegularFile(file)) continue;
                if (m[2].equals("makedumpfile-version.log")) files++;
                else zstdFiles++;
                String codec = CODEC.get(option);
                // makedumpfile -v lists "lzo\tenabled", "snappy\tdisabled", ...; zlib is always built in.
                String version = Files.readString(c.guest().resolve(m[2]));
                boolean built = option.equals("c") || version.contains(codec + "\tenabled");
                var info = run("dump", "info", file.toString());
                assertThat(info.exit()).as(info.err()).isZero();
                assertThat(info.out()).as("dump info of %s", name).contains("codecs " + (built ? codec : "none") + ",");

                var r = run("dump", "translate", file.toString(), "-f", list.toString());
                assertThat(r.exit()).as(r.err()).isZero();
                Map<Long, String> answers = new HashMap<>();
                for (String l : r.out().lines().toList()) {
                    if (l.startsWith("0x")) answers.put(Long.parseUnsignedLong(l.substring(2, 18), 16), l);
                }
                int notInDump = 0;
                for (Probe p : probes) {
                    String l = answers.get(p.va());
                    assertThat(l).as("answer for %#x in %s", p.va(), name).isNotNull();
                    if (l.contains("not in the dump")) {
                        notInDump++;
                        continue;
                    }
                    int arrow = l.indexOf("  -> 0x");
                    long pa = arrow < 0 ? -1L : Long.parseUnsignedLong(l.substring(arrow + 7, arrow + 20), 16);
                    assertThat(pa).as("%s %#x in %s: %s", p.category(), p.va(), name, l).isEqualTo(p.pa());
                }
                if (level == 0) assertThat(notInDump).as("answers 'not in the dump' at -d 0 in %s", name).isZero();
            }
        } finally {
            Files.deleteIfExists(list);
        }
        String first = CrashCapture.kdumpName("c", 0);
        // Only makedumpfile's refusal of the kernel ("... not supported") is a reason to skip.
        if (files == 0 && c.log(first).contains("not supported")) {
            String why = "makedumpfile wrote no file in " + flavour + "'s crash kernel: " + c.log(first).strip();
            System.out.println("SKIPPED: " + why);
            Assumptions.abort(why);
        }
        assertThat(files).as("makedumpfile files written in the crash kernel").isEqualTo(8);
        if (c.trixieMakedumpfile().isEmpty()) {
            System.out.println("SKIPPED (part): " + flavour + "'s capture has no trixie makedumpfile files (scripts/makedumpfile-trixie.sh "
                    + "was not run or failed before the capture): no real zstd pages checked");
        } else {
            assertThat(zstdFiles).as("trixie makedumpfile -z files in %s's crash kernel", flavour).isEqualTo(CrashCapture.ZSTD_LEVELS.size());
        }
    }
}
