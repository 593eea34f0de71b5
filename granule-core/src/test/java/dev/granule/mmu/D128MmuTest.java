package dev.granule.mmu;

import dev.granule.format.Shareability;
import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * VMSAv9-128 leaves through the MMU beyond fault levels: Contiguous runs and DisCH, nG and ASIDs,
 * the TLB, hardware Access flag and dirty state writing back the whole 128-bit descriptor, AttrIndx[3]
 * with FEAT_AIE, and TCR2_EL1.D128 on a CPU without FEAT_D128. 4K granule, T0SZ = 25 (a 39-bit VA:
 * AArch64.S1StartLevel gives level 0 with a 16-byte descriptor, stride 8), IPS = 48 bits.
 * Descriptors are written by hand from the Arm ARM's VMSAv9-128 layout (see {@link D128FaultLevelTest}):
 * AttrIndx [5:2], nDirty [7], SH [9:8], AF [10], nG [11], SKL [110:109], Contiguous [111],
 * DisCH [112], PIIndex [118:115].
 */
class D128MmuTest {

    static final long VA = 0x12_3456_7000L;              // below 2^39; the indices are index(VA, level)
    static final long L0 = 0x10_0000, L1 = 0x20_0000, L2 = 0x30_0000, L3 = 0x40_0000;
    static final long TCR = 25 | 0b101L << 32 | 1L << 23;                    // T0SZ = 25, IPS 48, EPD1
    static final long TCR2_D128 = 1L << 5, TCR2_AIE = 1L << 4;
    static final long PIR = 0xC | 0x8L << 4;                                 // 0: RW, 1: R
    static final long SKL_LEAF3 = 0, CONTIGUOUS = 1L << (111 - 64), DISCH = 1L << (112 - 64);
    static final long AF = 1L << 10, NG = 1L << 11, NDIRTY = 1L << 7;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 32));

    @AfterEach
    void close() { memory.close(); }

    static long index(long va, int level) { return va >>> (12 + 8 * (3 - level)) & 0xFF; }

    void write(long address, long lo, long hi) {
        memory.writeLong(address, lo);
        memory.writeLong(address + 8, hi);
    }

    /** Tables L0 -> L1 -> L2 -> L3 for {@code va}; the level-2 table descriptor's high word is {@code l2Hi}. */
    void tables(long va, long l2Hi) {
        write(L0 + 16 * index(va, 0), L1 | 1, 0);
        write(L1 + 16 * index(va, 1), L2 | 1, 0);
        write(L2 + 16 * index(va, 2), L3 | 1, l2Hi);
    }

    static TranslationRegime regime(long tcr, long ttbr0, long tcr2, long mair2, CpuFeatures cpu) {
        return new TranslationRegime(new Registers(tcr, ttbr0, 0, 0x44FF, 1, false, 0, 0, mair2),
                new PermissionRegisters(tcr2, PIR, 0, 0, 0), cpu);
    }

    Mmu mmu(long ttbr0, Tlb tlb) {
        return new Mmu(regime(TCR, ttbr0, TCR2_D128, 0, CpuFeatures.ALL), memory, tlb);
    }

    @Test
    void aContiguousRunOfSixteenPagesIsOneTlbEntry() {
        tables(VA, 0);
        long run = VA & -(16L << 12);
        long oa = 0x7700_0000L;  // aligned to the 64 KiB run
        // Only the entry for VA is written; the run's other entries stay invalid in memory.
        write(L3 + 16 * index(VA, 3), (oa + (VA - run)) | AF | 1, CONTIGUOUS);
        Tlb tlb = new Tlb(16, 4);
        Mmu mmu = mmu(L0, tlb);
        assertThat(mmu.translate(VA, Access.READ, 1)).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.contiguous()).isTrue());
        // Another page of the run hits the cached run (the architecture lets the TLB hold the whole run).
        long other = run + 0x3000;
        assertThat(mmu.translate(other, Access.READ, 1)).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.pa()).isEqualTo(oa + 0x3000));
        assertThat(tlb.hits()).isEqualTo(1);
    }

    @Test
    void disChInTheTableAboveMakesTheContiguousBitIgnored() {
        tables(VA, DISCH);
        long run = VA & -(16L << 12);
        write(L3 + 16 * index(VA, 3), (0x7700_0000L + (VA - run)) | AF | 1, CONTIGUOUS);
        Tlb tlb = new Tlb(16, 4);
        Mmu mmu = mmu(L0, tlb);
        assertThat(mmu.translate(VA, Access.READ, 1)).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.contiguous()).isFalse());
        assertThat(mmu.translate(run + 0x3000, Access.READ, 1)).isInstanceOf(Translation.Fault.class);
    }

    @Test
    void aNonGlobalLeafIsTaggedWithTheTtbrAsid() {
        tables(VA, 0);
        write(L3 + 16 * index(VA, 3), 0x5000_0000L | NG | AF | 1, SKL_LEAF3);
        Tlb tlb = new Tlb(16, 4);
        Mmu asid5 = mmu(L0 | 5L << 48, tlb);
        assertThat(asid5.translate(VA, Access.READ, 1)).isInstanceOfSatisfying(Translation.Translated.class, ok -> {
            assertThat(ok.global()).isFalse();
            assertThat(ok.asid()).isEqualTo(5);
        });
        // Remove the table: ASID 5 still hits its entry, ASID 6 walks and faults.
        write(L0 + 16 * index(VA, 0), 0, 0);
        assertThat(asid5.translate(VA, Access.READ, 1)).isInstanceOf(Translation.Translated.class);
        assertThat(mmu(L0 | 6L << 48, tlb).translate(VA, Access.READ, 1)).isInstanceOfSatisfying(
                Translation.Fault.class, f -> assertThat(f.level()).isEqualTo(0));
        tlb.invalidateAsid(5);
        assertThat(asid5.translate(VA, Access.READ, 1)).isInstanceOf(Translation.Fault.class);
    }

    @Test
    void hardwareAccessFlagAndDirtyStateWriteBackAll128Bits() {
        tables(VA, 0);
        long slot = L3 + 16 * index(VA, 3);
        long hi = 0b0101L << (115 - 64) | 0b0011L << (121 - 64) | 1L << (113 - 64); // PIIndex 5, POIndex 3, GP
        write(slot, 0x5000_0000L | NDIRTY | 0b11 << 8 | 1, hi);                    // AF = 0, nDirty = 1, SH inner
        long ha = 1L << 39, hd = 1L << 40;
        var regime = new TranslationRegime(new Registers(TCR | ha | hd, L0, 0, 0xFF, 1, false, 0, 0, 0),
                new PermissionRegisters(TCR2_D128, 0xCL << 20, 0, 0, 0), CpuFeatures.ALL); // PIIndex 5: RW
        Translation t = new Mmu(regime, memory, new Tlb(16, 4)).translate(VA, Access.WRITE, 1);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.shareability()).isEqualTo(Shareability.INNER_SHAREABLE));
        // AF set, nDirty cleared, the high word untouched.
        assertThat(memory.readLong(slot)).isEqualTo(0x5000_0000L | AF | 0b11 << 8 | 1);
        assertThat(memory.readLong(slot + 8)).isEqualTo(hi);
    }

    @Test
    void withoutHaAWriteToACleanPageFaultsAndAfZeroIsAnAccessFlagFault() {
        tables(VA, 0);
        long slot = L3 + 16 * index(VA, 3);
        write(slot, 0x5000_0000L | NDIRTY | AF | 1, 0);
        assertThat(mmu(L0, new Tlb(16, 4)).translate(VA, Access.WRITE, 1)).isInstanceOfSatisfying(
                Translation.Fault.class, f -> assertThat(f.type()).isEqualTo(FaultType.PERMISSION));
        write(slot, 0x5000_0000L | 1, 0);
        assertThat(mmu(L0, new Tlb(16, 4)).translate(VA, Access.READ, 1)).isInstanceOfSatisfying(
                Translation.Fault.class, f -> assertThat(f.type()).isEqualTo(FaultType.ACCESS_FLAG));
    }

    @Test
    void attrIndx3SelectsMair2UnderAie() {
        tables(VA, 0);
        write(L3 + 16 * index(VA, 3), 0x5000_0000L | 0b1001 << 2 | AF | 1, 0);  // AttrIndx 9
        long mair2 = 0x04L << 8;                                                    // MAIR2 attr 1: Device-nGnRE
        var aie = regime(TCR, L0, TCR2_D128 | TCR2_AIE, mair2, CpuFeatures.ALL);
        assertThat(new Mmu(aie, memory, new Tlb(16, 4)).translate(VA, Access.READ, 1)).isInstanceOfSatisfying(
                Translation.Translated.class, ok -> assertThat(ok.mairAttr()).isEqualTo(0x04));
        // Without AIE bit 5 is not part of AttrIndx: index 1 of MAIR_EL1 (0x44).
        var plain = regime(TCR, L0, TCR2_D128, mair2, CpuFeatures.ALL);
        assertThat(new Mmu(plain, memory, new Tlb(16, 4)).translate(VA, Access.READ, 1)).isInstanceOfSatisfying(
                Translation.Translated.class, ok -> assertThat(ok.mairAttr()).isEqualTo(0x44));
    }

    @Test
    void aChangedDescriptorIsUnseenUntilTheTlbiForItsVa() {
        tables(VA, 0);
        long slot = L3 + 16 * index(VA, 3);
        write(slot, 0x5000_0000L | AF | 1, 0);
        Tlb tlb = new Tlb(16, 4);
        Mmu mmu = mmu(L0, tlb);
        assertThat(mmu.outputAddress(VA, Access.READ, 1)).isEqualTo(0x5000_0000L | (VA & 0xFFF));
        write(slot, 0x6000_0000L | AF | 1, 0);
        assertThat(mmu.outputAddress(VA, Access.READ, 1)).isEqualTo(0x5000_0000L | (VA & 0xFFF));
        tlb.invalidateVa(VA, 0);
        assertThat(mmu.outputAddress(VA, Access.READ, 1)).isEqualTo(0x6000_0000L | (VA & 0xFFF));
    }

    @Test
    void tcr2D128IsIgnoredOnACpuWithoutFeatD128() {
        // CpuFeatures.ALL without ID_AA64MMFR3_EL1.D128 [35:32]: TCR2_EL1.D128 reads as 0.
        var cpu = new CpuFeatures(CpuFeatures.ALL.idAa64mmfr0(), CpuFeatures.ALL.idAa64mmfr2(),
                CpuFeatures.ALL.idAa64mmfr3() & ~(0xFL << 32));
        var regime = regime(TCR, L0, TCR2_D128, 0, cpu);
        assertThat(regime.d128()).isFalse();
        assertThat(regime.lower().geometry().format().option()).isEqualTo("d64");
        assertThat(regime(TCR, L0, TCR2_D128, 0, CpuFeatures.ALL).lower().geometry().format().option()).isEqualTo("d128");
    }

    /**
     * A 64 GiB block at level 0 (SKL 3) under a 32-bit PS (IPS 0b000): AArch64.S1Walk checks the whole
     * output address StageOA forms, so VA 0x1000 is PA 0x1000 but VA 0x1_0000_1000 of the same block
     * is an address size fault at level 0, also once the block's first part is in the TLB.
     */
    @Test
    void aBlockWiderThanThePaSizeOutputsOnlyInsideIt() {
        write(L0, 1L << 10 | 1, 3L << (109 - 64));                     // L0[0]: block at PA 0, AF, SKL 3
        var regime = regime(25 | 1L << 23, L0, TCR2_D128, 0, CpuFeatures.ALL); // IPS 0b000: 32 bits
        Mmu mmu = new Mmu(regime, memory, new Tlb(16, 4));
        assertThat(mmu.translate(0x1000, Access.READ, 1)).isInstanceOfSatisfying(Translation.Translated.class, ok -> {
            assertThat(ok.pa()).isEqualTo(0x1000);
            assertThat(ok.leafSize()).isEqualTo(1L << 36);
        });
        for (int round = 0; round < 2; round++) {
            assertThat(mmu.translate(0x1_0000_1000L, Access.READ, 1)).isInstanceOfSatisfying(Translation.Fault.class, f -> {
                assertThat(f.type()).isEqualTo(FaultType.ADDRESS_SIZE);
                assertThat(f.level()).isEqualTo(0);
            });
            assertThat(mmu.outputAddress(0x1_0000_1000L, Access.READ, 1)).isEqualTo(-1);
            assertThat(mmu.outputAddress(0xFFFF_F000L, Access.READ, 1)).isEqualTo(0xFFFF_F000L);
        }
    }

    /**
     * TTBR1 as a 128-bit register: T1SZ = 25 and TG1 = 0b10 (4K) give the upper 39-bit range, VA
     * 0xFFFF_FF80_0000_1234 has indices 0, 0, 0, 1; BADDR[48] (TTBR1 bit 80) puts the table beyond
     * IPS = 48 bits, an address size fault at level 0.
     */
    @Test
    void ttbr1IsA128BitRegisterToo() {
        long va = 0xFFFF_FF80_0000_1234L;
        write(L0, L1 | 1, 0);
        write(L1, L2 | 1, 0);
        write(L2, L3 | 1, 0);
        write(L3 + 16, 0x5000_0000L | AF | 1, 0);
        long tcr = 25L << 16 | 0b10L << 30 | 0b101L << 32 | 1L << 7;   // T1SZ 25, TG1 4K, IPS 48, EPD0
        for (long high : new long[]{0, 1L << (80 - 64)}) {
            var regime = new TranslationRegime(new Registers(tcr, 0, L0, 0xFF, 1, false, 0, high, 0),
                    new PermissionRegisters(TCR2_D128, PIR, 0, 0, 0), CpuFeatures.ALL);
            Translation t = new Mmu(regime, memory, new Tlb(16, 4)).translate(va, Access.READ, 1);
            if (high == 0) {
                assertThat(t).isInstanceOfSatisfying(Translation.Translated.class,
                        ok -> assertThat(ok.pa()).isEqualTo(0x5000_0234L));
            } else {
                assertThat(t).isInstanceOfSatisfying(Translation.Fault.class, f -> {
                    assertThat(f.type()).isEqualTo(FaultType.ADDRESS_SIZE);
                    assertThat(f.level()).isEqualTo(0);
                });
            }
        }
    }
}
