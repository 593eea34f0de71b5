package dev.granule.geometry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Presets decode to what the cores are documented to implement (the TRMs' feature lists), and a
 * boot on them falls back as the README's rules say.
 */
class CpuPresetTest {

    @Test
    void decodedFieldsMatchTheCoresDocumentedFeatures() {
        CpuFeatures a72 = CpuPreset.CORTEX_A72.features();
        assertThat(a72.paBits()).isEqualTo(44);
        assertThat(a72.supports(Granule.SIXTEEN_K)).as("Cortex-A72 has no 16K granule").isFalse();
        assertThat(a72.supports(Granule.SIXTY_FOUR_K)).isTrue();

        CpuFeatures a76 = CpuPreset.CORTEX_A76.features();
        assertThat(a76.paBits()).isEqualTo(40);
        for (Granule g : Granule.values()) assertThat(a76.supports(g)).isTrue();
        assertThat(a76.supportsLpa2(Granule.FOUR_K)).isFalse();

        assertThat(CpuPreset.NEOVERSE_N2.features().paBits()).isEqualTo(48);
        assertThat(CpuPreset.NEOVERSE_N2.features().supportsLva()).isFalse();

        CpuFeatures max = CpuPreset.QEMU_MAX.features();
        assertThat(max.paBits()).isEqualTo(52);
        assertThat(max.supportsLpa2(Granule.FOUR_K)).isTrue();
        assertThat(max.supportsLpa2(Granule.SIXTEEN_K)).isTrue();
        assertThat(max.supportsLva()).isTrue();
        assertThat(max.supportsD128()).isFalse();

        CpuFeatures m1 = CpuPreset.APPLE_M1.features();
        assertThat(m1.supports(Granule.SIXTY_FOUR_K)).isFalse();
        assertThat(m1.supports(Granule.SIXTEEN_K)).isTrue();
        assertThat(m1.paBits()).isEqualTo(42);
    }

    @Test
    void bootsFallBackOnRealCores() {
        BootResult m1 = Boot.resolve("arm64.pagesize=64k", CpuPreset.APPLE_M1.features());
        assertThat(m1.geometry().granule()).as("largest smaller granule").isEqualTo(Granule.SIXTEEN_K);
        assertThat(m1.fallbacks()).singleElement().asString().contains("64K");

        BootResult a72 = Boot.resolve("arm64.pagesize=16k", CpuPreset.CORTEX_A72.features());
        assertThat(a72.geometry().granule()).isEqualTo(Granule.FOUR_K);

        BootResult n2 = Boot.resolve("arm64.pagesize=4k granule.va_bits=52", CpuPreset.NEOVERSE_N2.features());
        assertThat(n2.geometry().vaBits()).as("no LPA2 on N2").isEqualTo(48);

        BootResult max = Boot.resolve("arm64.pagesize=16k granule.va_bits=52", CpuPreset.QEMU_MAX.features());
        assertThat(max.geometry().lpa2()).isTrue();
        assertThat(max.geometry().paBits()).isEqualTo(48); // default PA stays at most 48 bits
        assertThat(Boot.resolve("granule.format=d128", CpuPreset.QEMU_MAX.features()).geometry().format())
                .isEqualTo(TranslationFormat.D64);
    }
}
