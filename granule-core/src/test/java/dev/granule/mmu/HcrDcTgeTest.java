package dev.granule.mmu;

import dev.granule.format.Shareability;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.PaSizeRulesTest.PA52;
import static dev.granule.mmu.TwoStageTest.AF;
import static dev.granule.mmu.TwoStageTest.ISH;
import static dev.granule.mmu.TwoStageTest.MAIR;
import static dev.granule.mmu.TwoStageTest.S1_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_RW;
import static dev.granule.mmu.TwoStageTest.S2_WB;
import static dev.granule.mmu.TwoStageTest.TCR;
import static dev.granule.mmu.TwoStageTest.VTCR;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * HCR_EL2.DC and TGE on EL1&amp;0 translation, worked out from the Arm ARM pseudocode (v9.4):
 * AArch64.S1Enabled is {@code (!EL2Enabled() || HCR_EL2.{DC,TGE} == '00') && SCTLR_EL1.M == '1'},
 * so either bit turns stage 1 off; AArch64.NSS2TTWParams has {@code vm = HCR_EL2.VM OR HCR_EL2.DC},
 * so DC turns stage 2 on; and AArch64.S1DisabledOutput gives, with DC, Normal Write-Back
 * Read/Write-Allocate Non-shareable memory instead of Device-nGnRnE, and checks the VA against
 * AArch64.PAMax(), not TCR.IPS (QEMU's regime_translation_disabled and get_phys_addr_disabled
 * agree; the two-stage oracle asks AT with DC). QEMU 10.0.2's AT S1E1* and S12E1* from EL2 walk
 * stage 1 under TGE, a departure this test pins the architecture's answer for.
 *
 * <p>The tables are {@link TwoStageTest}'s: stage 1 maps VA 0x4000_0000 (2 MiB) to IPA 0x8000_0000,
 * stage 2 maps IPA 0x8000_0000 (2 MiB) to PA 0x4200_0000.
 */
class HcrDcTgeTest {

    static final long HCR_VM = 1, HCR_DC = 1L << 12, HCR_TGE = 1L << 27;

    final TwoStageTest tables = new TwoStageTest();
    final SparseMemory memory = tables.memory;

    @AfterEach
    void close() { memory.close(); }

    Mmu mmu(long hcr) {
        tables.build(AF | S2_RW | S2_WB | ISH, AF | S2_RW | S2_WB | ISH, AF | ISH);
        Registers s1 = new Registers(TCR, S1_ROOT, 0, MAIR, 1, false); // SCTLR_EL1.M = 1
        Stage2Regime s2 = new Stage2Regime(hcr, VTCR, S2_ROOT, PA52);
        return new Mmu(new TranslationRegime(s1, PA52), s2, memory, new Tlb(16, 4));
    }

    @Test
    void withoutDcOrTgeBothStagesTranslate() {
        assertThat(ok(mmu(HCR_VM).translate(0x4000_1234L, Access.READ, 1)).pa()).isEqualTo(0x4200_1234L);
        // VM = 0 and no DC: no stage 2; DC alone turns it on.
        assertThat(mmu(0).stage2()).isNull();
        assertThat(mmu(HCR_DC).stage2()).isNotNull();
    }

    @Test
    void dcTurnsStage1OffAndStage2OnWithNormalWriteBackMemory() {
        // The VA is the IPA: 0x8000_1234 through stage 2's block to 0x4200_1234, although VM = 0.
        var t = ok(mmu(HCR_DC).translate(0x8000_1234L, Access.READ, 1));
        assertThat(t.pa()).isEqualTo(0x4200_1234L);
        assertThat(t.mairAttr()).as("Normal WB RWA over stage 2 Normal WB").isEqualTo(0xFF);
        // Stage 1's own mapping (VA 0x4000_0000) is not used: that IPA is not mapped at stage 2.
        Translation.Fault f = (Translation.Fault) mmu(HCR_DC).translate(0x4000_1234L, Access.READ, 1);
        assertThat(f.stage()).isEqualTo(2);
        assertThat(f.ipa()).isEqualTo(0x4000_1234L);
        // Stage 1 alone (AT S1E1R): the flat IPA with the default attributes, Non-shareable.
        var s1 = ok(mmu(HCR_DC).translateStage1(0x8000_1234L, Access.READ, 1));
        assertThat(s1.pa()).isEqualTo(0x8000_1234L);
        assertThat(s1.mairAttr()).isEqualTo(0xFF);
        assertThat(s1.shareability()).isEqualTo(Shareability.NON_SHAREABLE);
    }

    @Test
    void tgeTurnsStage1OffWithTheMmuOffAttributesAndLeavesStage2ToVm() {
        var t = ok(mmu(HCR_VM | HCR_TGE).translate(0x8000_1234L, Access.READ, 1));
        assertThat(t.pa()).isEqualTo(0x4200_1234L);
        assertThat(t.mairAttr()).as("stage 1 off: Device-nGnRnE data, whatever stage 2 says").isEqualTo(0x00);
        // TGE without VM: no stage 2 either: the VA is the PA.
        var flat = ok(mmu(HCR_TGE).translate(0x8000_1234L, Access.WRITE, 0));
        assertThat(flat.pa()).isEqualTo(0x8000_1234L);
        assertThat(flat.memoryType()).isEqualTo(MemoryType.DEVICE_nGnRnE);
        // Stage 1 off, the VA is checked against the CPU's PA size (AArch64.PAMax(), 52 bits here),
        // not TCR.IPS (40 bits): above it an address size fault at level 0, below it the VA itself.
        assertThat(ok(mmu(HCR_TGE).translate(1L << 41, Access.READ, 1)).pa()).isEqualTo(1L << 41);
        assertFault(mmu(HCR_TGE).translate(1L << 52, Access.READ, 1), FaultType.ADDRESS_SIZE, 0);
    }
}
