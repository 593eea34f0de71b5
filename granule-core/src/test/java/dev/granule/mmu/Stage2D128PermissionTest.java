package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.IntStream;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * VMSAv9-128 stage-2 permissions and hardware updates, from the Arm ARM: with VTCR_EL2.D128 [38] the
 * effective S2PIE is 1 (VTCR_EL2.S2PIE is RES1, AArch64.NSS2TTWParams), so a leaf's rights are S2PIR_EL2's
 * 4-bit field at its PIIndex [118:115] (AArch64.S2ApplyOutputPerms), decoded by
 * AArch64.S2IndirectBasePermissions (r, w, privileged x, unprivileged x):
 * <pre>
 *   0000 none  0001 reserved  0010 MRO  0011 MRO-TL1  0100 write only  0101 reserved  0110 MRO-TL0  0111 MRO-TL01
 *   1000 R     1001 R+uX      1010 R+pX 1011 R+pX+uX  1100 RW          1101 RW+uX     1110 RW+pX    1111 RW+pX+uX
 * </pre>
 * (MRO: read, and writes by the MMU only); with VTCR_EL2.S2POE [37] S2POR_EL1's field at S2POIndex
 * [124:121] narrows them by the same table (AArch64.S2OverlayPermissions). A stage-1 table walk needs
 * read (r_mmu). Dirty is bit 7: a write to a clean leaf faults unless VTCR_EL2.HA [21] and HD [22] are 1,
 * which set it (and AF [10]) in table memory; VTCR_EL2.HAFT [44] sets the AF of each followed table
 * descriptor. The walk here: T0SZ 28 (36-bit IPA), 4K, so the start level is 3 - 23 DIV 8 = 1 (IPA bits
 * [35:28]); one level-2 table (bits [27:20]) of 1 MiB blocks (SKL [110:109] = 1).
 */
class Stage2D128PermissionTest {

    static final long S2_ROOT = 0x4000_0000L, S2_L2 = 0x4000_1000L;
    static final long S1_TABLES_PA = 0x4010_0000L, DATA_PA = 0x4020_0000L;
    static final long S1_IPA = 0x0100_0000L, DATA_IPA = 0x0200_0000L;   // level-2 indices 16 and 32
    static final long HCR_VM = 1;
    static final long D128 = 1L << 38, S2POE = 1L << 37, HA = 1L << 21, HD = 1L << 22, HAFT = 1L << 44;
    static final long VTCR = 28 | 3L << 12 | 0b101L << 16 | D128;         // T0SZ 28, SH0 inner, 4K, PS 48 bits
    static final long NORMAL_WB = 0xFL << 2, ISH = 3L << 8, AF = 1L << 10, DIRTY = 1L << 7;
    static final long HIGH_MARK = 0x3FFL << (91 - 64);                    // software bits [100:91]

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 26));

    @AfterEach
    void close() { memory.close(); }

    /** The rights of each S2PIR/S2POR encoding as the pseudocode's table gives them: "rwpu", '-' where not. */
    static final String[] RIGHTS = {
            "----", "----", "r---", "r---", "-w--", "----", "r---", "r---",
            "r---", "r--u", "r-p-", "r-pu", "rw--", "rw-u", "rwp-", "rwpu"};

    /** A 1 MiB level-2 block: the low word as given, SKL 1, PIIndex and S2POIndex in the high word. */
    void writeBlock(long slot, long lo, int pi, int po, long highExtra) {
        memory.writeLong(slot, lo | 1);
        memory.writeLong(slot + 8, 1L << (109 - 64) | (long) pi << (115 - 64) | (long) po << (121 - 64) | highExtra);
    }

    /** The root's entry 0 is a table (SKL 0) to S2_L2; S2_L2's entries 16 and 32 map the stage-1 tables and the data. */
    void build(long dataLo, int dataPi, int dataPo, int tablesPi) {
        memory.writeLong(S2_ROOT, S2_L2 | 1);
        memory.writeLong(S2_ROOT + 8, 0);
        writeBlock(S2_L2 + 16 * 16, S1_TABLES_PA | NORMAL_WB | ISH | AF | DIRTY, tablesPi, 0, 0);
        writeBlock(S2_L2 + 16 * 32, DATA_PA | NORMAL_WB | ISH | dataLo, dataPi, dataPo, HIGH_MARK);
        // Stage 1 (VMSAv8-64, 4K, T0SZ 39: level 2 then 3): VA 0x1000 -> IPA DATA_IPA + 0x1000.
        memory.writeLong(S1_TABLES_PA, (S1_IPA + 0x1000) | 0b11);
        memory.writeLong(S1_TABLES_PA + 0x1000 + 8, (DATA_IPA + 0x1000) | AF | ISH | 0b11);
    }

    static Stage2Regime regime(long vtcrBits, long s2pir, long s2por) {
        var r = new Stage2Regime(HCR_VM, VTCR | vtcrBits, S2_ROOT, 0, s2pir, s2por, CpuFeatures.ALL);
        assertThat(r.d128()).isTrue();
        assertThat(r.startLevel()).isEqualTo(1);
        return r;
    }

    String rights(Stage2Regime r) {
        var w = new Stage2Walker(r, memory);
        long ipa = DATA_IPA + 0x1234;
        return (w.walk(ipa, ipa, Access.READ, 1, false) != null ? "r" : "-")
                + (w.walk(ipa, ipa, Access.WRITE, 1, false) != null ? "w" : "-")
                + (w.walk(ipa, ipa, Access.EXECUTE, 1, false) != null ? "p" : "-")
                + (w.walk(ipa, ipa, Access.EXECUTE, 0, false) != null ? "u" : "-");
    }

    static IntStream encodings() { return IntStream.range(0, 16); }

    @ParameterizedTest(name = "S2PIR field 0b{0}")
    @MethodSource("encodings")
    void eachS2pirEncodingAtTheLeafsPiIndex(int value) {
        build(AF | DIRTY, 5, 0, 0);
        // PIIndex 5 holds the value under test; every other field grants everything, so a wrong index shows.
        long s2pir = 0xFFFF_FFFF_FFFF_FFFFL & ~(0xFL << 20) | (long) value << 20;
        Stage2Regime r = regime(0, s2pir, 0);
        assertThat(rights(r)).as("S2PIR field %s", Integer.toBinaryString(value)).isEqualTo(RIGHTS[value]);
        // EL0 data accesses have the same rights as EL1 at stage 2.
        var w = new Stage2Walker(r, memory);
        assertThat(w.walk(DATA_IPA, DATA_IPA, Access.READ, 0, false) != null).isEqualTo(RIGHTS[value].charAt(0) == 'r');
        // A stage-1 table walk through the leaf needs its read right (r_mmu = r).
        assertThat(w.walk(DATA_IPA, DATA_IPA, Access.READ, 1, true) != null).isEqualTo(RIGHTS[value].charAt(0) == 'r');
    }

    @ParameterizedTest(name = "S2POR field 0b{0}")
    @MethodSource("encodings")
    void eachS2porEncodingAtTheLeafsS2poIndexUnderS2poe(int value) {
        build(AF | DIRTY, 5, 9, 0);
        long s2pir = 0xFL << 20;                                      // PIIndex 5: RW + both executes
        long s2por = 0xFFFF_FFFF_FFFF_FFFFL & ~(0xFL << 36) | (long) value << 36;
        assertThat(rights(regime(S2POE, s2pir, s2por))).isEqualTo(RIGHTS[value]);
        // Without S2POE, S2POR is not read.
        assertThat(rights(regime(0, s2pir, s2por))).isEqualTo("rwpu");
    }

    Mmu twoStage(long vtcrBits, long s2pir) {
        Registers s1 = new Registers(39 | 1L << 23 | 0b101L << 32, S1_IPA, 0, 0xFF, 1, false);
        return new Mmu(new TranslationRegime(s1, CpuFeatures.ALL), regime(vtcrBits, s2pir, 0), memory, new Tlb(16, 4));
    }

    @Test
    void theStage1WalkReadsThroughTheD128Stage2() {
        build(AF | DIRTY, 1, 0, 0);
        long s2pir = 0xF | 0xCL << 4;                                 // tables: RWX; data: RW
        var t = ok(twoStage(0, s2pir).translate(0x1234, Access.WRITE, 1));
        assertThat(t.pa()).isEqualTo(DATA_PA + 0x1234);
        // The stage-1 tables' block has PIIndex 2 (no access): the first stage-1 read faults at stage 2.
        build(AF | DIRTY, 1, 0, 2);
        Translation f = twoStage(0, s2pir).translate(0x1234, Access.READ, 1);
        assertFault(f, FaultType.PERMISSION, 2);
        var fault = (Translation.Fault) f;
        assertThat(fault.stage()).isEqualTo(2);
        assertThat(fault.s1ptw()).isTrue();
        assertThat(fault.ipa()).isEqualTo(S1_IPA);
    }

    @Test
    void hardwareAccessFlagAndDirtyStateWriteAll128Bits() {
        build(0, 1, 0, 0);                                            // data block: AF = 0, Dirty = 0
        long s2pir = 0xF | 0xCL << 4;
        assertFault(twoStage(0, s2pir).translate(0x1234, Access.READ, 1), FaultType.ACCESS_FLAG, 2);
        // HA only: a read sets AF; a write to the clean block still faults (Dirty needs HD).
        ok(twoStage(HA, s2pir).translate(0x1234, Access.READ, 1));
        long slot = S2_L2 + 16 * 32;
        assertThat(memory.readLong(slot) & (AF | DIRTY)).isEqualTo(AF);
        assertFault(twoStage(HA, s2pir).translate(0x1234, Access.WRITE, 1), FaultType.PERMISSION, 2);
        assertThat(memory.readLong(slot) & DIRTY).isZero();
        // HA and HD: the write sets Dirty; the high word (SKL, PIIndex, software bits) is kept.
        long high = memory.readLong(slot + 8);
        ok(twoStage(HA | HD, s2pir).translate(0x1234, Access.WRITE, 1));
        assertThat(memory.readLong(slot) & (AF | DIRTY)).isEqualTo(AF | DIRTY);
        assertThat(memory.readLong(slot + 8)).isEqualTo(high);
    }

    @Test
    void haftSetsTheStage2TableDescriptorsAccessFlag() {
        build(AF | DIRTY, 1, 0, 0);
        memory.writeLong(S2_ROOT + 8, HIGH_MARK);
        long s2pir = 0xF | 0xCL << 4;
        ok(twoStage(HA, s2pir).translate(0x1234, Access.READ, 1));
        assertThat(memory.readLong(S2_ROOT) & AF).as("HAFT off").isZero();
        ok(twoStage(HA | HAFT, s2pir).translate(0x1234, Access.READ, 1));
        assertThat(memory.readLong(S2_ROOT)).isEqualTo(S2_L2 | AF | 1);
        assertThat(memory.readLong(S2_ROOT + 8)).isEqualTo(HIGH_MARK);
    }

    @Test
    void aStage1HardwareUpdateNeedsTheMmuWriteRightAndDirtyStateOfTheTablesBlock() {
        // Stage 1 with TCR_EL1.HA [39] and its leaf's AF 0: the walk writes AF, a TTW write through stage 2
        // (AArch64.S2CheckPermissions: w_mmu, then Dirty unless VTCR_EL2.HA and HD). Tables' PIIndex 2.
        Registers s1 = new Registers(39 | 1L << 23 | 0b101L << 32 | 1L << 39, S1_IPA, 0, 0xFF, 1, false);
        long leaf = S1_TABLES_PA + 0x1000 + 8, tablesBlock = S2_L2 + 16 * 16;
        record Case(long tablesPerm, long vtcrBits, boolean tablesDirty, boolean updates) {}
        for (Case c : new Case[] {
                new Case(0b1000, HA | HD, true, false),   // RO: r_mmu 1, w_mmu 0
                new Case(0b0010, 0, true, true),          // MRO: w_mmu 1
                new Case(0b1100, 0, false, false),        // RW, clean, no HA/HD: the Dirty fault
                new Case(0b1100, HA | HD, false, true)}) { // RW, clean, HA and HD: Dirty set
            build(AF | DIRTY, 1, 0, 2);
            writeBlock(tablesBlock, S1_TABLES_PA | NORMAL_WB | ISH | AF | (c.tablesDirty() ? DIRTY : 0), 2, 0, 0);
            memory.writeLong(leaf, memory.readLong(leaf) & ~AF);
            long s2pir = 0xCL << 4 | c.tablesPerm() << 8;
            Translation t = new Mmu(new TranslationRegime(s1, CpuFeatures.ALL), regime(c.vtcrBits(), s2pir, 0), memory,
                    new Tlb(16, 4)).translate(0x1234, Access.READ, 1);
            if (c.updates()) {
                assertThat(ok(t).pa()).as("%s", c).isEqualTo(DATA_PA + 0x1234);
                assertThat(memory.readLong(leaf) & AF).as("stage-1 AF set, %s", c).isEqualTo(AF);
                assertThat(memory.readLong(tablesBlock) & DIRTY).as("tables block Dirty, %s", c).isEqualTo(DIRTY);
            } else {
                assertThat(t).as("%s", c).isInstanceOf(Translation.Fault.class);
                assertFault(t, FaultType.PERMISSION, 2);
                var f = (Translation.Fault) t;
                assertThat(f.stage()).isEqualTo(2);
                assertThat(f.s1ptw()).as("%s", c).isTrue();
                assertThat(f.ipa()).isEqualTo(S1_IPA + 0x1000 + 8);
                assertThat(memory.readLong(leaf) & AF).as("stage-1 AF left, %s", c).isZero();
            }
        }
    }
}
