package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Granule;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.PermissionRegisters;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.TranslationRegime;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The two places where QEMU 11.1's real accesses depart from the Arm ARM's dirty state under
 * permission indirection, pinned with hand-built tables ({@link QemuHafdbsPieOracleTest} keeps them
 * out by rules that count them). Each case is one QEMU boot of {@code hafdbs-probe.S}: 4K granule,
 * 39-bit VA, the probe's code at VA = PA 0x4000_0000 (a level-2 block, PIIndex 1, which PIR_EL1 and
 * PIRE0_EL1 make read-and-execute) and one data page at VA 0x7000_0000 (a level-3 page, PIIndex 0 or 2,
 * which PIR_EL1 makes read-write at EL1); over a stage 2 (4K, 39-bit IPA, start level 1) that maps
 * RAM's first 256 MiB to itself (Dirty set, PIIndex 1: S2PIR read-write-execute) and the data page's
 * 2 MiB to itself (PIIndex 0 or 2: S2PIR read-write). Every expected answer is worked out here from
 * the pseudocode; the model is asked too and must give the Arm ARM's.
 *
 * <p>Stage 1, AArch64.S1CheckPermissions with S1PIE: a write to a leaf whose bit 7 (nDirty) is 1 is a
 * permission fault unless TCR_EL1.HA and HD are both 1; with both, the write is permitted and
 * AArch64.S1Translate writes the descriptor back with nDirty 0 (the dirty-state update; no DBM is
 * involved: bit 51 is PIIndex[1]). QEMU 11.1 checks nDirty only when a store walks: then it faults
 * without HD as the Arm ARM says, but with HA and HD clears bit 7 only when bit 51 is 1 (its
 * FEAT_HAFDBS DBM rule, which PIE does not have). After a load has cached the page, its TLB entry
 * lets the store through with or without HD, and nDirty stays 1.
 *
 * <p>Stage 2, AArch64.S2CheckPermissions with S2PIE: the same rule for a write to a stage-2 leaf whose
 * bit 7 (Dirty) is 0, with VTCR_EL2.HA and HD, and AArch64.S2Translate sets Dirty. QEMU 11.1 faults a
 * store without HD, and with HA and HD sets bit 7 only where bit 51 is 1. (The stage-1 walk's own
 * descriptor write to a Dirty = 0 stage-2 page is a third face of it: QEMU writes the stage-1
 * descriptor without the check where the Arm ARM faults at stage 2 with S1PTW, and does not set Dirty
 * where the Arm ARM does.)
 */
@Tag("qemu")
class QemuHafdbsPieDepartureTest {

    static final long T = QemuAt.TABLES_BASE, CODE = 0x4000_0000L, DATA = 0x7000_0000L, VA = DATA + 0x100;
    static final long STAGE1_L1 = T, STAGE1_L2 = T + 0x1000, STAGE1_L3 = T + 0x2000, STAGE2_L1 = T + 0x3000, STAGE2_L2 = T + 0x4000;
    /** The data page's stage-1 leaf and its stage-2 block descriptor. */
    static final long DATA_LEAF = STAGE1_L3, DATA_S2_LEAF = STAGE2_L2 + 0x180 * 8;
    static final long AF = 1L << 10, SH_INNER = 3L << 8, BIT7 = 1L << 7, BIT51 = 1L << 51, S2_NORMAL_WB = 0xFL << 2;
    /** TCR_EL1: T0SZ 25, WB walks, inner shareable, TG0 4K, EPD1, IPS 48 bits; HA [39], HD [40]. */
    static final long TCR = 25 | 1L << 8 | 1L << 10 | 3L << 12 | 16L << 16 | 1L << 23 | 5L << 32, TCR_HA = 1L << 39, TCR_HD = 1L << 40;
    /** VTCR_EL2: T0SZ 25, SL0 1 (start at level 1), WB walks, inner shareable, TG0 4K, PS 48 bits, S2PIE; HA [21], HD [22]. */
    static final long VTCR = TwoStageCaseGenerator.VTCR_RES1 | 25 | 1L << 6 | 1L << 8 | 1L << 10 | 3L << 12 | 5L << 16
            | HafdbsCaseGenerator.VTCR_S2PIE, VTCR_HA = 1L << 21, VTCR_HD = 1L << 22;
    /** PIR_EL1: index 1 (the code) RX, indices 0 and 2 (the data) RW; PIRE0_EL1: index 1 RX, the rest nothing. */
    static final long PIR = 0x0C_A_CL, PIRE0 = 0x0_A_0L;
    /** S2PIR_EL2: index 1 (code, job, tables) RW with execute at both ELs, indices 0 and 2 (the data) RW. */
    static final long S2PIR = 0xC_F_CL;
    static final int LOAD_EL1 = 0, STORE_EL1 = 1;

    @TempDir
    Path work;

    private QemuAt qemu;
    private CpuFeatures cpu;

    @BeforeEach
    void qemu11() throws Exception {
        var target = QemuPieOracleTest.onQemu11(QemuAt.Target.AARCH64_HAFDBS, "QEMU 11 hardware-update departures");
        qemu = new QemuAt(target, work);
        QemuAt.Answers id = QemuHafdbsOracleTest.identify(qemu.output(new byte[32], null));
        cpu = new CpuFeatures(id.id()[0], id.id()[2], id.mmfr3(), id.id()[1], 0);
        assertThat(cpu.supportsS1pie() && cpu.supportsS2pie()).as("%s has FEAT_S1PIE and FEAT_S2PIE", qemu.version()).isTrue();
    }

    // ---- stage 1: nDirty ----

    @Test
    void aStoreThroughAnNDirtyLeafWithoutHdFaultsOnQemuAsInTheArmArm() throws Exception {
        long leaf = DATA | AF | SH_INNER | BIT7 | 3; // PIIndex 0 (RW at EL1), nDirty 1
        Outcome o = run(TCR | TCR_HA, 0, leaf, 0, STORE_EL1);
        // S1CheckPermissions: write permitted by PIR, nDirty 1, HA and HD not both 1: a permission fault
        // at level 3 (DFSC 0b001111), WnR 1, taken to EL1 as a Data Abort from EL1 (EC 0x25).
        String armArm = "1 ec 0x25 iss 0x4f far 0x" + Long.toHexString(VA);
        assertThat(o.model).containsExactly(armArm);
        assertThat(o.modelWords[0]).as("nothing written").isEqualTo(leaf);
        // Where the oracle's rule need not reach: a real store checks nDirty (QEMU's AT does not, QemuPieOracleTest).
        assertThat(o.qemu.lines()).containsExactly(armArm);
        assertThat(o.qemu.words()[0]).isEqualTo(leaf);
    }

    @Test
    void afterALoadQemuLetsAStoreThroughAnNDirtyLeafWithoutHd() throws Exception {
        long leaf = DATA | AF | SH_INNER | BIT7 | 3;
        Outcome o = run(TCR | TCR_HA, 0, leaf, 0, LOAD_EL1, STORE_EL1);
        // The load is permitted; the store is the same permission fault as without the load: a TLB
        // entry for the page cannot grant the write while nDirty is 1 without HA and HD.
        String armArm = "1 ec 0x25 iss 0x4f far 0x" + Long.toHexString(VA);
        assertThat(o.model).containsExactly("O", armArm);
        assertThat(o.qemu.lines()).as("QEMU 11.1: the store used the load's TLB entry").containsExactly("O", "O");
        assertThat(o.qemu.words()[0]).isEqualTo(leaf);
    }

    @Test
    void aStoreThroughAnNDirtyLeafWithHaAndHdClearsNDirtyInTheArmArmButNotOnQemuWithoutBit51() throws Exception {
        long leaf = DATA | AF | SH_INNER | BIT7 | 3; // PIIndex 0, bit 51 0
        Outcome o = run(TCR | TCR_HA | TCR_HD, 0, leaf, 0, STORE_EL1);
        assertThat(o.model).containsExactly("O");
        assertThat(o.modelWords[0]).as("the Arm ARM: nDirty cleared").isEqualTo(leaf & ~BIT7);
        assertThat(o.qemu.lines()).containsExactly("O");
        assertThat(o.qemu.words()[0]).as("QEMU 11.1: nDirty left at 1").isEqualTo(leaf);
    }

    @Test
    void qemuClearsNDirtyWithBit51OnlyWhenTheStoreWalks() throws Exception {
        long leaf = DATA | AF | SH_INNER | BIT51 | BIT7 | 3; // PIIndex 2 (RW at EL1), nDirty 1
        Outcome first = run(TCR | TCR_HA | TCR_HD, 0, leaf, 0, STORE_EL1);
        assertThat(first.model).containsExactly("O");
        assertThat(first.modelWords[0]).isEqualTo(leaf & ~BIT7);
        assertThat(first.qemu.lines()).containsExactly("O");
        assertThat(first.qemu.words()[0]).as("QEMU agrees when the store walks").isEqualTo(leaf & ~BIT7);

        Outcome afterLoad = run(TCR | TCR_HA | TCR_HD, 0, leaf, 0, LOAD_EL1, STORE_EL1);
        // The load may cache the page, but only as not writable while nDirty is 1: the store must
        // still update the dirty state (S1CheckPermissions treats the write as a dirty-state update).
        assertThat(afterLoad.model).containsExactly("O", "O");
        assertThat(afterLoad.modelWords[0]).isEqualTo(leaf & ~BIT7);
        assertThat(afterLoad.qemu.lines()).containsExactly("O", "O");
        assertThat(afterLoad.qemu.words()[0]).as("QEMU 11.1: the store used the load's TLB entry").isEqualTo(leaf);
    }

    // ---- stage 2: Dirty ----

    @Test
    void aStoreToAStage2LeafWhoseDirtyIs0WithoutHdFaultsOnQemuAsInTheArmArm() throws Exception {
        long leaf = DATA | AF | SH_INNER | 3; // nDirty 0: stage 1 lets the store through
        long s2leaf = DATA | AF | SH_INNER | S2_NORMAL_WB | 1; // level-2 block, PIIndex 0 (S2PIR RW), Dirty 0
        Outcome o = run(TCR | TCR_HA | TCR_HD, VTCR | VTCR_HA, leaf, s2leaf, STORE_EL1);
        // S2CheckPermissions: write permitted by S2PIR, Dirty 0, VTCR_EL2.HA and HD not both 1: a stage-2
        // permission fault at level 2 (DFSC 0b001110), WnR 1, taken to EL2 (EC 0x24), HPFAR the IPA.
        String armArm = String.format("2 ec 0x24 iss 0x4e far 0x%x ipa 0x%x", VA, DATA >>> 12);
        assertThat(o.model).containsExactly(armArm);
        assertThat(o.modelWords[1]).isEqualTo(s2leaf);
        assertThat(o.qemu.lines()).containsExactly(armArm);
        assertThat(o.qemu.words()[1]).isEqualTo(s2leaf);
    }

    @Test
    void aStoreToAStage2LeafWhoseDirtyIs0WithHaAndHdSetsDirtyInTheArmArmButNotOnQemuWithoutBit51() throws Exception {
        long leaf = DATA | AF | SH_INNER | 3;
        long s2leaf = DATA | AF | SH_INNER | S2_NORMAL_WB | 1;
        Outcome o = run(TCR | TCR_HA | TCR_HD, VTCR | VTCR_HA | VTCR_HD, leaf, s2leaf, STORE_EL1);
        assertThat(o.model).containsExactly("O");
        assertThat(o.modelWords[1]).as("the Arm ARM: Dirty set").isEqualTo(s2leaf | BIT7);
        assertThat(o.qemu.lines()).containsExactly("O");
        assertThat(o.qemu.words()[1]).as("QEMU 11.1: Dirty left at 0").isEqualTo(s2leaf);
    }

    // ---- stage 2: Dirty, for the stage-1 walk's own write ----

    /**
     * The stage-1 level-3 table at IPA 0x6000_2000, in a stage-2 block (PIIndex 0: S2PIR read-write,
     * so the MMU may write) whose Dirty is 0; a load through a leaf whose AF is 0 under TCR_EL1.HA, so
     * the stage-1 walk writes the leaf back (AArch64.S1Translate: the descriptor update is a write,
     * translated by stage 2 first, AccessType_TTW).
     */
    @Test
    void aStage1UpdateThroughAStage2PageWhoseDirtyIs0WithoutHaFaultsInTheArmArmButNotOnQemu() throws Exception {
        long leaf = DATA | SH_INNER | 3; // AF 0, nDirty 0
        long s2leaf = DATA | AF | SH_INNER | S2_NORMAL_WB | BIT7 | 1; // the data: Dirty set, nothing to do
        Outcome o = runWithTablesBehindACleanStage2Block(TCR | TCR_HA, VTCR | VTCR_HD, leaf, s2leaf, LOAD_EL1);
        // S2CheckPermissions for the write: MMU write right, Dirty 0, VTCR_EL2.HA and HD not both 1: a
        // stage-2 permission fault at level 2 (DFSC 0b001110) with S1PTW (ISS bit 7), WnR 0 (the load's),
        // HPFAR the table's IPA; the leaf is not written.
        String armArm = String.format("2 ec 0x24 iss 0x8e far 0x%x ipa 0x%x", VA, TABLE_IPA >>> 12);
        assertThat(o.model).containsExactly(armArm);
        assertThat(o.modelWords[0]).isEqualTo(leaf);
        assertThat(o.qemu.lines()).as("QEMU 11.1 writes the stage-1 descriptor unchecked").containsExactly("O");
        assertThat(o.qemu.words()[0]).isEqualTo(leaf | AF);
        assertThat(o.qemu.words()[2]).as("and leaves Dirty at 0").isEqualTo(TABLES_S2_BLOCK_WORD);
    }

    @Test
    void aStage1UpdateThroughAStage2PageWhoseDirtyIs0WithHaAndHdSetsDirtyInTheArmArmButNotOnQemu() throws Exception {
        long leaf = DATA | SH_INNER | 3;
        long s2leaf = DATA | AF | SH_INNER | S2_NORMAL_WB | BIT7 | 1;
        Outcome o = runWithTablesBehindACleanStage2Block(TCR | TCR_HA, VTCR | VTCR_HA | VTCR_HD, leaf, s2leaf, LOAD_EL1);
        assertThat(o.model).containsExactly("O");
        assertThat(o.modelWords[0]).isEqualTo(leaf | AF);
        long tables = TABLES_S2_BLOCK_WORD;
        assertThat(o.modelWords[2]).as("the Arm ARM: Dirty set on the tables' stage-2 block").isEqualTo(tables | BIT7);
        assertThat(o.qemu.lines()).containsExactly("O");
        assertThat(o.qemu.words()[0]).isEqualTo(leaf | AF);
        assertThat(o.qemu.words()[2]).as("QEMU 11.1: Dirty left at 0").isEqualTo(tables);
    }

    /** Where the stage-1 level-3 table is seen from stage 1, and the stage-2 block (Dirty 0, PIIndex 0) that maps it. */
    static final long TABLE_IPA = 0x6000_0000L + (STAGE1_L3 & 0x1F_FFFFL), TABLES_S2_BLOCK = STAGE2_L2 + 0x100 * 8,
            TABLES_S2_BLOCK_WORD = (T & ~0x1F_FFFFL) | AF | SH_INNER | S2_NORMAL_WB | 1;

    private Outcome runWithTablesBehindACleanStage2Block(long tcr, long vtcr, long dataLeaf, long dataS2Leaf, int... ops)
            throws Exception {
        return run(true, tcr, vtcr, dataLeaf, dataS2Leaf, ops);
    }

    /**
     * What the model and QEMU answered for one hand-built case, and three words afterwards: the data's
     * stage-1 leaf, its stage-2 leaf, and the stage-2 block over the tables (0 where unused).
     */
    private record Outcome(List<String> model, long[] modelWords, QemuHafdbsOracleTest.Run qemu) {}

    /**
     * Builds the tables (over a stage 2 when {@code vtcr} is not 0), makes the accesses {@code ops} at
     * {@link #VA} in the model and in QEMU, and reads the data page's two leaves back.
     */
    private Outcome run(long tcr, long vtcr, long dataLeaf, long dataS2Leaf, int... ops) throws Exception {
        return run(false, tcr, vtcr, dataLeaf, dataS2Leaf, ops);
    }

    /** With {@code tablesBehindACleanStage2Block}, stage 1 reaches its level-3 table at {@link #TABLE_IPA}. */
    private Outcome run(boolean tablesBehindACleanStage2Block, long tcr, long vtcr, long dataLeaf, long dataS2Leaf, int... ops)
            throws Exception {
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
            memory.writeLong(STAGE1_L1 + 8, STAGE1_L2 | 3);                       // L1[1]: VA 1..2 GiB
            memory.writeLong(STAGE1_L2, CODE | AF | SH_INNER | BIT7 | 1L << 6 | 1); // the code: PIIndex 1
            memory.writeLong(STAGE1_L2 + 0x180 * 8, (tablesBehindACleanStage2Block ? TABLE_IPA : STAGE1_L3) | 3); // VA 0x7000_0000
            memory.writeLong(DATA_LEAF, dataLeaf);
            long hcr = QemuAt.HCR_RW, vttbr = 0;
            if (vtcr != 0) {
                hcr |= HafdbsCaseGenerator.HCR_VM;
                vttbr = STAGE2_L1 | 1L << 48;
                memory.writeLong(STAGE2_L1 + 8, STAGE2_L2 | 3);
                for (long ipa = CODE; ipa < CODE + (256L << 20); ipa += 2L << 20) { // code, job, tables: PIIndex 1, Dirty
                    memory.writeLong(STAGE2_L2 + (ipa - CODE >>> 21) * 8, ipa | AF | SH_INNER | S2_NORMAL_WB | BIT7 | 1L << 6 | 1);
                }
                memory.writeLong(DATA_S2_LEAF, dataS2Leaf);
                if (tablesBehindACleanStage2Block) memory.writeLong(TABLES_S2_BLOCK, TABLES_S2_BLOCK_WORD);
            }
            byte[] tables = new byte[0x5000];
            memory.read(T, tables, 0, tables.length);

            var registers = new Registers(tcr, STAGE1_L1, 0, HafdbsCaseGenerator.MAIR, HafdbsCaseGenerator.SCTLR, false);
            var pie = new PermissionRegisters(HafdbsCaseGenerator.TCR2_PIE, PIR, PIRE0, 0, 0);
            List<HafdbsCaseGenerator.Probe> probes = new ArrayList<>();
            for (int op : ops) probes.add(new HafdbsCaseGenerator.Probe(VA, op, DATA_LEAF,
                    tablesBehindACleanStage2Block ? TABLE_IPA : DATA_LEAF, DATA));
            var c = new HafdbsCaseGenerator.Case(registers, pie, hcr, vtcr, vttbr, vtcr == 0 ? 0 : S2PIR, probes, Granule.FOUR_K,
                    vtcr == 0 ? null : Granule.FOUR_K, "hand-built");

            Stage2Regime s2 = vtcr == 0 ? null : new Stage2Regime(hcr, vtcr, vttbr, S2PIR, 0, cpu);
            var mmu = new Mmu(new TranslationRegime(registers, pie, cpu), s2, memory, new Tlb(16, 4));
            List<String> model = new ArrayList<>();
            for (var p : probes) model.add(QemuHafdbsOracleTest.expected(p, mmu.translate(p.va(), p.access(), p.el())));
            long[] words = {DATA_LEAF, DATA_S2_LEAF, TABLES_S2_BLOCK};
            var answer = QemuHafdbsOracleTest.ask(qemu, List.of(c), List.of(probes), words, tables, true);
            return new Outcome(model, new long[]{memory.readLong(DATA_LEAF), memory.readLong(DATA_S2_LEAF),
                    memory.readLong(TABLES_S2_BLOCK)}, answer);
        }
    }
}
