package dev.granule.geometry;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GeometryPropertiesTest {

    private static final Set<Integer> PA_SIZES = Set.of(32, 36, 40, 42, 44, 48, 52, 56);

    @Provide
    Arbitrary<Geometry> validGeometries() {
        return Arbitraries.of(Granule.values()).flatMap(granule ->
                Arbitraries.of(TranslationFormat.values())
                        .filter(format -> !format.isAArch32() || granule == Granule.FOUR_K)
                        .flatMap(format -> Arbitraries.integers().between(Geometry.MIN_VA_BITS, maxVa(format))
                                .flatMap(va -> Arbitraries.of(32, 36, 40, 42, 44, 48, 52, 56)
                                        .filter(pa -> pa <= maxPa(format))
                                        .map(pa -> Geometry.of(granule, format, va, pa)))));
    }

    /** Architectural limits per format, from the Arm ARM: VMSAv8-64 52/52, VMSAv9-128 56/56, LPAE and short 32/40. */
    private static int maxVa(TranslationFormat f) {
        return switch (f) { case D64 -> 52; case D128 -> 56; case LPAE, SHORT -> 32; };
    }

    private static int maxPa(TranslationFormat f) {
        return switch (f) { case D64 -> 52; case D128 -> 56; case LPAE, SHORT -> 40; };
    }

    @Property
    void levelsResolveExactlyTheVaBits(@ForAll("validGeometries") Geometry g) {
        int bits = g.pageShift();
        for (int level = g.startLevel(); level <= 3; level++) bits += g.bitsAt(level);
        assertThat(bits).isEqualTo(g.vaBits());
        assertThat(g.levels()).isEqualTo(4 - g.startLevel());
    }

    @Property
    void startLevelResolvesBetweenOneBitAndAFullTable(@ForAll("validGeometries") Geometry g) {
        if (g.format() == TranslationFormat.SHORT) {
            // Arm ARM B3.5.4: the first level resolves VA[31-N:20], 12 - N bits, in a 16 KiB >> N table.
            assertThat(g.bitsAt(g.startLevel())).isEqualTo(12 - g.txsz());
            assertThat(g.tableBytes(g.startLevel())).isEqualTo(16384L >> g.txsz());
            return;
        }
        assertThat(g.bitsAt(g.startLevel())).isBetween(1, g.bitsPerLevel());
        assertThat(g.tableBytes(g.startLevel())).isLessThanOrEqualTo(g.pageSize());
    }

    @Property
    void shiftsAndPtrsPerTableAreConsistent(@ForAll("validGeometries") Geometry g) {
        assertThat(g.shift(3)).isEqualTo(g.pageShift());
        // A full table is a page, except the short format's 1 KiB second-level table.
        long fullTable = g.format() == TranslationFormat.SHORT ? 1024 : g.pageSize();
        assertThat((long) g.ptrsPerTable() * g.descriptorBytes()).isEqualTo(fullTable);
        assertThat(g.fullTableBytes()).isEqualTo(fullTable);
        for (int level = g.startLevel(); level < 3; level++) {
            assertThat(g.shift(level)).isEqualTo(g.shift(level + 1) + g.bitsPerLevel());
            assertThat(g.entrySpan(level)).isEqualTo(g.entrySpan(level + 1) * g.ptrsPerTable());
        }
        assertThat(g.shift(g.startLevel()) + g.bitsAt(g.startLevel())).isEqualTo(g.vaBits());
    }

    @Property
    void indicesReassembleTheAddress(@ForAll("validGeometries") Geometry g, @ForAll long va) {
        long rebuilt = va & (g.pageSize() - 1);
        for (int level = g.startLevel(); level <= 3; level++) {
            int index = g.index(va, level);
            assertThat(index).isBetween(0, g.entries(level) - 1);
            rebuilt |= (long) index << g.shift(level);
        }
        assertThat(rebuilt).isEqualTo(va & g.vaMask());
    }

    @Property
    void linuxFoldingKeepsTheKernelsInvariants(@ForAll("validGeometries") Geometry g) {
        // Linux has 2 to 5 levels; the architecture also allows one (16K/64K, VA <= 29 bits: start level 3).
        Assume.that(g.format() == TranslationFormat.D64 && g.levels() >= 2);
        long span = 1L << g.vaBits();
        long product = (long) g.ptrsPerPgd() * g.ptrsPerP4d() * g.ptrsPerPud() * g.ptrsPerPmd() * g.ptrsPerPte();
        assertThat(product * g.pageSize()).isEqualTo(span);
        assertThat(g.pmdShift()).isGreaterThanOrEqualTo(g.pageShift());
        assertThat(g.pudShift()).isGreaterThanOrEqualTo(g.pmdShift());
        assertThat(g.pgdirShift()).isGreaterThanOrEqualTo(g.pudShift());
    }

    @Property
    void vaSizesOutsideTheArchitectureAreRejectedByName(@ForAll Granule granule, @ForAll @IntRange(min = -8, max = 80) int va) {
        // FEAT_TTST (Arm ARM, TCR_EL1.T0SZ): TxSZ at most 48 for 4K and 16K, 47 for 64K.
        int min = 64 - (granule == Granule.SIXTY_FOUR_K ? 47 : 48);
        Assume.that(va < min || va > 52);
        assertThatThrownBy(() -> Geometry.of(granule, va, 48))
                .isInstanceOf(GeometryException.class)
                .hasMessageContaining("VA size " + va + " bits");
    }

    @Property
    void theSmallestVaSizesWalkOneLevel(@ForAll Granule granule) {
        int va = 64 - (granule == Granule.SIXTY_FOUR_K ? 47 : 48);
        Geometry g = Geometry.of(granule, va, 48);
        assertThat(g.levels()).isEqualTo(1);
        assertThat(g.startLevel()).isEqualTo(3);
        assertThat(g.entries(3)).isEqualTo(1 << (va - granule.pageShift()));
    }

    @Property
    void paSizesOutsideTheArchitectureAreRejectedByName(@ForAll Granule granule, @ForAll @IntRange(min = 0, max = 70) int pa) {
        Assume.that(!PA_SIZES.contains(pa));
        assertThatThrownBy(() -> Geometry.of(granule, 48, pa))
                .isInstanceOf(GeometryException.class)
                .hasMessageContaining("PA size " + pa + " bits");
    }

    @Property
    void d64CannotOutput56Bits(@ForAll Granule granule) {
        assertThatThrownBy(() -> Geometry.of(granule, 48, 56))
                .isInstanceOf(GeometryException.class)
                .hasMessageContaining("VMSAv9-128");
    }

    @Property
    void componentsThatDisagreeAreRejected(@ForAll("validGeometries") Geometry g, @ForAll @IntRange(min = 1, max = 3) int delta) {
        assertThatThrownBy(() -> new Geometry(g.granule(), g.format(), g.vaBits(), g.paBits(), g.lpa2(),
                g.pageShift(), g.bitsPerLevel(), g.levels() + delta, g.startLevel() - delta))
                .isInstanceOf(GeometryException.class);
    }

    @Property
    void bootOnAnyCpuYieldsAGeometryThatCpuRuns(@ForAll CpuPreset preset, @ForAll Granule granule,
                                                @ForAll @IntRange(min = 25, max = 52) int va, @ForAll boolean noLva) {
        CpuFeatures cpu = preset.features();
        String cmdline = "arm64.pagesize=" + granule.pageSize() + " granule.va_bits=" + va + (noLva ? " arm64.nolva" : "");
        Geometry g = Boot.resolve(cmdline, cpu).geometry();
        assertThat(cpu.supports(g.granule())).isTrue();
        assertThat(g.vaBits()).isLessThanOrEqualTo(cpu.maxVaBits(g.granule(), g.format()));
        assertThat(g.paBits()).isLessThanOrEqualTo(cpu.maxPaBits(g.granule(), g.format()));
        if (noLva) assertThat(g.vaBits()).isLessThanOrEqualTo(48);
        if (cpu.supports(granule)) assertThat(g.granule()).isEqualTo(granule);
    }
}
