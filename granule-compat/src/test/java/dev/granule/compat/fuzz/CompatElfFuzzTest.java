package dev.granule.compat.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.compat.BrokenInputException;
import dev.granule.compat.ElfAnalyzer;
import dev.granule.compat.ElfReport;
import dev.granule.compat.PageVerdict;

import java.lang.foreign.MemorySegment;

/**
 * Any bytes given to the ELF reader and the rules: a report or a {@link BrokenInputException} with a
 * one-line message; nothing else escapes (no IndexOutOfBounds, no ArithmeticException, no hang in the
 * jemalloc probe's disassembly). The report must be consistent with itself.
 */
class CompatElfFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyBytesAreJudgedOrRefusedWithOneLine(byte[] data) {
        ElfReport r;
        try {
            r = ElfAnalyzer.analyze("fuzz", MemorySegment.ofArray(data));
        } catch (BrokenInputException e) {
            FuzzChecks.oneLine(e.getMessage());
            return;
        }
        long largest = 0;
        for (PageVerdict v : r.verdicts()) {
            if (v.loads()) largest = v.pageSize();
            v.problems().forEach(FuzzChecks::oneLine);
            v.warnings().forEach(FuzzChecks::oneLine);
        }
        if (largest != r.largestPageSize()) throw new AssertionError("largest page " + r.largestPageSize() + " but verdicts say " + largest);
        if (r.verdicts().stream().anyMatch(v -> !v.loads()) != r.fix().isPresent() && r.verdicts().stream().anyMatch(v -> !v.loads())) {
            throw new AssertionError("a failing ELF without a fix");
        }
        r.mayFail().forEach(m -> FuzzChecks.oneLine(m.evidence()));
    }
}
