package dev.granule.mmu;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.PaSizeRulesTest.PA52;
import static dev.granule.mmu.TwoStageTest.AF;
import static dev.granule.mmu.TwoStageTest.BLOCK;
import static dev.granule.mmu.TwoStageTest.HCR_VM;
import static dev.granule.mmu.TwoStageTest.ISH;
import static dev.granule.mmu.TwoStageTest.MAIR;
import static dev.granule.mmu.TwoStageTest.PAGE;
import static dev.granule.mmu.TwoStageTest.RAM_PA;
import static dev.granule.mmu.TwoStageTest.S1_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_L2;
import static dev.granule.mmu.TwoStageTest.S2_RO;
import static dev.granule.mmu.TwoStageTest.S2_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_RW;
import static dev.granule.mmu.TwoStageTest.S2_WB;
import static dev.granule.mmu.TwoStageTest.TABLE;
import static dev.granule.mmu.TwoStageTest.TCR;
import static dev.granule.mmu.TwoStageTest.VTCR;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TLB under stage 2: combined stage-1+stage-2 entries tagged with the VMID (and the ASID unless
 * global), so a changed stage-1 or stage-2 descriptor is not seen until the TLBI that covers it
 * (VAE1/VMALLE1 under the VMID for stage 1; IPAS2E1 by IPA or VMALLS12E1 for stage 2), and
 * another VMID never hits them. The layout is {@link TwoStageTest}'s: VA 0x4000_0000 is a stage-1
 * 2 MiB block to IPA 0x8000_0000, which stage 2 maps (a 2 MiB block) to PA 0x4200_0000; every
 * expected PA is worked out from the descriptors written here.
 */
class TwoStageTlbTest {

    static final long VA = 0x4000_1234L;
    static final int VMID = 0x2A;

    final TwoStageTest layout = new TwoStageTest();
    final Tlb tlb = new Tlb(64, 4);

    @AfterEach
    void close() { layout.close(); }

    Mmu mmu(int vmid) {
        Registers s1 = new Registers(TCR, S1_ROOT, 0, MAIR, 1, false);
        Stage2Regime s2 = new Stage2Regime(HCR_VM, VTCR, S2_ROOT | (long) vmid << 48, PA52);
        return new Mmu(new TranslationRegime(s1, PA52), s2, layout.memory, tlb);
    }

    void buildRw() { layout.build(AF | S2_RW | S2_WB | ISH, AF | S2_RW | S2_WB | ISH, AF | ISH); }

    /** Stage 1's leaf for VA 0x4000_0000 now points at IPA {@code ipa}. */
    void moveStage1(long ipa) { layout.memory.writeLong(RAM_PA + 0x1000, ipa | AF | ISH | BLOCK); }

    /** Stage 2's block for IPA 0x8000_0000 now points at PA {@code pa}. */
    void moveStage2(long pa) { layout.memory.writeLong(S2_L2 + 0x1000, pa | AF | S2_RW | S2_WB | ISH | BLOCK); }

    @Test
    void aChangedStage1LeafIsUnseenUntilTlbiVae1UnderTheVmid() {
        buildRw();
        Mmu m = mmu(VMID);
        assertThat(ok(m.translate(VA, Access.READ, 1)).pa()).isEqualTo(0x4200_1234L);
        // Stage 1 now maps the VA to IPA 0x8020_0000: stage 2's second level-2 entry (IPA[29:21] = 1).
        moveStage1(0x8020_0000L);
        layout.memory.writeLong(S2_L2 + 0x1000 + 8, 0x4300_0000L | AF | S2_RW | S2_WB | ISH | BLOCK);
        assertThat(ok(m.translate(VA, Access.READ, 1)).pa()).as("combined entry still cached").isEqualTo(0x4200_1234L);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        tlb.invalidateVa(VA, 0, VMID + 1);
        assertThat(m.outputAddress(VA, Access.READ, 1)).as("a TLBI under another VMID").isEqualTo(0x4200_1234L);
        tlb.invalidateVa(VA, 0, VMID);
        assertThat(ok(m.translate(VA, Access.READ, 1)).pa()).isEqualTo(0x4300_1234L);
    }

    @Test
    void vmalle1UnderTheVmidDropsCombinedEntries() {
        buildRw();
        Mmu m = mmu(VMID);
        m.translate(VA, Access.READ, 1);
        moveStage1(0x8020_0000L);
        layout.memory.writeLong(S2_L2 + 0x1000 + 8, 0x4300_0000L | AF | S2_RW | S2_WB | ISH | BLOCK);
        tlb.invalidateVmid(VMID + 1);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        tlb.invalidateVmid(VMID);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4300_1234L);
    }

    @Test
    void aChangedStage2LeafIsUnseenUntilTlbiIpas2e1ForAnIpaInItOrVmalls12e1() {
        buildRw();
        Mmu m = mmu(VMID);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        moveStage2(0x4400_0000L);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        tlb.invalidateIpa(0x8020_0000L, VMID);   // the next 2 MiB of IPA space: another stage-2 leaf
        tlb.invalidateIpa(0x8000_0000L, VMID + 1);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        tlb.invalidateIpa(0x801F_F000L, VMID);   // any IPA page inside the stage-2 block
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4400_1234L);
        moveStage2(0x4600_0000L);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4400_1234L);
        tlb.invalidateVmid(VMID);                  // VMALLS12E1
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4600_1234L);
    }

    @Test
    void anotherVmidNeverHitsAndKeepsItsOwnEntries() {
        buildRw();
        Mmu a = mmu(VMID), b = mmu(VMID + 1);
        assertThat(a.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        moveStage2(0x4400_0000L);
        assertThat(b.outputAddress(VA, Access.READ, 1)).as("VMID 0x2B walks").isEqualTo(0x4400_1234L);
        assertThat(a.outputAddress(VA, Access.READ, 1)).as("VMID 0x2A keeps its entry").isEqualTo(0x4200_1234L);
    }

    @Test
    void aCombinedEntryAllowsOnlyWhatBothStagesAllow() {
        // Stage 2 read-only over a stage-1 read-write block: a read is cached, a write after it is
        // not served by that entry but walks to the stage-2 permission fault.
        layout.build(AF | S2_RW | S2_WB | ISH, AF | S2_RO | S2_WB | ISH, AF | ISH);
        Mmu m = mmu(VMID);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        long hits = tlb.hits();
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        assertThat(tlb.hits()).isEqualTo(hits + 1);
        var f = (Translation.Fault) m.translate(VA, Access.WRITE, 1);
        assertFault(f, FaultType.PERMISSION, 2);
        assertThat(f.stage()).isEqualTo(2);
        // Stage-2 XN = 0b10 (FEAT_XNX: executable at neither EL): no execution from the entry either.
        layout.memory.writeLong(S2_L2 + 0x1000, 0x4200_0000L | AF | S2_RW | S2_WB | ISH | 0b10L << 53 | BLOCK);
        tlb.invalidateVmid(VMID);
        assertThat(m.outputAddress(VA, Access.READ, 1)).isEqualTo(0x4200_1234L);
        assertThat(m.outputAddress(VA, Access.EXECUTE, 1)).isEqualTo(-1);
    }

    @Test
    void anEntryCoversTheSmallerOfTheTwoStagesSpans() {
        // Stage 2 maps IPA 0x8000_0000 with a level-3 table at PA 0x4000_5000: page 0 to
        // 0x4500_0000, page 1 to 0x4501_0000. Stage 1 is still a 2 MiB block: entries are 4 KiB.
        buildRw();
        layout.memory.writeLong(S2_L2 + 0x1000, 0x4000_5000L | TABLE);
        layout.memory.writeLong(0x4000_5000L, 0x4500_0000L | AF | S2_RW | S2_WB | ISH | PAGE);
        layout.memory.writeLong(0x4000_5008L, 0x4501_0000L | AF | S2_RW | S2_WB | ISH | PAGE);
        Mmu m = mmu(VMID);
        var t = ok(m.translate(0x4000_0010L, Access.READ, 1));
        assertThat(t.pa()).isEqualTo(0x4500_0010L);
        assertThat(t.leafSize()).isEqualTo(0x1000);
        // The next page walks (not served by the first page's entry) and the first stays cached.
        layout.memory.writeLong(0x4000_5000L, 0x4700_0000L | AF | S2_RW | S2_WB | ISH | PAGE);
        assertThat(m.outputAddress(0x4000_1010L, Access.READ, 1)).isEqualTo(0x4501_0010L);
        assertThat(m.outputAddress(0x4000_0010L, Access.READ, 1)).isEqualTo(0x4500_0010L);
        // A hit reports the same translation the walk did.
        var hit = ok(m.translate(0x4000_0010L, Access.READ, 1));
        assertThat(hit).isEqualTo(t);
        // IPAS2E1 for the first IPA page drops its entry only.
        tlb.invalidateIpa(0x8000_0000L, VMID);
        layout.memory.writeLong(0x4000_5008L, 0x4702_0000L | AF | S2_RW | S2_WB | ISH | PAGE);
        assertThat(m.outputAddress(0x4000_0010L, Access.READ, 1)).isEqualTo(0x4700_0010L);
        assertThat(m.outputAddress(0x4000_1010L, Access.READ, 1)).isEqualTo(0x4501_0010L);
    }

    @Test
    void stage1OnlyTranslationNeitherUsesNorFillsTheTlb() {
        buildRw();
        Mmu m = mmu(VMID);
        m.translate(VA, Access.READ, 1);
        assertThat(ok(m.translateStage1(VA, Access.READ, 1)).pa()).as("AT S1E1R: the IPA").isEqualTo(0x8000_1234L);
        tlb.invalidateAll();
        assertThat(ok(m.translateStage1(VA, Access.READ, 1)).pa()).isEqualTo(0x8000_1234L);
        moveStage2(0x4400_0000L);
        assertThat(m.outputAddress(VA, Access.READ, 1)).as("the stage-1 walk cached nothing").isEqualTo(0x4400_1234L);
    }
}
