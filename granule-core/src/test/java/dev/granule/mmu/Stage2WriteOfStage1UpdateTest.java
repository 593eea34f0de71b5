package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.Stage2PermissionIndirectionTest.CPU;
import static dev.granule.mmu.Stage2PermissionIndirectionTest.DIRTY;
import static dev.granule.mmu.Stage2PermissionIndirectionTest.PI1;
import static dev.granule.mmu.Stage2PermissionIndirectionTest.S2PIE;
import static dev.granule.mmu.Stage2PermissionIndirectionTest.VTCR_HA;
import static dev.granule.mmu.Stage2PermissionIndirectionTest.VTCR_HD;
import static dev.granule.mmu.TwoStageTest.AF;
import static dev.granule.mmu.TwoStageTest.HCR_VM;
import static dev.granule.mmu.TwoStageTest.ISH;
import static dev.granule.mmu.TwoStageTest.MAIR;
import static dev.granule.mmu.TwoStageTest.RAM_PA;
import static dev.granule.mmu.TwoStageTest.S1_L2;
import static dev.granule.mmu.TwoStageTest.S1_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_L2;
import static dev.granule.mmu.TwoStageTest.S2_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_WB;
import static dev.granule.mmu.TwoStageTest.TCR;
import static dev.granule.mmu.TwoStageTest.VTCR;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stage-1 hardware update (TCR_EL1.HA/HD: AF set, AP[2] cleared) under a VMSAv8-64 stage 2 with
 * permission indirection (VTCR_EL2.S2PIE), by hand from the Arm ARM pseudocode:
 * AArch64.S1Translate translates the descriptor's IPA again for the update with
 * CreateAccDescTTEUpdate (AccessType_TTW, read and write); AArch64.S2CheckPermissions takes, for TTW,
 * r_mmu and w_mmu of AArch64.S2IndirectBasePermissions (RO 0b1000: r_mmu 1, w_mmu 0; MRO 0b0010:
 * r_mmu 1, w_mmu 1; RW 0b1100: both) and then faults a write to a leaf whose Dirty bit (7) is 0
 * unless VTCR_EL2.HA and HD are 1; AArch64.S2Translate then sets Dirty for any write (TTW included).
 * The fault is stage 2's: S1PTW (fault.s2fs1walk = TTW), the stage-2 leaf's level, the descriptor's IPA.
 *
 * <p>{@link TwoStageTest}'s layout: VA 0x4000_1234 through the stage-1 level-2 block at IPA S1_L2
 * (PA RAM_PA + 0x1000); the stage-1 tables are behind the stage-2 level-2 block at S2_L2 + 0x80 * 8,
 * here with PIIndex 0 (S2PIR Perm0 under test), the data behind one with PIIndex 1 (Perm1 = RW).
 */
class Stage2WriteOfStage1UpdateTest {

    static final long TCR_HA = 1L << 39, TCR_HD = 1L << 40;
    static final long S1_LEAF = RAM_PA + 0x1000, S2_TABLES_LEAF = S2_L2 + 0x80 * 8, VA = 0x4000_1234L;
    static final long S1_AP2 = 1L << 7, S1_DBM = 1L << 51;
    static final long RO = 0b1000, MRO = 0b0010, RW = 0b1100, WO = 0b0100;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 26));

    @AfterEach
    void close() { memory.close(); }

    /** Stage 1's leaf as {@code s1LeafBits} (output 0x8000_0000); the tables' stage-2 leaf PIIndex 0 with {@code tablesDirty}. */
    void build(long s1LeafBits, long tablesDirty) {
        memory.writeLong(S2_ROOT, S2_L2 | 0b11);
        memory.writeLong(S2_ROOT + 2 * 8, S2_L2 + 0x1000 | 0b11);
        memory.writeLong(S2_TABLES_LEAF, RAM_PA | AF | ISH | S2_WB | tablesDirty | 0b01);
        memory.writeLong(S2_L2 + 0x1000, 0x4200_0000L | AF | ISH | S2_WB | PI1 | DIRTY | 0b01);
        memory.writeLong(RAM_PA + 8, S1_L2 | 0b11);
        memory.writeLong(S1_LEAF, 0x8000_0000L | ISH | s1LeafBits | 0b01);
    }

    Mmu mmu(long tcrBits, long vtcrBits, long tablesPerm) {
        Registers s1 = new Registers(TCR | tcrBits, S1_ROOT, 0, MAIR, 1, false);
        Stage2Regime s2 = new Stage2Regime(HCR_VM, VTCR | S2PIE | vtcrBits, S2_ROOT, tablesPerm | RW << 4, 0, CPU);
        return new Mmu(new TranslationRegime(s1, CPU), s2, memory, new Tlb(16, 4));
    }

    static Translation.Fault s1ptwPermissionFault(Translation t) {
        return s1ptwPermissionFault(t, S1_L2);
    }

    /** A stage-2 permission fault with S1PTW at the tables' stage-2 leaf (level 2), for the stage-1 descriptor at {@code ipa}. */
    static Translation.Fault s1ptwPermissionFault(Translation t, long ipa) {
        assertFault(t, FaultType.PERMISSION, 2);
        var f = (Translation.Fault) t;
        assertThat(f.stage()).isEqualTo(2);
        assertThat(f.s1ptw()).as("a fault on the stage-1 translation table access").isTrue();
        assertThat(f.ipa()).as("the IPA of the stage-1 descriptor").isEqualTo(ipa);
        return f;
    }

    @Test
    void readOnlyTablesLetTheWalkReadButNotSetTheAccessFlag() {
        build(0, DIRTY);
        // AF already 1: no update, the read right is all the walk needs.
        memory.writeLong(S1_LEAF, memory.readLong(S1_LEAF) | AF);
        assertThat(ok(mmu(TCR_HA, 0, RO).translate(VA, Access.READ, 1)).pa()).isEqualTo(0x4200_1234L);
        // AF 0 with HA: the update is a write, RO's w_mmu is 0.
        build(0, DIRTY);
        var f = s1ptwPermissionFault(mmu(TCR_HA, 0, RO).translate(VA, Access.READ, 1));
        assertThat(f.detail()).contains("hardware update");
        assertThat(memory.readLong(S1_LEAF) & AF).as("AF left as it was").isZero();
    }

    @Test
    void mmuReadOnlyTablesTakeTheStage1Updates() {
        build(0, DIRTY);
        ok(mmu(TCR_HA, 0, MRO).translate(VA, Access.READ, 1));
        assertThat(memory.readLong(S1_LEAF) & AF).isEqualTo(AF);
        // The dirty state too: AP[2] 1 with DBM, HA and HD: the write clears AP[2] through MRO stage 2.
        build(AF | S1_AP2 | S1_DBM, DIRTY);
        ok(mmu(TCR_HA | TCR_HD, 0, MRO).translate(VA, Access.WRITE, 1));
        assertThat(memory.readLong(S1_LEAF) & S1_AP2).as("AP[2] cleared").isZero();
        // The same through RO tables faults, and AP[2] stays.
        build(AF | S1_AP2 | S1_DBM, DIRTY);
        s1ptwPermissionFault(mmu(TCR_HA | TCR_HD, 0, RO).translate(VA, Access.WRITE, 1));
        assertThat(memory.readLong(S1_LEAF) & S1_AP2).isEqualTo(S1_AP2);
    }

    @Test
    void writeOnlyTablesCannotEvenBeRead() {
        // WO 0b0100: r 0, w 1, w_mmu 0: the walk's read (r_mmu = r) fails before any update.
        build(0, DIRTY);
        // The first read is of the root's entry 1, at IPA S1_ROOT + 8.
        var f = s1ptwPermissionFault(mmu(TCR_HA, 0, WO).translate(VA, Access.READ, 1), S1_ROOT + 8);
        assertThat(f.detail()).contains("read");
    }

    @Test
    void theUpdateOfACleanTablesPageNeedsStage2HardwareDirtyState() {
        build(0, 0);   // the stage-2 leaf of the tables: RW, Dirty 0
        var f = s1ptwPermissionFault(mmu(TCR_HA, 0, RW).translate(VA, Access.READ, 1));
        assertThat(f.detail()).contains("Dirty");
        assertThat(memory.readLong(S1_LEAF) & AF).isZero();
        assertThat(memory.readLong(S2_TABLES_LEAF) & DIRTY).isZero();
        // VTCR_EL2.HA only: still the Dirty fault.
        s1ptwPermissionFault(mmu(TCR_HA, VTCR_HA, RW).translate(VA, Access.READ, 1));
        // HA and HD: the stage-2 write sets the tables page's Dirty, then the stage-1 AF is written.
        ok(mmu(TCR_HA, VTCR_HA | VTCR_HD, RW).translate(VA, Access.READ, 1));
        assertThat(memory.readLong(S2_TABLES_LEAF) & DIRTY).as("stage-2 Dirty set").isEqualTo(DIRTY);
        assertThat(memory.readLong(S1_LEAF) & AF).as("stage-1 AF set").isEqualTo(AF);
        // A walk that only reads leaves a clean tables page clean.
        build(AF, 0);
        ok(mmu(TCR_HA, VTCR_HA | VTCR_HD, RW).translate(VA, Access.READ, 1));
        assertThat(memory.readLong(S2_TABLES_LEAF) & DIRTY).isZero();
    }

    @Test
    void withoutS2pieTheCpuKeepsS2apForTheUpdate() {
        // S2AP = 0b01 (bit 6: read) and PIIndex 0: on a CPU without FEAT_S2PIE the S2PIE bit is ignored
        // and S2AP[1] = 0 refuses the write of the update (the direct rule, HardwareUpdatesTest's).
        build(0, 0);
        memory.writeLong(S2_TABLES_LEAF, memory.readLong(S2_TABLES_LEAF) | 1L << 6);
        CpuFeatures noS2pie = PaSizeRulesTest.PA52;
        Registers s1 = new Registers(TCR | TCR_HA, S1_ROOT, 0, MAIR, 1, false);
        Stage2Regime s2 = new Stage2Regime(HCR_VM, VTCR | S2PIE, S2_ROOT, MRO | RW << 4, 0, noS2pie);
        var t = new Mmu(new TranslationRegime(s1, noS2pie), s2, memory, new Tlb(16, 4)).translate(VA, Access.READ, 1);
        s1ptwPermissionFault(t);
    }
}
