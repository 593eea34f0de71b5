package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * VMSAv9-128 in the EL2&amp;0 (VHE) regime, worked out from the Arm ARM: AArch64.S1TTWParamsEL20 reads
 * TCR2_EL2 as AArch64.S1TTWParamsEL10 reads TCR2_EL1 (d128 from TCR2_EL2.D128 [5], permission
 * indirection forced on with PIR_EL2 for EL2 and PIRE0_EL2 for EL0, SKL from TTBRn_EL2), so the walk
 * is the EL1&amp;0 one with the _EL2 registers; AArch64.GetS1TLBContext tags the entries with the EL2&amp;0
 * regime and TTBR0_EL2's ASID.
 *
 * <p>Layout as {@link D128MmuTest}'s: 4K granule, T0SZ 25 (39-bit VA, start level 0 with 16-byte
 * descriptors, 8 index bits a level), tables L0 -> L1 -> L2 -> L3, a page to PA 0x5000_0000 whose
 * PIIndex [118:115] selects the rights. PIR_EL2: PIIndex 0 read/write (0xC), 1 read-only (0x8);
 * PIRE0_EL2: PIIndex 0 read/write, 1 no access.
 */
class El20D128Test {

    static final long VA = 0x12_3456_7000L;
    static final long L0 = 0x10_0000, L1 = 0x20_0000, L2 = 0x30_0000, L3 = 0x40_0000, PA = 0x5000_0000L;
    static final long TCR = 25 | 0b101L << 32 | 1L << 23;                     // T0SZ 25, IPS 48, EPD1
    static final long TCR2_D128 = 1L << 5;
    static final long PIR = 0xC | 0x8L << 4, PIRE0 = 0xC;
    static final long AF = 1L << 10, NG = 1L << 11, PIINDEX_1 = 1L << (115 - 64);

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 32));

    @AfterEach
    void close() { memory.close(); }

    static long index(long va, int level) { return va >>> (12 + 8 * (3 - level)) & 0xFF; }

    void write(long address, long lo, long hi) {
        memory.writeLong(address, lo);
        memory.writeLong(address + 8, hi);
    }

    void build(long leafLo, long leafHi) {
        write(L0 + 16 * index(VA, 0), L1 | 1, 0);
        write(L1 + 16 * index(VA, 1), L2 | 1, 0);
        write(L2 + 16 * index(VA, 2), L3 | 1, 0);
        write(L3 + 16 * index(VA, 3), leafLo, leafHi);
    }

    static TranslationRegime el20(long tcr2, CpuFeatures cpu) {
        var el2 = new Registers(TCR, L0 | 4L << 48, 0, 0xFF, 1, false, 0, 0, 0);  // TTBR0_EL2.ASID 4
        return TranslationRegime.el20(el2, new PermissionRegisters(tcr2, PIR, PIRE0, 0, 0), cpu);
    }

    @Test
    void tcr2El2D128WalksVmsa128TablesAtEl2AndEl0() {
        build(PA | NG | AF | 1, 0);
        var regime = el20(TCR2_D128, CpuFeatures.ALL);
        assertThat(regime.d128()).isTrue();
        assertThat(regime.permissionIndirection()).as("PIE is forced on by D128").isTrue();
        Mmu mmu = new Mmu(regime, memory, new Tlb(16, 4));
        Translation.Translated t = ok(mmu.translate(VA + 0x10, Access.WRITE, 2));
        assertThat(t.pa()).isEqualTo(PA + 0x10);
        assertThat(t.level()).isEqualTo(3);
        assertThat(t.global()).isFalse();
        assertThat(t.asid()).isEqualTo(4);
        assertThat(ok(mmu.translate(VA, Access.READ, 0)).pa()).isEqualTo(PA);
    }

    @Test
    void pirEl2AndPire0El2GiveTheRightsByPiIndex() {
        build(PA | AF | 1, PIINDEX_1);
        Mmu mmu = new Mmu(el20(TCR2_D128, CpuFeatures.ALL), memory, new Tlb(16, 4));
        assertThat(ok(mmu.translate(VA, Access.READ, 2)).pa()).isEqualTo(PA);
        assertFault(mmu.translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 3);   // PIR_EL2 nibble 1: read-only
        assertFault(mmu.translate(VA, Access.READ, 0), FaultType.PERMISSION, 3);    // PIRE0_EL2 nibble 1: none
    }

    @Test
    void theEntriesAreTheEl20RegimesNotEl10s() {
        build(PA | AF | 1, 0);
        Tlb tlb = new Tlb(16, 4);
        Mmu el20 = new Mmu(el20(TCR2_D128, CpuFeatures.ALL), memory, tlb);
        ok(el20.translate(VA, Access.READ, 2));
        write(L0 + 16 * index(VA, 0), 0, 0);                                         // tables gone
        assertThat(el20.outputAddress(VA, Access.READ, 2)).isEqualTo(PA);           // its own entry
        var el10 = new TranslationRegime(new Registers(TCR, L0 | 4L << 48, 0, 0xFF, 1, false, 0, 0, 0),
                new PermissionRegisters(TCR2_D128, PIR, PIRE0, 0, 0), CpuFeatures.ALL);
        assertFault(new Mmu(el10, memory, tlb).translate(VA, Access.READ, 1), FaultType.TRANSLATION, 0);
        tlb.invalidateEl2();
        assertFault(el20.translate(VA, Access.READ, 2), FaultType.TRANSLATION, 0);
    }

    @Test
    void withoutTcr2El2OrFeatD128TheTablesAreVmsa64() {
        build(PA | AF | 1, 0);
        assertThat(TranslationRegime.el20(new Registers(TCR, L0, 0, 0xFF, 1, false), CpuFeatures.ALL).d128()).isFalse();
        var noD128 = new CpuFeatures(CpuFeatures.ALL.idAa64mmfr0(), CpuFeatures.ALL.idAa64mmfr2(),
                CpuFeatures.ALL.idAa64mmfr3() & ~(0xFL << 32), CpuFeatures.ALL.idAa64mmfr1(), CpuFeatures.ALL.idAa64mmfr4());
        var regime = el20(TCR2_D128, noD128);
        assertThat(regime.d128()).isFalse();
        // Read as 64-bit descriptors, a 39-bit VA starts at level 1: L0's entry for index(VA, 1) of a
        // 512-entry table is zero there, a translation fault at level 1.
        assertFault(new Mmu(regime, memory, new Tlb(16, 4)).translate(VA, Access.READ, 2), FaultType.TRANSLATION, 1);
    }
}
