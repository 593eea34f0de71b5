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
        assertThat(j.get(0).get("residentAnon").asLong()).isEqualTo(12 << 10);
        assertThat(j.get(1).get("residentAnon").asLong()).isEqualTo(16 << 10);
        assertThat(j.get(2).get("virtualAnon").asLong()).isEqualTo(128 << 10);
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
    }
}
