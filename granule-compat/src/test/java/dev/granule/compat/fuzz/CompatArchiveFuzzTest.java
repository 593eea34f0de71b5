package dev.granule.compat.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.compat.Finding;
import dev.granule.compat.ScanLimits;
import dev.granule.compat.Scanner;

import java.util.ArrayList;
import java.util.List;

/**
 * Any bytes given to the scanner as a file (zip, ar, tar, gz, xz, zst, ELF, nested in any order):
 * the scan returns, every problem is a {@link Finding.Broken} with a one-line reason, and nothing escapes.
 * The bounds are small here so that a bomb the fuzzer builds is refused within milliseconds.
 */
class CompatArchiveFuzzTest {

    static final ScanLimits LIMITS = new ScanLimits(6, 8L << 20, 32L << 20, 50);

    @FuzzTest(maxDuration = "30s")
    void anyBytesScanWithoutEscapingExceptions(byte[] data) {
        List<Finding> findings = new ArrayList<>();
        new Scanner(LIMITS, findings::add, n -> {}).scanBytes("fuzz.bin", data);
        for (Finding f : findings) {
            switch (f) {
                case Finding.Broken b -> FuzzChecks.oneLine(b.reason());
                case Finding.ElfFound e -> {
                    if (!e.report().path().startsWith("fuzz.bin")) throw new AssertionError("ELF named outside its input: " + e.report().path());
                }
                case Finding.PackageNote n -> FuzzChecks.oneLine(n.message());
            }
        }
    }
}
