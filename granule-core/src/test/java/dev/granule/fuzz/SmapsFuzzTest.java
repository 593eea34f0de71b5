package dev.granule.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.impact.ImpactAnalysis;
import dev.granule.impact.PageSizeImpact;
import dev.granule.impact.SmapsFormatException;
import dev.granule.impact.SmapsParser;
import dev.granule.impact.Vma;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Any text as /proc/PID/smaps: it parses, or fails with a {@link SmapsFormatException} naming the
 * line; what parses is a list of well-formed, page-aligned mappings, and the analysis of it gives
 * non-negative sizes in which no more is resident than mapped and tables exist only for resident
 * memory.
 * Two targets: the parser alone, and the analysis of what it parses. Inputs claiming more than
 * 16 MiB resident are not analysed: the analysis builds their tables page by page, which is right
 * but too slow for a fuzzer's inner loop ({@code ImpactAnalysisTest} covers the size limit). 16 MiB
 * is 4,096 4K pages, enough for mappings to cross table boundaries: where mappings lie matters to
 * the properties, not how big they are.
 */
class SmapsFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anySmapsTextParsesOrFailsNamingTheLine(byte[] data) {
        parse(data);
    }

    /** The analysis of whatever parses: slower (it builds tables), so a target of its own. */
    @FuzzTest(maxDuration = "30s")
    void theAnalysisOfAnyParsedSmapsIsConsistent(byte[] data) {
        List<Vma> vmas = parse(data);
        if (vmas == null) return;
        long claimed = 0;
        for (Vma v : vmas) claimed += Math.min(v.rssBytes(), 1L << 40);
        if (claimed > 16L << 20) return;
        for (PageSizeImpact p : ImpactAnalysis.analyse(vmas)) {
            if (p.virtualFile() < 0 || p.virtualAnon() < 0 || p.residentFile() < 0 || p.residentAnon() < 0
                    || p.tableBytes() < 0 || p.tlbEntries() < 0 || p.tlbEntriesBestCase() < 0) {
                throw new AssertionError("negative result " + p);
            }
            // Per class they may differ (an anonymous mapping's Rss beyond Anonymous counts as file
            // pages), but in all nothing is resident that is not mapped.
            if (p.resident() > p.virtual()) throw new AssertionError("more resident than mapped " + p);
            if ((p.resident() == 0) != (p.tlbEntries() == 0)) throw new AssertionError("tables without residency " + p);
            if (p.tlbEntriesBestCase() > p.tlbEntries()) throw new AssertionError("best case worse than pages " + p);
        }
    }

    /** The mappings, or null where the text is refused with a message naming the line. */
    private static List<Vma> parse(byte[] data) {
        String text = new String(data, StandardCharsets.ISO_8859_1);
        List<Vma> vmas;
        try {
            vmas = SmapsParser.parse("fuzz", text);
        } catch (SmapsFormatException e) {
            if (!e.getMessage().startsWith("fuzz:")) throw new AssertionError("no source:line in " + e.getMessage(), e);
            return null;
        }
        for (Vma v : vmas) {
            if (Long.compareUnsigned(v.end(), v.start()) <= 0) throw new AssertionError("empty or reversed " + v);
            if (((v.start() | v.end()) & 0xFFF) != 0) throw new AssertionError("unaligned " + v);
            if (v.rssBytes() < 0 || v.anonBytes() < 0) throw new AssertionError("negative size " + v);
            if (v.perms().length() != 4) throw new AssertionError("perms " + v);
        }
        return vmas;
    }
}
