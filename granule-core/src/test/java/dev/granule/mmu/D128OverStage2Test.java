package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.TwoStageTest.AF;
import static dev.granule.mmu.TwoStageTest.BLOCK;
import static dev.granule.mmu.TwoStageTest.HCR_VM;
import static dev.granule.mmu.TwoStageTest.ISH;
import static dev.granule.mmu.TwoStageTest.RAM_PA;
import static dev.granule.mmu.TwoStageTest.S2_L2;
import static dev.granule.mmu.TwoStageTest.S2_RO;
import static dev.granule.mmu.TwoStageTest.S2_ROOT;
import static dev.granule.mmu.TwoStageTest.S2_RW;
import static dev.granule.mmu.TwoStageTest.S2_WB;
import static dev.granule.mmu.TwoStageTest.TABLE;
import static dev.granule.mmu.TwoStageTest.VTCR;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * VMSAv9-128 stage 1 over a VMSAv8-64 stage 2: every 16-byte stage-1 descriptor is read at an IPA that
 * stage 2 translates (S1PTW), and a hardware Access-flag update of the leaf is a write to the leaf's IPA
 * that stage 2 must permit (AArch64.S1Translate with CreateAccDescTTEUpdate, as for 64-bit descriptors;
 * see {@link HardwareUpdatesTest}). Stage 2 is {@link TwoStageTest}'s: IPA 0x1000_0000 (2 MiB) holds the
 * stage-1 tables at PA RAM_PA, IPA 0x8000_0000 (2 MiB) the data at PA 0x4200_0000. Stage 1: 4K granule,
 * T0SZ 25, four levels of 256 16-byte entries (VA bits [38:36], [35:28], [27:20], [19:12] at levels 0..3),
 * descriptors by hand from the VMSAv9-128 layout: valid [0], AF [10], SKL [110:109] = 0, PIIndex [118:115] = 0.
 */
class D128OverStage2Test {

    static final long VA = 0x4000_1234L;
    static final long S1_IPA = 0x1000_0000L;                 // level-0 table; levels 1..3 follow at +0x1000
    static final long TCR = 25 | 1L << 23 | 0b101L << 32;    // T0SZ 25, EPD1, IPS 48 bits
    static final long HA = 1L << 39;
    static final long TCR2_D128 = 1L << 5;
    static final long PIR = 0xC;                             // PIIndex 0: read/write at EL1
    static final long S2_TABLES_PA = S2_L2 + 0x80 * 8, S2_DATA_PA = S2_L2 + 0x1000;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 26));

    @AfterEach
    void close() { memory.close(); }

    static long index(long va, int level) { return va >>> (12 + 8 * (3 - level)) & 0xFF; }

    /** The PA stage 2 gives a stage-1 table IPA (the 2 MiB block at IPA 0x1000_0000 maps to RAM_PA). */
    static long pa(long ipa) { return RAM_PA + (ipa - S1_IPA); }

    long leafIpa() { return S1_IPA + 3 * 0x1000 + 16 * index(VA, 3); }

    void build(long s2Tables, long leafLo) {
        memory.writeLong(S2_ROOT, S2_L2 | TABLE);
        memory.writeLong(S2_ROOT + 2 * 8, S2_L2 + 0x1000 | TABLE);
        memory.writeLong(S2_TABLES_PA, RAM_PA | s2Tables | BLOCK);
        memory.writeLong(S2_DATA_PA, 0x4200_0000L | AF | S2_RW | S2_WB | ISH | BLOCK);
        for (int level = 0; level < 3; level++) {
            long slot = pa(S1_IPA + level * 0x1000L) + 16 * index(VA, level);
            memory.writeLong(slot, S1_IPA + (level + 1) * 0x1000L | 1);   // a table: level + SKL < 3
            memory.writeLong(slot + 8, 0);
        }
        memory.writeLong(pa(leafIpa()), 0x8000_1000L | leafLo | 1);        // a page: level 3 + SKL 0
        memory.writeLong(pa(leafIpa()) + 8, 0);
    }

    Mmu mmu(long tcrBits) {
        Registers s1 = new Registers(TCR | tcrBits, S1_IPA, 0, 0x44FF, 1, false, 0, 0, 0);
        TranslationRegime regime = new TranslationRegime(s1, new PermissionRegisters(TCR2_D128, PIR, 0, 0, 0), CpuFeatures.ALL);
        assertThat(regime.d128()).isTrue();
        return new Mmu(regime, new Stage2Regime(HCR_VM, VTCR, S2_ROOT, CpuFeatures.ALL), memory, new Tlb(16, 4));
    }

    @Test
    void theStage1WalkReadsItsSixteenByteDescriptorsThroughStage2() {
        build(AF | S2_RO | S2_WB | ISH, AF | ISH);
        assertThat(ok(mmu(0).translate(VA, Access.WRITE, 1)).pa()).isEqualTo(0x4200_1234L);
    }

    @Test
    void anAccessFlagUpdateIsAStage2WriteToTheLeafsIpa() {
        // Stage 2 maps the stage-1 tables read-only: the walk reads them, the AF update faults there.
        build(AF | S2_RO | S2_WB | ISH, ISH);
        Translation t = mmu(HA).translate(VA, Access.READ, 1);
        assertFault(t, FaultType.PERMISSION, 2);
        Translation.Fault f = (Translation.Fault) t;
        assertThat(f.stage()).isEqualTo(2);
        assertThat(f.s1ptw()).isTrue();
        assertThat(f.ipa()).as("the IPA of the 16-byte leaf, not of a table above it").isEqualTo(leafIpa());
        assertThat(memory.readLong(pa(leafIpa())) & AF).isZero();
        // Stage 2 read/write: the update writes AF and keeps the high word.
        build(AF | S2_RW | S2_WB | ISH, ISH);
        memory.writeLong(pa(leafIpa()) + 8, 0x55L << 32);
        ok(mmu(HA).translate(VA, Access.READ, 1));
        assertThat(memory.readLong(pa(leafIpa())) & AF).isNotZero();
        assertThat(memory.readLong(pa(leafIpa()) + 8)).isEqualTo(0x55L << 32);
    }
}
