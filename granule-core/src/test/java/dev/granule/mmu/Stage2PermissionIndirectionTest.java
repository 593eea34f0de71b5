package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.PaSizeRulesTest.PA52;
import static dev.granule.mmu.TwoStageTest.AF;
import static dev.granule.mmu.TwoStageTest.HCR_VM;
import static dev.granule.mmu.TwoStageTest.ISH;
import static dev.granule.mmu.TwoStageTest.MAIR;
import static dev.granule.mmu.TwoStageTest.S1_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_L2;
import static dev.granule.mmu.TwoStageTest.S2_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_WB;
import static dev.granule.mmu.TwoStageTest.TCR;
import static dev.granule.mmu.TwoStageTest.VTCR;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stage 2 permission indirection (VTCR_EL2.S2PIE [36], S2PIR_EL2) and overlays (VTCR_EL2.S2POE [37],
 * S2POR_EL1) in the walk, on {@link TwoStageTest}'s layout, with the Arm ARM's S2PIR encodings
 * (0b0000 none, 0b1000 read, 0b1010 read + privileged execute, 0b1100 read/write, 0b1111 all) and
 * AArch64.S2CheckPermissions: PIIndex is descriptor[54:53]:[51]:[6], S2POIndex [62:59], bit 7 is
 * Dirty (a write to a clean leaf faults unless VTCR_EL2.HA and HD are 1, which set it). No QEMU oracle.
 */
class Stage2PermissionIndirectionTest {

    static final long S2PIE = 1L << 36, S2POE = 1L << 37, VTCR_HA = 1L << 21, VTCR_HD = 1L << 22;
    static final long PI1 = 1L << 6, DIRTY = 1L << 7;
    // ID_AA64MMFR3_EL1.S2PIE [15:12] and S2POE [23:20] on PaSizeRulesTest's 52-bit CPU.
    static final CpuFeatures CPU = new CpuFeatures(PA52.idAa64mmfr0(), PA52.idAa64mmfr2(),
            PA52.idAa64mmfr3() | 1L << 12 | 1L << 20);
    static final long DATA_LEAF = S2_L2 + 0x1000;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 26));

    @AfterEach
    void close() { memory.close(); }

    /** Both stage-2 leaves PIIndex 1; the tables' leaf dirty, the data leaf as given. */
    void build(long dataBits) {
        // TwoStageTest's layout, written here so that the leaves carry PIIndex/S2POIndex/Dirty.
        memory.writeLong(S2_ROOT, S2_L2 | 0b11);
        memory.writeLong(S2_ROOT + 2 * 8, S2_L2 + 0x1000 | 0b11);
        memory.writeLong(S2_L2 + 0x80 * 8, TwoStageTest.RAM_PA | AF | ISH | S2_WB | PI1 | DIRTY | 0b01);
        memory.writeLong(DATA_LEAF, 0x4200_0000L | AF | ISH | S2_WB | dataBits | 0b01);
        memory.writeLong(TwoStageTest.RAM_PA + 8, TwoStageTest.S1_L2 | 0b11);
        memory.writeLong(TwoStageTest.RAM_PA + 0x1000, 0x8000_0000L | AF | ISH | 0b01);
    }

    Mmu mmu(long vtcrBits, long s2pir, long s2por, CpuFeatures cpu) {
        Registers s1 = new Registers(TCR, S1_ROOT, 0, MAIR, 1, false);
        Stage2Regime s2 = new Stage2Regime(HCR_VM, VTCR | vtcrBits, S2_ROOT, s2pir, s2por, cpu);
        return new Mmu(new TranslationRegime(s1, cpu), s2, memory, new Tlb(16, 4));
    }

    static long perm1(int value) { return (long) value << 4; }

    static Translation.Fault stage2Fault(Translation t, boolean s1ptw) {
        assertFault(t, FaultType.PERMISSION, 2);
        var f = (Translation.Fault) t;
        assertThat(f.stage()).isEqualTo(2);
        assertThat(f.s1ptw()).isEqualTo(s1ptw);
        return f;
    }

    @Test
    void s2pirGivesTheRightsAndS2apIsIgnored() {
        build(PI1 | DIRTY);  // S2AP would be read/write (bits 6, 7)
        // Perm1 = 0b1000: read only, no execute.
        Mmu ro = mmu(S2PIE, perm1(0b1000), 0, CPU);
        assertThat(ok(ro.translate(0x4000_1234L, Access.READ, 1)).pa()).isEqualTo(0x4200_1234L);
        stage2Fault(ro.translate(0x4000_1234L, Access.WRITE, 1), false);
        stage2Fault(ro.translate(0x4000_1234L, Access.EXECUTE, 1), false);
        // Perm1 = 0b1010: read and privileged execute, not unprivileged.
        Mmu px = mmu(S2PIE, perm1(0b1010), 0, CPU);
        ok(px.translate(0x4000_1234L, Access.EXECUTE, 1));
        // Perm1 = 0b0000: the stage-1 table walk cannot read its tables: S1PTW.
        stage2Fault(mmu(S2PIE, 0, 0, CPU).translate(0x4000_1234L, Access.READ, 1), true);
    }

    @Test
    void aCleanLeafTakesAWriteOnlyWithHardwareDirtyState() {
        build(PI1);  // Dirty = 0
        var f = stage2Fault(mmu(S2PIE, perm1(0b1100), 0, CPU).translate(0x4000_1234L, Access.WRITE, 1), false);
        assertThat(f.detail()).contains("Dirty");
        ok(mmu(S2PIE | VTCR_HA | VTCR_HD, perm1(0b1100), 0, CPU).translate(0x4000_1234L, Access.WRITE, 1));
        assertThat(memory.readLong(DATA_LEAF) & DIRTY).as("Dirty set in table memory").isNotZero();
    }

    @Test
    void s2porNarrowsTheRightsByS2poIndex() {
        long po5 = 5L << 59;
        build(PI1 | DIRTY | po5);
        // The tables' leaf has S2POIndex 0: S2POR Perm0 = 0 denies the stage-1 walk its reads (S1PTW).
        stage2Fault(mmu(S2PIE | S2POE, perm1(0b1100), 0b1100L << 20, CPU).translate(0x4000_1234L, Access.READ, 1), true);
        // S2PIR Perm1 = 0b1100 (RW); S2POR Perm0 = 0b1100, Perm5 = 0b1000 (read only): the write goes.
        Mmu overlaid = mmu(S2PIE | S2POE, perm1(0b1100), 0b1100 | 0b1000L << 20, CPU);
        ok(overlaid.translate(0x4000_1234L, Access.READ, 1));
        stage2Fault(overlaid.translate(0x4000_1234L, Access.WRITE, 1), false);
        ok(mmu(S2PIE | S2POE, perm1(0b1100), 0b1100 | 0b1100L << 20, CPU).translate(0x4000_1234L, Access.WRITE, 1));
        // S2POE off: S2POR is not read.
        ok(mmu(S2PIE, perm1(0b1100), 0, CPU).translate(0x4000_1234L, Access.WRITE, 1));
    }

    @Test
    void aCpuWithoutS2pieKeepsS2ap() {
        build(PI1 | DIRTY);  // S2AP = 0b11: read/write
        ok(mmu(S2PIE, 0, 0, PA52).translate(0x4000_1234L, Access.WRITE, 1));
    }
}
