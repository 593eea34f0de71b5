package dev.granule.geometry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BootCommandLineTest {

    @ParameterizedTest
    @CsvSource({
            "arm64.pagesize=4k, 4096", "arm64.pagesize=4K, 4096", "arm64.pagesize=4096, 4096", "arm64.pagesize=0x1000, 4096",
            "arm64.pagesize=16k, 16384", "arm64.pagesize=16384, 16384", "arm64.pagesize=16K, 16384",
            "arm64.pagesize=64k, 65536", "arm64.pagesize=65536, 65536", "arm64.pagesize=0x10000, 65536",
    })
    void pageSizeSpellings(String cmdline, long bytes) {
        assertThat(Geometry.boot(cmdline).pageSize()).isEqualTo(bytes);
    }

    @Test
    void defaultsAreFourKWith48BitVa() {
        Geometry g = Geometry.boot("");
        assertThat(g).isEqualTo(Geometry.FOUR_K_48);
        assertThat(Geometry.boot(null)).isEqualTo(Geometry.FOUR_K_48);
    }

    @Test
    void allKnownKeysTogether() {
        Geometry g = Geometry.boot("console=ttyAMA0 arm64.pagesize=64k granule.va_bits=52 granule.pa_bits=52 root=/dev/vda");
        assertThat(g).isEqualTo(Geometry.SIXTY_FOUR_K_52);
    }

    @Test
    void dashesAndUnderscoresAreTheSameInKeysAsInTheKernel() {
        assertThat(Geometry.boot("granule.va-bits=39").vaBits()).isEqualTo(39);
    }

    @Test
    void unknownKeysAreIgnoredButListed() {
        BootResult r = Boot.resolve("quiet console=ttyAMA0,115200 arm64.pagesize=16k", CpuFeatures.ALL);
        assertThat(r.ignored()).containsExactly("quiet", "console=ttyAMA0,115200");
        assertThat(r.warnings()).anyMatch(w -> w.contains("'quiet'"));
        assertThat(r.geometry().granule()).isEqualTo(Granule.SIXTEEN_K);
    }

    @Test
    void quotesProtectSpacesAndDoubleDashEndsKernelParameters() {
        BootResult r = Boot.resolve("dyndbg=\"file foo.c +p\" arm64.pagesize=64k -- arm64.pagesize=4k init_arg",
                CpuFeatures.ALL);
        assertThat(r.geometry().granule()).isEqualTo(Granule.SIXTY_FOUR_K);
        assertThat(r.ignored()).containsExactly("dyndbg=\"file foo.c +p\"");
    }

    @Test
    void theLastOccurrenceWinsAsWithEarlyParams() {
        assertThat(Geometry.boot("arm64.pagesize=16k arm64.pagesize=64k").granule()).isEqualTo(Granule.SIXTY_FOUR_K);
    }

    @ParameterizedTest
    @ValueSource(strings = {"arm64.pagesize=8k", "arm64.pagesize=huge", "arm64.pagesize=", "arm64.pagesize",
            "granule.va_bits=forty", "granule.va_bits=", "granule.pa_bits=-3", "granule.format=d32", "granule.format",
            "arm64.nolva=maybe"})
    void malformedValuesOfKnownKeysNameTheToken(String token) {
        assertThatThrownBy(() -> Geometry.boot("quiet " + token + " console=ttyAMA0"))
                .isInstanceOf(BootParameterException.class)
                .hasMessageContaining("'" + token + "'")
                .satisfies(e -> assertThat(((BootParameterException) e).token()).isEqualTo(token));
    }

    @Test
    void unterminatedQuoteIsAnError() {
        assertThatThrownBy(() -> Geometry.boot("arm64.pagesize=\"16k"))
                .isInstanceOf(BootParameterException.class).hasMessageContaining("quote");
    }

    @ParameterizedTest
    @CsvSource({"granule.va_bits=24, VA", "granule.va_bits=53, VA", "granule.pa_bits=47, PA", "granule.pa_bits=56, 52"})
    void architecturallyImpossibleRequestsAreErrorsNotFallbacks(String cmdline, String mentions) {
        assertThatThrownBy(() -> Geometry.boot(cmdline))
                .isInstanceOf(GeometryException.class)
                .hasMessageContaining(cmdline.substring(cmdline.indexOf('=') + 1))
                .hasMessageContaining(mentions);
    }

    // ---- fallbacks against real CPUs' ID registers -------------------------------------------------

    /** A CPU as the Arm ARM encodes it: 4K and 16K without LPA2, no 64K, 44-bit PA, 48-bit VA. */
    private static final CpuFeatures NO_64K = new CpuFeatures(
            (0b0000L << 28) | (0b1111L << 24) | (0b0001L << 20) | 0b0100, 0, 0);

    /** 4K only (TGran16 = 0b0000 not supported, TGran64 = 0b1111 not supported), 40-bit PA. */
    private static final CpuFeatures FOUR_K_ONLY = new CpuFeatures((0b1111L << 24) | 0b0010, 0, 0);

    @Test
    void unsupportedGranuleFallsBackToTheLargestSmallerOne() {
        BootResult r = Boot.resolve("arm64.pagesize=64k", NO_64K);
        assertThat(r.geometry().granule()).isEqualTo(Granule.SIXTEEN_K);
        assertThat(r.fallbacks()).singleElement().asString().contains("64K").contains("using 16K");
    }

    @Test
    void unsupportedGranuleFallsBackUpwardWhenNothingSmallerExists() {
        CpuFeatures only64k = new CpuFeatures((0b1111L << 28) | 0b0101, 0, 0);
        assertThat(Boot.resolve("arm64.pagesize=4k", only64k).geometry().granule()).isEqualTo(Granule.SIXTY_FOUR_K);
        assertThat(Boot.resolve("arm64.pagesize=16k", FOUR_K_ONLY).geometry().granule()).isEqualTo(Granule.FOUR_K);
    }

    @Test
    void fiftyTwoBitVaFallsBackTo48WithoutLpa2OrLva() {
        BootResult r = Boot.resolve("granule.va_bits=52", NO_64K);
        assertThat(r.geometry().vaBits()).isEqualTo(48);
        assertThat(r.geometry().lpa2()).isFalse();
        assertThat(r.fallbacks()).singleElement().asString().contains("FEAT_LPA2");
    }

    @Test
    void noLvaCapsVaAt48EvenWhenTheCpuCouldDoMore() {
        BootResult r = Boot.resolve("arm64.pagesize=64k granule.va_bits=52 arm64.nolva", CpuFeatures.ALL);
        assertThat(r.geometry().vaBits()).isEqualTo(48);
        assertThat(r.fallbacks()).anyMatch(f -> f.contains("arm64.nolva"));
    }

    @Test
    void paLargerThanTheCpuIsLoweredToPaRange() {
        BootResult r = Boot.resolve("granule.pa_bits=48", FOUR_K_ONLY);
        assertThat(r.geometry().paBits()).isEqualTo(40);
        assertThat(r.fallbacks()).singleElement().asString().contains("at most 40");
    }

    @Test
    void defaultPaIsTheCpusPaRangeCappedAt48() {
        assertThat(Boot.resolve("", FOUR_K_ONLY).geometry().paBits()).isEqualTo(40);
        assertThat(Boot.resolve("", CpuFeatures.ALL).geometry().paBits()).isEqualTo(48);
    }

    @Test
    void d128WithoutFeatD128FallsBackToD64() {
        BootResult r = Boot.resolve("granule.format=d128", NO_64K);
        assertThat(r.geometry().format()).isEqualTo(TranslationFormat.D64);
        assertThat(r.fallbacks()).singleElement().asString().contains("FEAT_D128");
    }

    @Test
    void fourKWith52BitVaUsesFiveLevelsAndDs() {
        Geometry g = Geometry.boot("arm64.pagesize=4k granule.va_bits=52");
        assertThat(g.levels()).isEqualTo(5);
        assertThat(g.startLevel()).isEqualTo(-1);
        assertThat(g.lpa2()).isTrue();
    }

    @Test
    void lpaeIsAThirtyTwoBitFourKRegimeWithFortyBitOutput() {
        Geometry g = Boot.resolve("granule.format=lpae", CpuFeatures.ALL).geometry();
        assertThat(g.format()).isEqualTo(TranslationFormat.LPAE);
        assertThat(g.granule()).isEqualTo(Granule.FOUR_K);
        assertThat(g.vaBits()).isEqualTo(32);
        assertThat(g.paBits()).isEqualTo(40);
        assertThat(Boot.resolve("granule.format=lpae granule.va_bits=30", CpuFeatures.ALL).geometry().startLevel())
                .isEqualTo(2);
        assertThatThrownBy(() -> Boot.resolve("granule.format=lpae arm64.pagesize=64k", CpuFeatures.ALL))
                .hasMessageContaining("4K pages only");
        assertThatThrownBy(() -> Boot.resolve("granule.format=lpae granule.va_bits=48", CpuFeatures.ALL))
                .hasMessageContaining("25 to 32 bits");
        assertThatThrownBy(() -> Boot.resolve("granule.format=lpae granule.pa_bits=48", CpuFeatures.ALL))
                .hasMessageContaining("32, 36 or 40-bit");
    }
    @Test
    void shortDescriptorsAreATwoLevelThirtyTwoBitRegime() {
        BootResult r = Boot.resolve("granule.format=short", CpuFeatures.ALL);
        Geometry g = r.geometry();
        assertThat(g.format()).isEqualTo(TranslationFormat.SHORT);
        assertThat(g.vaBits()).isEqualTo(32);
        assertThat(g.paBits()).as("sections and pages output 32 bits").isEqualTo(32);
        assertThat(g.levels()).isEqualTo(2);
        assertThat(g.descriptorBytes()).isEqualTo(4);
        assertThat(r.fallbacks()).isEmpty();
        Geometry n3 = Boot.resolve("granule.format=short granule.va_bits=29 granule.pa_bits=40", CpuFeatures.ALL).geometry();
        assertThat(n3.txsz()).as("TTBCR.N").isEqualTo(3);
        assertThat(n3.paBits()).as("supersections reach 40 bits").isEqualTo(40);
        assertThatThrownBy(() -> Boot.resolve("granule.format=short arm64.pagesize=16k", CpuFeatures.ALL))
                .hasMessageContaining("4K pages only");
        assertThatThrownBy(() -> Boot.resolve("granule.format=short granule.va_bits=33", CpuFeatures.ALL))
                .hasMessageContaining("TTBCR.N");
        assertThatThrownBy(() -> Boot.resolve("granule.format=lpae2", CpuFeatures.ALL))
                .hasMessageContaining("d64, d128, lpae or short");
    }
    @Test
    void d128TranslatesAtMost55BitsPerTtbrInTheKernelsRegime() {
        // Arm ARM RVRKKV / AArch64.S1MinTxSZ: with FEAT_LVA3 the minimum TnSZ is 9 for a regime
        // with two VA ranges (EL1&0); 8, a 56-bit VA, only for one range.
        Geometry g = Boot.resolve("granule.format=d128 granule.va_bits=55", CpuFeatures.ALL).geometry();
        assertThat(g.vaBits()).isEqualTo(55);
        assertThat(g.startLevel()).isEqualTo(-2);
        assertThatThrownBy(() -> Boot.resolve("granule.format=d128 granule.va_bits=56", CpuFeatures.ALL))
                .isInstanceOf(GeometryException.class).hasMessageContaining("at most 55 bits per TTBR");
        assertThat(Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 56, 56).txsz()).isEqualTo(8);
    }
}
