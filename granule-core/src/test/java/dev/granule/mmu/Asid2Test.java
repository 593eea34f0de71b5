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
 * FEAT_ASID2 in the EL1&amp;0 regime, worked out from the Arm ARM: TCR2_EL1.FNG0 [17] / FNG1 [18] make
 * AArch64.S1NextWalkStateLeaf treat every leaf of the TTBR0 / TTBR1 range as nG = 1 (so the TLB entry
 * is tagged with the ASID: another ASID does not hit it, TLBI ASIDE1 removes it); TCR2_EL1.A2 [16] makes
 * AArch64.GetS1TLBContext take the ASID from TTBR0_EL1 for the lower range and TTBR1_EL1 for the upper
 * range, whatever TCR_EL1.A1 says. All three are read only where ID_AA64MMFR4_EL1.ASID2 [11:8] is 1.
 *
 * <p>Layout: 4K granule, T0SZ = T1SZ = 25 (39-bit ranges, start level 1), IPS 48, 16-bit ASIDs.
 * Lower VA 0x4000_0000 and upper VA 0xFFFF_FF80_4000_0000 are level-1 index 1 of their tables, 1 GiB
 * blocks to PA 0x4000_0000 and 0x8000_0000, global (nG = 0) unless a test sets nG.
 */
class Asid2Test {

    static final long LOWER_VA = 0x4000_0000L, UPPER_VA = 0xFFFF_FF80_4000_0000L;
    static final long ROOT0 = 0x10_0000, ROOT1 = 0x20_0000;
    // T0SZ 25 [5:0], T1SZ 25 [21:16], TG1 0b10 = 4K [31:30], IPS 0b101 [34:32], AS 16-bit [36].
    static final long TCR = 25 | 25L << 16 | 0b10L << 30 | 0b101L << 32 | 1L << 36;
    static final long A1 = 1L << 22;
    static final long TCR2_A2 = 1L << 16, TCR2_FNG0 = 1L << 17, TCR2_FNG1 = 1L << 18;
    static final long BLOCK = 0b01, AF = 1L << 10, NG = 1L << 11;
    /** {@link CpuFeatures#ALL} without ID_AA64MMFR4_EL1.ASID2. */
    static final CpuFeatures NO_ASID2 = new CpuFeatures(CpuFeatures.ALL.idAa64mmfr0(), CpuFeatures.ALL.idAa64mmfr2(),
            CpuFeatures.ALL.idAa64mmfr3(), CpuFeatures.ALL.idAa64mmfr1(), 0);

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 32));
    final Tlb tlb = new Tlb(16, 4);

    @AfterEach
    void close() { memory.close(); }

    void build(long leafBits) {
        memory.writeLong(ROOT0 + 8, 0x4000_0000L | leafBits | AF | BLOCK);
        memory.writeLong(ROOT1 + 8, 0x8000_0000L | leafBits | AF | BLOCK);
    }

    /** Both tables emptied: only what the TLB holds still translates. */
    void clearTables() {
        memory.writeLong(ROOT0 + 8, 0);
        memory.writeLong(ROOT1 + 8, 0);
    }

    Mmu mmu(long tcrBits, long tcr2, int asid0, int asid1, CpuFeatures cpu) {
        var regs = new Registers(TCR | tcrBits, ROOT0 | (long) asid0 << 48, ROOT1 | (long) asid1 << 48, 0xFF, 1, false);
        return new Mmu(new TranslationRegime(regs, new PermissionRegisters(tcr2, 0, 0, 0, 0), cpu), memory, tlb);
    }

    @Test
    void fng1MakesTtbr1LeavesNonGlobalAndTaggedWithTheAsid() {
        build(0);
        Mmu asid5 = mmu(0, TCR2_FNG1, 5, 0, CpuFeatures.ALL);        // A1 = 0: the ASID is TTBR0_EL1's, 5
        Translation.Translated upper = ok(asid5.translate(UPPER_VA, Access.READ, 1));
        assertThat(upper.global()).isFalse();
        assertThat(upper.asid()).isEqualTo(5);
        assertThat(ok(asid5.translate(LOWER_VA, Access.READ, 1)).global()).isTrue();   // FNG0 is 0
        clearTables();
        // ASID 6 misses the upper entry (tagged 5) and walks the emptied table; the lower entry is global.
        Mmu asid6 = mmu(0, TCR2_FNG1, 6, 0, CpuFeatures.ALL);
        assertFault(asid6.translate(UPPER_VA, Access.READ, 1), FaultType.TRANSLATION, 1);
        assertThat(asid6.outputAddress(LOWER_VA, Access.READ, 1)).isEqualTo(0x4000_0000L);
        assertThat(asid5.outputAddress(UPPER_VA + 0x10, Access.READ, 1)).isEqualTo(0x8000_0010L);
        // TLBI ASIDE1 for ASID 5 removes the forced non-global entry, never the global one.
        tlb.invalidateAsid(5);
        assertFault(asid5.translate(UPPER_VA, Access.READ, 1), FaultType.TRANSLATION, 1);
        assertThat(asid5.outputAddress(LOWER_VA, Access.READ, 1)).isEqualTo(0x4000_0000L);
    }

    @Test
    void fng0MakesOnlyTtbr0LeavesNonGlobal() {
        build(0);
        Mmu mmu = mmu(0, TCR2_FNG0, 9, 0, CpuFeatures.ALL);
        assertThat(ok(mmu.translate(LOWER_VA, Access.READ, 1)).global()).isFalse();
        assertThat(ok(mmu.translate(UPPER_VA, Access.READ, 1)).global()).isTrue();
        clearTables();
        tlb.invalidateAsid(9);
        assertFault(mmu.translate(LOWER_VA, Access.READ, 1), FaultType.TRANSLATION, 1);
        assertThat(mmu.outputAddress(UPPER_VA, Access.READ, 1)).isEqualTo(0x8000_0000L);
    }

    @Test
    void fngIsIgnoredOnACpuWithoutFeatAsid2() {
        build(0);
        Mmu mmu = mmu(0, TCR2_FNG0 | TCR2_FNG1, 5, 0, NO_ASID2);
        assertThat(ok(mmu.translate(LOWER_VA, Access.READ, 1)).global()).isTrue();
        assertThat(ok(mmu.translate(UPPER_VA, Access.READ, 1)).global()).isTrue();
    }

    @Test
    void a2TagsEachRangeWithItsOwnTtbrsAsid() {
        build(NG);
        // TTBR0_EL1.ASID 3, TTBR1_EL1.ASID 7; TCR_EL1.A1 = 1 would pick 7 for both without A2.
        Mmu two = mmu(A1, TCR2_A2, 3, 7, CpuFeatures.ALL);
        assertThat(ok(two.translate(LOWER_VA, Access.READ, 1)).asid()).isEqualTo(3);
        assertThat(ok(two.translate(UPPER_VA, Access.READ, 1)).asid()).isEqualTo(7);
        clearTables();
        // Both are cached under their own ASID: TLBI ASIDE1 for 7 removes the upper entry only.
        tlb.invalidateAsid(7);
        assertFault(two.translate(UPPER_VA, Access.READ, 1), FaultType.TRANSLATION, 1);
        assertThat(two.outputAddress(LOWER_VA, Access.READ, 1)).isEqualTo(0x4000_0000L);
        tlb.invalidateAsid(3);
        assertThat(two.outputAddress(LOWER_VA, Access.READ, 1)).isEqualTo(-1);
    }

    @Test
    void withoutA2BothRangesUseTheAsidTcrA1Selects() {
        build(NG);
        Mmu one = mmu(A1, 0, 3, 7, CpuFeatures.ALL);
        assertThat(ok(one.translate(LOWER_VA, Access.READ, 1)).asid()).isEqualTo(7);
        assertThat(ok(one.translate(UPPER_VA, Access.READ, 1)).asid()).isEqualTo(7);
        // And on a CPU without FEAT_ASID2, TCR2_EL1.A2 changes nothing.
        Mmu ignored = mmu(A1, TCR2_A2, 3, 7, NO_ASID2);
        assertThat(ok(ignored.translate(LOWER_VA, Access.READ, 1)).asid()).isEqualTo(7);
    }
}
