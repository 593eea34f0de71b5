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

    /** Runs {@code args} as the tool does: through the branch of the command tree they name. */
    static Run run(String... args) {
        CommandLine cmd = Main.commandLineFor(args);
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

    @Test
    void shortDescriptorsShowArmsLevelsTtbcrNAndLinuxsDoubledPgd() throws Exception {
        Run r = run("boot", "granule.format=short granule.va_bits=30");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("4K/30-bit VA/32-bit PA/short").contains("TTBCR        EAE=0  N=2")
                .containsPattern("L1 +PGD +20 +10 +1024 +4K +1M  section +16 x 1M = 16M")
                .containsPattern("L2 +PTE +12 +8 +256 +1K +4K  page +16 x 4K = 64K")
                .contains("PGDIR_SHIFT            21");
        JsonNode j = new ObjectMapper().readTree(run("boot", "--json", "granule.format=short").out());
        assertThat(j.get("perLevel").get(0).get("architecturalLevel").asInt()).isEqualTo(1);
        assertThat(j.get("perLevel").get(0).get("tableBytes").asLong()).isEqualTo(16384);
        assertThat(j.get("descriptorBytes").asInt()).isEqualTo(4);
    }

    @Test
    void d128ShowsSixteenByteDescriptorsAndTcr2() {
        Run r = run("boot", "granule.format=d128 granule.va_bits=52");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("VMSAv9-128 (16-byte descriptors)").contains("TCR2_EL1     D128=1")
                .containsPattern("-1 +PGD +44 +8 +256 +4K +16T  table only")
                .containsPattern("0 +P4D +36 +8 +256 +4K +64G  block");
        Run bad = run("boot", "granule.format=d128 granule.va_bits=56");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("at most 55 bits per TTBR");
    }
}
