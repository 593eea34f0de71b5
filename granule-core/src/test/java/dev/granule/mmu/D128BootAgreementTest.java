package dev.granule.mmu;

import dev.granule.format.Attributes;
import dev.granule.geometry.Boot;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.VaRange;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code granule boot} says of a VMSAv9-128 kernel and what the MMU does with the registers it
 * prints agree: the TCR_EL1 of the booted geometry (TnSZ = 64 - VA bits, its TG0/TG1) with
 * TCR2_EL1.D128 gives both halves that geometry's VA size, levels and start level, and a page the
 * engine maps in tables of the booted geometry translates through those registers to its PA.
 */
class D128BootAgreementTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"arm64.pagesize=4k granule.format=d128 granule.va_bits=39",
            "arm64.pagesize=4k granule.format=d128 granule.va_bits=48",
            "arm64.pagesize=4k granule.format=d128 granule.va_bits=52",
            "arm64.pagesize=4k granule.format=d128 granule.va_bits=55",
            "arm64.pagesize=16k granule.format=d128 granule.va_bits=47",
            "arm64.pagesize=16k granule.format=d128 granule.va_bits=55",
            "arm64.pagesize=64k granule.format=d128 granule.va_bits=42",
            "arm64.pagesize=64k granule.format=d128 granule.va_bits=52",
            "arm64.pagesize=64k granule.format=d128 granule.va_bits=55"})
    void theBootedGeometryIsWhatTheRegistersTranslate(String commandLine) {
        Geometry g = Boot.resolve(commandLine, CpuFeatures.ALL).geometry();
        assertThat(g.format().option()).isEqualTo("d128");
        long txsz = 64 - g.vaBits();
        long tcr = txsz | txsz << 16 | (long) g.granule().tg0() << 14 | (long) g.granule().tg1() << 30 | 0b101L << 32;
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 36))) {
            var frames = FrameAllocator.over(memory, g.fullTableBytes(), new MemoryRange(1L << 32, 1L << 30));
            var space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
            long va = (1L << g.vaBits()) - g.pageSize();   // the last page: every index at its maximum
            space.map(va, 0x7654_0000_0000L & -g.pageSize(), g.pageSize(), Attributes.kernelData());
            var regime = new TranslationRegime(new Registers(tcr, space.root(), 0, 0xFF, 1, false),
                    new PermissionRegisters(1L << 5, 0xCCCC_CCCC_CCCC_CCCCL, 0, 0, 0), CpuFeatures.ALL);
            for (TranslationRegime.Half half : new TranslationRegime.Half[]{regime.lower(), regime.upper()}) {
                assertThat(half.geometry().vaBits()).isEqualTo(g.vaBits());
                assertThat(half.geometry().levels()).isEqualTo(g.levels());
                assertThat(half.startLevel()).isEqualTo(g.startLevel());
                assertThat(half.geometry().granule()).isEqualTo(g.granule());
            }
            Translation t = new Mmu(regime, memory, new Tlb(16, 4)).translate(va + 8, Access.WRITE, 1);
            assertThat(t).isInstanceOfSatisfying(Translation.Translated.class,
                    ok -> assertThat(ok.pa()).isEqualTo((0x7654_0000_0000L & -g.pageSize()) + 8));
        }
    }
}
