package dev.granule.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class BootCommandTest {

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        CommandLine cmd = Main.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void printsTheSixteenKGeometryAsATable() {
        Run r = run("boot", "arm64.pagesize=16k granule.va_bits=47");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("16K/47-bit VA").contains("PGDIR_SHIFT            36")
                .contains("PTRS_PER_PMD           2048").contains("TG0=0b10  TG1=0b01");
    }

    @Test
    void jsonCarriesTheLinuxNamesAndPerLevelRows() throws Exception {
        Run r = run("boot", "--json", "arm64.pagesize=64k granule.va_bits=52 granule.pa_bits=52");
        assertThat(r.exit()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("linux").get("PTRS_PER_PGD").asLong()).isEqualTo(1024);
        assertThat(j.get("linux").get("PGDIR_SHIFT").asLong()).isEqualTo(42);
        assertThat(j.get("perLevel")).hasSize(3);
        assertThat(j.get("perLevel").get(0).get("leaf").asText()).isEqualTo("block"); // 4T L1 block with 52-bit PA
    }

    @Test
    void malformedParameterIsAOneLineErrorWithExitCode2() {
        Run r = run("boot", "arm64.pagesize=8k");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("granule: error: bad boot parameter 'arm64.pagesize=8k'");
        assertThat(r.err()).doesNotContain("at dev.granule");
    }

    @Test
    void debugShowsTheStackTrace() {
        Run r = run("boot", "--debug", "arm64.pagesize=8k");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("at dev.granule");
    }

    @Test
    void fallbacksAreReportedAsWarnings() {
        Run r = run("boot", "--mmfr0", "0x0f101122", "arm64.pagesize=64k quiet");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("geometry     16K").contains("warning: arm64.pagesize=64k")
                .contains("warning: unknown parameter 'quiet' ignored");
    }
}
