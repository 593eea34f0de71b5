package dev.granule.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.granule.cli.BootCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

class ImpactCommandTest {

    @TempDir
    Path dir;

    @Test
    void savedSmapsGiveTheHandCheckedNumbersAsJson() throws Exception {
        Path smaps = dir.resolve("smaps");
        Files.writeString(smaps, """
                7f0000000000-7f0000011000 rw-p 00000000 00:00 0
                Rss:                  12 kB
                Anonymous:            12 kB
                """);
        var r = run("impact", "--smaps", smaps.toString(), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        // 12K resident: 12K at 4K pages, one 16K page, one 64K page; 0x11000 of VA rounds to 68K/80K/128K.
        JsonNode sizes = j.get("pageSizes");
        assertThat(j.get("processes").asInt()).isEqualTo(1);
        assertThat(j.get("exactResidency").asInt()).as("a saved file has no pagemap").isZero();
        assertThat(sizes.get(0).get("residentAnon").asLong()).isEqualTo(12 << 10);
        assertThat(sizes.get(1).get("residentAnon").asLong()).isEqualTo(16 << 10);
        assertThat(sizes.get(2).get("virtualAnon").asLong()).isEqualTo(128 << 10);
    }

    /* Machine costs for 4 GiB as MachineCostTest works them out; geometries from the boot lines given. */
    @Test
    void bootLinesChooseTheGeometriesAndTheMachineIsCountedForTheRamGiven() throws Exception {
        Path smaps = dir.resolve("smaps");
        // Below 2^42, so that the 42-bit VA holds it (a mapping above the VA size is not counted).
        Files.writeString(smaps, "3f000000000-3f000011000 rw-p 00000000 00:00 0\nRss: 12 kB\nAnonymous: 12 kB\n");
        var r = run("impact", "--smaps", smaps.toString(), "--ram", "4G", "--boot", "arm64.pagesize=4k",
                "--boot", "arm64.pagesize=64k granule.va_bits=42", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("geometries").get(1).asText()).isEqualTo("64K/42-bit VA/48-bit PA/d64");
        JsonNode m = j.get("machine");
        assertThat(m.get(0).get("memmapBytes").asLong()).isEqualTo(64L << 20);
        assertThat(m.get(0).get("linearMapRodataFullBytes").asLong()).isEqualTo(2053 * 4096L);
        // 64K/42: two levels (level 2 is the root, 8192 entries, a whole page as pgd_alloc takes it);
        // 512M blocks at level 2 need no table below it; pages need 4G >> 29 = 8 level-3 tables.
        assertThat(m.get(1).get("linearMapBytes").asLong()).isZero();
        assertThat(m.get(1).get("linearMapRodataFullBytes").asLong()).isEqualTo(8 * 65536L);
        assertThat(j.get("pageSizes").get(1).get("tableBytes").asLong()).as("PGD page + one PTE table").isEqualTo(2 * 65536L);
        var bad = run("impact", "--smaps", smaps.toString(), "--boot", "arm64.pagesize=8k");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).startsWith("granule: error: --boot \"arm64.pagesize=8k\": ");
    }

    /*
     * A process laid out for 47 bits analysed at 39: the mapping at 0x7fff00000000 is left out, and
     * said so (1 mapping, 64 KiB); the upper-half [vsyscall] page is no user address at any size and
     * is not mentioned. The percentage column is against the first geometry given.
     */
    @Test
    void mappingsAboveTheVaSizeAreLeftOutAndSaidSo() throws Exception {
        Path smaps = dir.resolve("smaps");
        Files.writeString(smaps, """
                00400000-00401000 r-xp 00000000 08:01 1 /bin/x
                Rss: 4 kB
                7fff00000000-7fff00010000 rw-p 00000000 00:00 0 [stack]
                Rss: 8 kB
                Anonymous: 8 kB
                ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
                Rss: 0 kB
                """);
        var r = run("impact", "--smaps", smaps.toString(), "--boot", "arm64.pagesize=64k",
                "--boot", "arm64.pagesize=4k granule.va_bits=39");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains(" vs 64K ")
                .contains("note: 4K/39-bit VA/48-bit PA/d64: 1 mapping (64K virtual) above 2^39 not counted: the process was"
                        + " laid out for a larger VA")
                .doesNotContain("note: 64K");
        JsonNode j = new ObjectMapper().readTree(run("impact", "--smaps", smaps.toString(), "--boot", "arm64.pagesize=64k",
                "--boot", "arm64.pagesize=4k granule.va_bits=39", "--json").out());
        assertThat(j.get("beyondVa")).hasSize(1);
        assertThat(j.get("beyondVa").get(0).get("mappings").asLong()).isEqualTo(1);
        assertThat(j.get("beyondVa").get(0).get("virtualBytes").asLong()).isEqualTo(0x10000);
        assertThat(j.get("pageSizes").get(1).get("virtualAnon").asLong()).as("the stack left out at 39 bits").isZero();
        assertThat(j.get("pageSizes").get(0).get("virtualAnon").asLong()).isEqualTo(0x10000);
    }

    @Test
    void aLiveProcessIsReadExactlyFromPagemap() throws Exception {
        long self = ProcessHandle.current().pid();
        var r = run("impact", "--pid", Long.toString(self), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("exactResidency").asInt()).as("our own pagemap is readable").isEqualTo(1);
        JsonNode sizes = j.get("pageSizes");
        // Larger pages never make less memory resident, and need fewer TLB entries for it.
        assertThat(sizes.get(1).get("residentAnon").asLong()).isGreaterThanOrEqualTo(sizes.get(0).get("residentAnon").asLong());
        assertThat(sizes.get(2).get("tlbEntries").asLong()).isLessThanOrEqualTo(sizes.get(0).get("tlbEntries").asLong());
    }

    @Test
    void aTraceIsReplayedPerPageSize() throws Exception {
        Path smaps = dir.resolve("smaps");
        Files.writeString(smaps, "00400000-00401000 r-xp 00000000 08:01 1 /bin/x\nRss: 4 kB\n");
        Path trace = dir.resolve("trace");
        StringBuilder t = new StringBuilder("# stride 4K over 128K, twice\n");
        for (int pass = 0; pass < 2; pass++) for (long va = 0x10000; va < 0x30000; va += 0x1000) t.append("r 0x").append(Long.toHexString(va)).append('\n');
        Files.writeString(trace, t);
        var r = run("impact", "--smaps", smaps.toString(), "--trace", trace.toString(), "--tlb-entries", "64", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode tr = new ObjectMapper().readTree(r.out()).get("trace");
        // As TraceReplayTest works out: 32, 8 and 2 misses of 64 accesses.
        assertThat(tr.get("accesses").asLong()).isEqualTo(64);
        assertThat(tr.get("format").asText()).isEqualTo("plain");
        JsonNode results = tr.get("results");
        assertThat(results.get(0).get("l2Misses").asLong()).isEqualTo(32);
        assertThat(results.get(1).get("l2Misses").asLong()).isEqualTo(8);
        assertThat(results.get(2).get("l2Misses").asLong()).isEqualTo(2);
        assertThat(results.get(0).get("cpu").asText()).isEqualTo("custom");
        var text = run("impact", "--smaps", smaps.toString(), "--trace", trace.toString(), "--tlb-entries", "64", "--cpu", "cortex-a76");
        assertThat(text.exit()).as(text.err()).isZero();
        assertThat(text.out()).contains("(plain): 64 accesses").contains("cortex-a76: L1i 48-entry fully associative")
                .contains("custom: one TLB");
        var bad = run("impact", "--smaps", smaps.toString(), "--trace", trace.toString(), "--tlb-entries", "48", "--tlb-ways", "4");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("power-of-two number of sets");
    }

    @Test
    void theChartIsAPngAndAnSvgAPersonCanRead() throws Exception {
        Path smaps = dir.resolve("smaps");
        Files.writeString(smaps, """
                00400000-00452000 r-xp 00000000 08:01 1234 /usr/bin/demo
                Rss:                 200 kB
                7f0000000000-7f0000400000 rw-p 00000000 00:00 0
                Rss:                1032 kB
                Anonymous:          1032 kB
                """);
        Path png = dir.resolve("impact.png"), svg = dir.resolve("impact.svg");
        assertThat(run("impact", "--smaps", smaps.toString(), "--chart", png.toString()).exit()).isZero();
        assertThat(run("impact", "--smaps", smaps.toString(), "--chart", svg.toString()).exit()).isZero();

        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes).startsWith(0x89, 'P', 'N', 'G');
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(ImpactChart.WIDTH);
        assertThat(image.getHeight()).isEqualTo(ImpactChart.HEIGHT);
        // Bars in several series colours, not a blank canvas: count the distinct colours on a grid.
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 3) for (int x = 0; x < image.getWidth(); x += 3) colours.add(image.getRGB(x, y));
        assertThat(colours.size()).isGreaterThan(8);

        // The SVG draws its text as glyph outlines, so check its structure: an <svg> of the chart's
        // size whose bars (rects) come in the series colours.
        var factory = javax.xml.parsers.DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        org.w3c.dom.Document doc = factory.newDocumentBuilder().parse(svg.toFile());
        assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
        assertThat(doc.getDocumentElement().getAttribute("width")).startsWith(Integer.toString(ImpactChart.WIDTH));
        var rects = doc.getElementsByTagName("rect");
        java.util.Set<String> fills = new java.util.HashSet<>();
        for (int i = 0; i < rects.getLength(); i++) {
            var m = java.util.regex.Pattern.compile("fill:(rgb\\([^)]*\\))").matcher(((org.w3c.dom.Element) rects.item(i)).getAttribute("style"));
            if (m.find()) fills.add(m.group(1));
        }
        assertThat(fills).as("series colours plus background").hasSizeGreaterThanOrEqualTo(5);

        var wrong = run("impact", "--smaps", smaps.toString(), "--chart", dir.resolve("impact.gif").toString());
        assertThat(wrong.exit()).isEqualTo(2);
        assertThat(wrong.err()).contains(".png or .svg");
    }

    @Test
    void thisMachinesProcessesAndBadInput() throws Exception {
        var all = run("impact");
        assertThat(all.exit()).as(all.err()).isZero();
        assertThat(all.out()).contains("4K").contains("16K").contains("64K").contains("processes");
        Path bad = dir.resolve("bad");
        Files.writeString(bad, "not smaps\n");
        var r = run("impact", "--smaps", bad.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains(bad + ":1");
        var zero = run("impact", "--smaps", "/dev/zero");
        assertThat(zero.exit()).isEqualTo(2);
        // Refused before it is read (InputFile); SmapsParser's own line limit is tested in granule-core.
        assertThat(zero.err()).isEqualTo("granule: error: --smaps /dev/zero: is a character device, not a regular file;"
                + " save its contents to a file and pass that" + System.lineSeparator());
    }
}
