package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.PaSizeRulesTest.PA48;
import static dev.granule.mmu.PaSizeRulesTest.PA52;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A TxSZ below the minimum, one rule for the four walks (VMSAv8-64 and VMSAv9-128, stage 1 and 2): every
 * walk of that range is a level 0 translation fault. From the Arm ARM pseudocode: AArch64.S1TxSZFaults
 * faults below AArch64.S1MinTxSZ (16; 12 for 64K with FEAT_LVA or with DS; 9 for VMSAv9-128 with
 * FEAT_LVA3 at a regime with EL0) where FEAT_LVA is implemented, and AArch64.S2TxSZFaults below
 * AArch64.S2MinTxSZ (64 - PAMax, PAMax taken as at most 48 for 4K/16K without DS and 52 otherwise;
 * VMSAv9-128: 64 - PAMax) where FEAT_LPA is; elsewhere it is IMPLEMENTATION DEFINED, and QEMU
 * (target/arm: aa64_va_parameters' tsz_oob, get_phys_addr_lpae) chooses the fault at both stages.
 *
 * <p>Stage 1: 4K, TTBR1 off, the root at ROOT; with T0SZ 16 (48-bit VA, level 0 start) VA 0 is mapped
 * by a 1 GiB level-1 block to PA 0x8000_0000.
 */
class TxszBelowMinimumTest {

    static final long ROOT = 0x4000_0000L, L1 = 0x4000_1000L;
    static final long EPD1 = 1L << 23, IPS_48 = 0b101L << 32, TG0_64K = 0b01L << 14, DS = 1L << 59;
    static final long AF = 1L << 10, BLOCK = 0b01, TABLE = 0b11;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 24));

    @AfterEach
    void close() { memory.close(); }

    Translation translate(long tcr, long va, CpuFeatures cpu) {
        memory.writeLong(ROOT, L1 | TABLE);
        memory.writeLong(L1, 0x8000_0000L | AF | BLOCK);
        var regime = new TranslationRegime(new Registers(tcr, ROOT, 0, 0xFF, 1, false), cpu);
        return new Mmu(regime, memory, new Tlb(16, 4)).translate(va, Access.READ, 1);
    }

    static void belowMinimum(Translation t, int min) {
        assertFault(t, FaultType.TRANSLATION, 0);
        assertThat(((Translation.Fault) t).detail()).contains("below the minimum " + min);
    }

    @Test
    void stage1VmsaV8BelowSixteenFaultsAtLevel0() {
        // PA52 has FEAT_LVA (ID_AA64MMFR2_EL1.VARange = 1): the fault is what the pseudocode requires.
        assertThat(ok(translate(16 | EPD1 | IPS_48, 0x1234, PA52)).pa()).isEqualTo(0x8000_1234L);
        belowMinimum(translate(15 | EPD1 | IPS_48, 0x1234, PA52), 16);
        // The hot path agrees (the compiled walk is not built for such a half).
        var regime = new TranslationRegime(new Registers(15 | EPD1 | IPS_48, ROOT, 0, 0xFF, 1, false), PA52);
        assertThat(new Mmu(regime, memory, new Tlb(16, 4)).outputAddress(0x1234, Access.READ, 1)).isEqualTo(-1);
        // 64K with FEAT_LVA and 4K with DS (FEAT_LPA2): the minimum is 12.
        belowMinimum(translate(11 | TG0_64K | EPD1 | IPS_48, 0x1234, PA52), 12);
        belowMinimum(translate(11 | DS | EPD1 | IPS_48, 0x1234, PA52), 12);
        assertThat(translate(12 | DS | EPD1 | IPS_48, 0x1234, PA52).toString()).doesNotContain("below the minimum");
    }

    @Test
    void stage1UpperRangeFaultsAloneByT1sz() {
        // T0SZ 16, T1SZ 15 (TCR [21:16]), TTBR1 on: the lower range still translates.
        long tcr = 16 | 15L << 16 | IPS_48;
        assertThat(ok(translate(tcr, 0x1234, PA52)).pa()).isEqualTo(0x8000_1234L);
        belowMinimum(translate(tcr, 0xFFFF_8000_0000_1234L, PA52), 16);
    }

    @Test
    void stage1VmsaV9BelowNineFaultsAtLevel0() {
        // CpuFeatures.ALL has FEAT_LVA3: S1MinTxSZ with d128 at EL1&0 is 9 (a 55-bit VA).
        long tcr2D128 = 1L << 5;
        for (int t0sz : new int[] {8, 9}) {
            var regime = new TranslationRegime(new Registers(t0sz | EPD1 | IPS_48, ROOT, 0, 0xFF, 1, false, 0, 0, 0),
                    new PermissionRegisters(tcr2D128, 0, 0, 0, 0), CpuFeatures.ALL);
            assertThat(regime.d128()).isTrue();
            Translation t = new Mmu(regime, memory, new Tlb(16, 4)).translate(0x1234, Access.READ, 1);
            if (t0sz == 8) belowMinimum(t, 9);
            else assertThat(t.toString()).doesNotContain("below the minimum");
        }
    }

    // Stage 2 (VTCR_EL2): T0SZ [5:0], SL0 [7:6], TG0 [15:14] 4K, PS [18:16], RES1 [31]; D128 [38].
    static Stage2Regime stage2(long vtcr, CpuFeatures cpu) {
        return new Stage2Regime(1, vtcr | 0b101L << 16 | 1L << 31, ROOT, 0, 0, cpu);
    }

    static void stage2BelowMinimum(Stage2Regime s2, int min) {
        assertThat(s2.invalidReason()).contains("below the minimum " + min);
    }

    @Test
    void stage2VmsaV8BelowS2MinTxSzFaults() {
        // 4K, SL0 = 0b10 (level 0): T0SZ 16 is a 48-bit IPA, consistent with a level 0 start.
        assertThat(stage2(16 | 0b10L << 6, PA52).invalidReason()).isNull();
        // PA52 (FEAT_LPA), 4K without DS: PAMax taken as 48, so 16 is the minimum and 15 faults.
        stage2BelowMinimum(stage2(15 | 0b10L << 6, PA52), 16);
        // A 40-bit-PA CPU (PARange 0b0010): S2MinTxSZ = 24, so a 48-bit IPA is below it (no FEAT_LPA:
        // IMPLEMENTATION DEFINED; the fault, as QEMU).
        var pa40 = new CpuFeatures(PA48.idAa64mmfr0() & ~0xFL | 0b0010, PA48.idAa64mmfr2(), 0);
        stage2BelowMinimum(stage2(16 | 0b01L << 6, pa40), 24);
        assertThat(stage2(24 | 0b01L << 6, pa40).invalidReason()).isNull();
        // The fault reaches a translation as a stage-2 level 0 translation fault.
        memory.writeLong(ROOT, 0);
        var walker = new Stage2Walker(stage2(15 | 0b10L << 6, PA52), memory);
        assertThat(walker.walk(0x1000, 0x1000, Access.READ, 1, false)).isNull();
        assertThat(walker.fault().type()).isEqualTo(FaultType.TRANSLATION);
        assertThat(walker.fault().level()).isZero();
        assertThat(walker.fault().stage()).isEqualTo(2);
    }

    @Test
    void stage2VmsaV9BelowS2MinTxSzFaultsWithOrWithoutFeatLpa() {
        long d128 = 1L << 38;
        // CpuFeatures.ALL: PARange 0b0111, PAMax 56, so S2MinTxSZ = 8.
        int min = 8;
        assertThat(stage2(min | d128, CpuFeatures.ALL).invalidReason()).isNull();
        stage2BelowMinimum(stage2((min - 1) | d128, CpuFeatures.ALL), min);
        // A 48-bit-PA CPU with D128 (no FEAT_LPA): 16 is the minimum and 15 faults too (it was clamped).
        var pa48d128 = new CpuFeatures(CpuFeatures.ALL.idAa64mmfr0() & ~0xFL | 0b0101, CpuFeatures.ALL.idAa64mmfr2(),
                CpuFeatures.ALL.idAa64mmfr3(), CpuFeatures.ALL.idAa64mmfr1(), CpuFeatures.ALL.idAa64mmfr4());
        assertThat(stage2(15 | d128, pa48d128).d128()).isTrue();
        stage2BelowMinimum(stage2(15 | d128, pa48d128), 16);
    }
}
