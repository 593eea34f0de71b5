package dev.granule.mmu;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
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
import static dev.granule.mmu.TwoStageTest.RAM_PA;
import static dev.granule.mmu.TwoStageTest.S1_L2;
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
 * Hardware updates of the Access flag and dirty state (FEAT_HAFDBS), worked out from the Arm ARM's
 * AArch64.S1Translate and AArch64.S2Translate (the v9.4 pseudocode): the descriptor is updated
 * only after the permission check, and not when it faults (AArch64.SettingAccessFlagPermitted: on a
 * permission fault the AF update is CONSTRAINED UNPREDICTABLE, Unpredictable_AFUPDATE; no update is
 * QEMU 10's choice and the model's); and under stage 2 the update of a stage-1 descriptor is a write
 * (CreateAccDescTTEUpdate: AccessType_TTW, read and write) that AArch64.S1Translate translates with
 * AArch64.S2Translate first: it needs S2AP[1], sets it through stage 2's DBM with VTCR_EL2.HD, and
 * otherwise faults at stage 2 with S1PTW, the descriptor's IPA and the access's WnR.
 *
 * <p>The layout is {@link TwoStageTest}'s: stage-1 tables at IPAs S1_ROOT/S1_L2 (PA RAM_PA), a
 * stage-1 2 MiB block at VA 0x4000_0000 to IPA 0x8000_0000, stage 2 blocks at level 2.
 */
class HardwareUpdatesTest {

    static final long HA = 1L << 39, HD = 1L << 40;                 // TCR_EL1
    static final long VHA = 1L << 21, VHD = 1L << 22;               // VTCR_EL2
    static final long AP_RO = 0b10L << 6, DBM = 1L << 51;
    static final long VA = 0x4000_1234L;
    /** The stage-1 leaf: level-2 index 0 of the table at IPA S1_L2 (PA RAM_PA + 0x1000). */
    static final long S1_LEAF_IPA = S1_L2, S1_LEAF_PA = RAM_PA + 0x1000;
    /** The stage-2 block that maps the stage-1 tables (IPA 0x1000_0000) and the one that maps the data. */
    static final long S2_TABLES_PA = S2_L2 + 0x80 * 8, S2_DATA_PA = S2_L2 + 0x1000;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 26));

    @AfterEach
    void close() { memory.close(); }

    void build(long s2Tables, long s2Data, long s1Leaf) {
        memory.writeLong(S2_ROOT, S2_L2 | TABLE);
        memory.writeLong(S2_ROOT + 2 * 8, S2_L2 + 0x1000 | TABLE);
        memory.writeLong(S2_TABLES_PA, RAM_PA | s2Tables | BLOCK);
        memory.writeLong(S2_DATA_PA, 0x4200_0000L | s2Data | BLOCK);
        memory.writeLong(RAM_PA + 8, S1_L2 | TABLE);
        memory.writeLong(S1_LEAF_PA, 0x8000_0000L | s1Leaf | BLOCK);
    }

    Mmu mmu(long tcrBits, long vtcrBits) {
        Registers s1 = new Registers(TCR | tcrBits, S1_ROOT, 0, MAIR, 1, false);
        Stage2Regime s2 = new Stage2Regime(HCR_VM, VTCR | vtcrBits, S2_ROOT, PA52);
        return new Mmu(new TranslationRegime(s1, PA52), s2, memory, new Tlb(16, 4));
    }

    static Translation.Fault fault(Translation t, FaultType type, int level) {
        assertFault(t, type, level);
        return (Translation.Fault) t;
    }

    @Test
    void aStage1PermissionFaultLeavesTheAccessFlagAsItWas() {
        build(AF | S2_RW | S2_WB | ISH, AF | S2_RW | S2_WB | ISH, ISH | AP_RO);
        assertFault(mmu(HA, 0).translate(VA, Access.WRITE, 1), FaultType.PERMISSION, 2);
        assertThat(memory.readLong(S1_LEAF_PA) & AF).as("no update on a permission fault").isZero();
        ok(mmu(HA, 0).translate(VA, Access.READ, 1));
        assertThat(memory.readLong(S1_LEAF_PA) & AF).as("a permitted read sets AF").isNotZero();
    }

    @Test
    void aStage2PermissionFaultLeavesTheStage2AccessFlagAsItWas() {
        build(AF | S2_RW | S2_WB | ISH, S2_RO | S2_WB | ISH, AF | ISH);
        Translation.Fault f = fault(mmu(0, VHA).translate(VA, Access.WRITE, 1), FaultType.PERMISSION, 2);
        assertThat(f.stage()).isEqualTo(2);
        assertThat(memory.readLong(S2_DATA_PA) & AF).as("no update on a stage-2 permission fault").isZero();
        ok(mmu(0, VHA).translate(VA, Access.READ, 1));
        assertThat(memory.readLong(S2_DATA_PA) & AF).isNotZero();
    }

    @Test
    void aStage1AccessFlagUpdateNeedsStage2WritePermissionOnTheDescriptor() {
        // Stage 2 maps the stage-1 tables read-only, without DBM: the walk reads them, the update faults.
        build(AF | S2_RO | S2_WB | ISH, AF | S2_RW | S2_WB | ISH, ISH);
        Translation.Fault f = fault(mmu(HA, 0).translate(VA, Access.READ, 1), FaultType.PERMISSION, 2);
        assertThat(f.stage()).isEqualTo(2);
        assertThat(f.s1ptw()).as("a fault on the stage-1 translation table access").isTrue();
        assertThat(f.ipa()).as("the stage-1 leaf descriptor's IPA").isEqualTo(S1_LEAF_IPA);
        assertThat(memory.readLong(S1_LEAF_PA) & AF).as("the descriptor is not written").isZero();
        // Nothing to update (AF already 1): read-only stage-2 tables are enough.
        memory.writeLong(S1_LEAF_PA, memory.readLong(S1_LEAF_PA) | AF);
        assertThat(ok(mmu(HA, 0).translate(VA, Access.READ, 1)).pa()).isEqualTo(0x4200_1234L);
    }

    @Test
    void stage2DirtyStateLetsTheStage1UpdateWriteTheDescriptor() {
        // Stage 2 read-only with DBM and VTCR_EL2.HA/HD: the update's write sets S2AP[1] first.
        build(AF | S2_RO | DBM | S2_WB | ISH, AF | S2_RW | S2_WB | ISH, ISH);
        ok(mmu(HA, VHA | VHD).translate(VA, Access.READ, 1));
        assertThat(memory.readLong(S1_LEAF_PA) & AF).isNotZero();
        assertThat(memory.readLong(S2_TABLES_PA) & S2_RW).as("S2AP = 0b11 now").isEqualTo(S2_RW);
        // The same with VTCR_EL2.HD = 0: no dirty state, a stage-2 permission fault on the update.
        build(AF | S2_RO | DBM | S2_WB | ISH, AF | S2_RW | S2_WB | ISH, ISH);
        Translation.Fault f = fault(mmu(HA, VHA).translate(VA, Access.READ, 1), FaultType.PERMISSION, 2);
        assertThat(f.s1ptw()).isTrue();
    }

    @Test
    void aStage1DirtyUpdateUnderReadOnlyStage2TablesFaultsAndLeavesApAsItWas() {
        build(AF | S2_RO | S2_WB | ISH, AF | S2_RW | S2_WB | ISH, AF | ISH | AP_RO | DBM);
        ok(mmu(HA | HD, 0).translate(VA, Access.READ, 1));
        Translation.Fault f = fault(mmu(HA | HD, 0).translate(VA, Access.WRITE, 1), FaultType.PERMISSION, 2);
        assertThat(f.stage()).isEqualTo(2);
        assertThat(f.s1ptw()).isTrue();
        assertThat(memory.readLong(S1_LEAF_PA) & AP_RO).as("AP[2] still 1").isEqualTo(AP_RO);
        // Without DBM the store is a stage-1 permission fault, and nothing is written either.
        build(AF | S2_RW | S2_WB | ISH, AF | S2_RW | S2_WB | ISH, AF | ISH | AP_RO);
        long before = memory.readLong(S1_LEAF_PA);
        assertThat(fault(mmu(HA | HD, 0).translate(VA, Access.WRITE, 1), FaultType.PERMISSION, 2).stage()).isEqualTo(1);
        assertThat(memory.readLong(S1_LEAF_PA)).isEqualTo(before);
    }
}
