package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.HardwareUpdatesTest.S1_LEAF_PA;
import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.PaSizeRulesTest.PA52;
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
import static dev.granule.mmu.TwoStageTest.VTCR;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * FEAT_HAFT, the hardware Access flag of table descriptors, worked out from the Arm ARM's AArch64.S1Walk
 * and AArch64.S2Walk: when walkparams.haft is 1 (TCR2_EL1.HAFT [11] with TCR_EL1.HA, on a CPU whose
 * ID_AA64MMFR1_EL1.HAFDBS [3:0] is 0b0011; VTCR_EL2.HAFT [44] with VTCR_EL2.HA for stage 2) each Table
 * descriptor the walk follows gets bit 10 (AF) set in memory, once the next table's address has passed
 * the address size check and before the next level is read, so a walk that then faults deeper still
 * leaves its tables marked. Table descriptors have no Access flag fault. The update is a write of the
 * descriptor (CreateAccDescTTEUpdate): under stage 2 it is translated with AArch64.S2Translate first,
 * needing stage-2 write permission, else a stage-2 permission fault on the table's IPA (S1PTW). A TLB
 * hit walks nothing and so marks nothing. VMSAv9-128 tables use the same bit 10.
 *
 * <p>VMSAv8-64 layout: 4K granule, T0SZ 25 (39-bit VA, start level 1), IPS 48; VA 0x4020_3000 is
 * level-1 index 1, level-2 index 1, level-3 index 3, a page to PA 0x5000_0000. Two-stage cases use
 * {@link TwoStageTest}'s layout (stage-1 level-1 table at IPA S1_ROOT = PA RAM_PA, its entry 1 the table
 * S1_L2 for VA 0x4000_0000; stage-2 level-2 blocks under S2_ROOT's entries 0 and 2).
 */
class HardwareTableAccessFlagTest {

    static final long VA = 0x4020_3000L;
    static final long L1 = 0x10_0000, L2 = 0x20_0000, L3 = 0x30_0000, PA = 0x5000_0000L;
    static final long TCR = 25 | 1L << 23 | 0b101L << 32;           // T0SZ 25, EPD1, IPS 48 bits
    static final long HA = 1L << 39;                                // TCR_EL1.HA
    static final long TCR2_HAFT = 1L << 11, TCR2_D128 = 1L << 5;
    static final long VTCR_HA = 1L << 21, VTCR_HAFT = 1L << 44;
    static final long TABLE = 0b11, PAGE = 0b11, AF = 1L << 10;
    /** ALL with HAFDBS 0b0010 (Access flag and dirty state, no table Access flag). */
    static final CpuFeatures NO_HAFT = new CpuFeatures(CpuFeatures.ALL.idAa64mmfr0(), CpuFeatures.ALL.idAa64mmfr2(),
            CpuFeatures.ALL.idAa64mmfr3(), 0b0010, CpuFeatures.ALL.idAa64mmfr4());
    /** The two-stage tests' 52-bit-PA CPU with FEAT_TCR2 (MMFR3.TCRX) and HAFDBS 0b0011. */
    static final CpuFeatures PA52_HAFT = new CpuFeatures(PA52.idAa64mmfr0(), PA52.idAa64mmfr2(), 0b0001, 0b0011, 0);

    SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 32));

    @AfterEach
    void close() { memory.close(); }

    void build(long leaf) {
        memory.writeLong(L1 + 8 * 1, L2 | TABLE);
        memory.writeLong(L2 + 8 * 1, L3 | TABLE);
        memory.writeLong(L3 + 8 * 3, leaf);
    }

    Mmu mmu(long tcrBits, long tcr2, CpuFeatures cpu) {
        var regime = new TranslationRegime(new Registers(TCR | tcrBits, L1, 0, 0xFF, 1, false),
                new PermissionRegisters(tcr2, 0, 0, 0, 0), cpu);
        return new Mmu(regime, memory, new Tlb(16, 4));
    }

    @Test
    void aWalkSetsTheAccessFlagOfEveryTableDescriptorItFollows() {
        build(PA | AF | PAGE);
        assertThat(ok(mmu(HA, TCR2_HAFT, CpuFeatures.ALL).translate(VA, Access.READ, 1)).pa()).isEqualTo(PA);
        assertThat(memory.readLong(L1 + 8)).isEqualTo(L2 | AF | TABLE);
        assertThat(memory.readLong(L2 + 8)).isEqualTo(L3 | AF | TABLE);
        assertThat(memory.readLong(L1)).as("a table entry the walk did not use").isZero();
        assertThat(memory.readLong(L3 + 8 * 3)).isEqualTo(PA | AF | PAGE);
    }

    @Test
    void theAllocationFreePathMarksTheTablesToo() {
        build(PA | AF | PAGE);
        assertThat(mmu(HA, TCR2_HAFT, CpuFeatures.ALL).outputAddress(VA + 4, Access.READ, 1)).isEqualTo(PA + 4);
        assertThat(memory.readLong(L1 + 8)).isEqualTo(L2 | AF | TABLE);
        assertThat(memory.readLong(L2 + 8)).isEqualTo(L3 | AF | TABLE);
    }

    @Test
    void withoutHaftOrHaOrFeatHaftTheTablesAreLeftAlone() {
        build(PA | AF | PAGE);
        ok(mmu(HA, 0, CpuFeatures.ALL).translate(VA, Access.READ, 1));           // HA alone: leaves only
        ok(mmu(0, TCR2_HAFT, CpuFeatures.ALL).translate(VA, Access.READ, 1));    // haft needs walkparams.ha
        ok(mmu(HA, TCR2_HAFT, NO_HAFT).translate(VA, Access.READ, 1));           // HAFDBS 0b0010
        assertThat(memory.readLong(L1 + 8)).isEqualTo(L2 | TABLE);
        assertThat(memory.readLong(L2 + 8)).isEqualTo(L3 | TABLE);
    }

    @Test
    void aWalkThatFaultsAtTheLeafHasAlreadyMarkedItsTables() {
        build(0);                                                                 // invalid level-3 entry
        assertFault(mmu(HA, TCR2_HAFT, CpuFeatures.ALL).translate(VA, Access.READ, 1), FaultType.TRANSLATION, 3);
        assertThat(memory.readLong(L1 + 8)).isEqualTo(L2 | AF | TABLE);
        assertThat(memory.readLong(L2 + 8)).isEqualTo(L3 | AF | TABLE);
    }

    @Test
    void aNextTableBeyondThePaSizeFaultsBeforeTheUpdate() {
        memory.writeLong(L1 + 8, 0x1_0000_0000L | TABLE);                         // above a 32-bit PA
        Mmu ips32 = new Mmu(new TranslationRegime(new Registers(25 | 1L << 23 | HA, L1, 0, 0xFF, 1, false),
                new PermissionRegisters(TCR2_HAFT, 0, 0, 0, 0), CpuFeatures.ALL), memory, new Tlb(16, 4));
        assertFault(ips32.translate(VA, Access.READ, 1), FaultType.ADDRESS_SIZE, 1);
        assertThat(memory.readLong(L1 + 8)).isEqualTo(0x1_0000_0000L | TABLE);
    }

    @Test
    void aTlbHitWalksNoTableAndMarksNothing() {
        build(PA | AF | PAGE);
        Mmu mmu = mmu(HA, TCR2_HAFT, CpuFeatures.ALL);
        ok(mmu.translate(VA, Access.READ, 1));
        memory.writeLong(L1 + 8, L2 | TABLE);
        memory.writeLong(L2 + 8, L3 | TABLE);
        assertThat(ok(mmu.translate(VA, Access.READ, 1)).pa()).isEqualTo(PA);
        assertThat(mmu.tlb().hits()).isEqualTo(1);
        assertThat(memory.readLong(L1 + 8)).isEqualTo(L2 | TABLE);
    }

    /**
     * VMSAv9-128, 4K, T0SZ 25: start level 0, 16-byte descriptors, 8 index bits a level (index(va, l) =
     * va[12 + 8(3 - l) + 7 : 12 + 8(3 - l)]). Each table descriptor's low word gains bit 10; the high
     * word (here DisCH [112] in the level-2 table, which must survive) is written back unchanged.
     */
    @Test
    void vmsa128TablesGetTheSameBit10() {
        long d0 = 0x10_0000, d1 = 0x20_0000, d2 = 0x30_0000, d3 = 0x40_0000, va = 0x12_3456_7000L;
        long disch = 1L << (112 - 64);
        write128(d0 + 16 * index128(va, 0), d1 | 1, 0);
        write128(d1 + 16 * index128(va, 1), d2 | 1, 0);
        write128(d2 + 16 * index128(va, 2), d3 | 1, disch);
        write128(d3 + 16 * index128(va, 3), PA | AF | 1, 0);
        var regime = new TranslationRegime(new Registers(TCR | HA, d0, 0, 0xFF, 1, false, 0, 0, 0),
                new PermissionRegisters(TCR2_D128 | TCR2_HAFT, 0xC, 0, 0, 0), CpuFeatures.ALL); // PIIndex 0: RW
        assertThat(ok(new Mmu(regime, memory, new Tlb(16, 4)).translate(va, Access.READ, 1)).pa()).isEqualTo(PA);
        assertThat(memory.readLong(d0 + 16 * index128(va, 0))).isEqualTo(d1 | AF | 1);
        assertThat(memory.readLong(d1 + 16 * index128(va, 1))).isEqualTo(d2 | AF | 1);
        assertThat(memory.readLong(d2 + 16 * index128(va, 2))).isEqualTo(d3 | AF | 1);
        assertThat(memory.readLong(d2 + 16 * index128(va, 2) + 8)).isEqualTo(disch);
    }

    static long index128(long va, int level) { return va >>> (12 + 8 * (3 - level)) & 0xFF; }

    void write128(long address, long lo, long hi) {
        memory.writeLong(address, lo);
        memory.writeLong(address + 8, hi);
    }

    // ---- under stage 2 ----------------------------------------------------------------------------

    /** TwoStageTest's build with every descriptor given AF except the stage-1 and stage-2 table ones. */
    void buildTwoStage(long s2TablesAccess) {
        memory.close();
        memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 26));
        memory.writeLong(S2_ROOT, S2_L2 | TABLE);
        memory.writeLong(S2_ROOT + 2 * 8, S2_L2 + 0x1000 | TABLE);
        memory.writeLong(S2_L2 + 0x80 * 8, RAM_PA | AF | s2TablesAccess | S2_WB | ISH | BLOCK);
        memory.writeLong(S2_L2 + 0x1000, 0x4200_0000L | AF | S2_RW | S2_WB | ISH | BLOCK);
        memory.writeLong(RAM_PA + 8, S1_L2 | TABLE);
        memory.writeLong(S1_LEAF_PA, 0x8000_0000L | AF | ISH | BLOCK);
    }

    Mmu twoStage(long tcr2, long vtcrBits) {
        Registers s1 = new Registers(TwoStageTest.TCR | HA, S1_ROOT, 0, MAIR, 1, false);
        Stage2Regime s2 = new Stage2Regime(HCR_VM, VTCR | vtcrBits, S2_ROOT, PA52_HAFT);
        return new Mmu(new TranslationRegime(s1, new PermissionRegisters(tcr2, 0, 0, 0, 0), PA52_HAFT), s2, memory,
                new Tlb(16, 4));
    }

    @Test
    void underStage2TheStage1TableUpdateIsAStage2Write() {
        buildTwoStage(S2_RW);
        assertThat(ok(twoStage(TCR2_HAFT, 0).translate(0x4000_1234L, Access.READ, 1)).pa()).isEqualTo(0x4200_1234L);
        assertThat(memory.readLong(RAM_PA + 8)).isEqualTo(S1_L2 | AF | TABLE);
    }

    @Test
    void readOnlyStage2TablesFaultTheUpdateAtStage2WithS1ptw() {
        buildTwoStage(S2_RO);
        // Without HAFT the walk only reads the stage-1 tables, which S2AP 0b01 allows.
        ok(twoStage(0, 0).translate(0x4000_1234L, Access.READ, 1));
        // With HAFT the level-1 table descriptor (IPA S1_ROOT + 8) must be written: stage 2's level-2
        // block for IPA 0x1000_0000 denies it.
        Translation t = twoStage(TCR2_HAFT, 0).translate(0x4000_1234L, Access.READ, 1);
        assertFault(t, FaultType.PERMISSION, 2);
        Translation.Fault f = (Translation.Fault) t;
        assertThat(f.stage()).isEqualTo(2);
        assertThat(f.s1ptw()).isTrue();
        assertThat(f.ipa()).isEqualTo(S1_ROOT + 8);
        assertThat(memory.readLong(RAM_PA + 8)).isEqualTo(S1_L2 | TABLE);
    }

    @Test
    void vtcrHaftMarksTheStage2TableDescriptorsTheWalkUses() {
        buildTwoStage(S2_RW);
        ok(twoStage(0, VTCR_HA).translate(0x4000_1234L, Access.READ, 1));           // HA alone: no table update
        assertThat(memory.readLong(S2_ROOT)).isEqualTo(S2_L2 | TABLE);
        ok(twoStage(0, VTCR_HAFT).translate(0x4000_1234L, Access.READ, 1));         // haft needs VTCR_EL2.HA
        assertThat(memory.readLong(S2_ROOT)).isEqualTo(S2_L2 | TABLE);
        ok(twoStage(0, VTCR_HA | VTCR_HAFT).translate(0x4000_1234L, Access.READ, 1));
        // Entry 0 maps the stage-1 tables' IPAs, entry 2 the data's IPA 0x8000_0000: both walked.
        assertThat(memory.readLong(S2_ROOT)).isEqualTo(S2_L2 | AF | TABLE);
        assertThat(memory.readLong(S2_ROOT + 2 * 8)).isEqualTo(S2_L2 + 0x1000 | AF | TABLE);
        assertThat(memory.readLong(S2_ROOT + 8)).isZero();
        assertThat(memory.readLong(RAM_PA + 8)).as("stage 1 without TCR2_EL1.HAFT").isEqualTo(S1_L2 | TABLE);
    }
}
