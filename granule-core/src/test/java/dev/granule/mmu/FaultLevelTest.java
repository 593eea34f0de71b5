package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every stage-1 fault kind at every level it can occur, on the deepest walk there is: 4K granule,
 * TCR.DS = 1, T0SZ = 12 (52-bit VA: levels -1 to 3), IPS = 48 bits. Descriptor words are written
 * by hand from the Arm ARM's VMSAv8-64 LPA2 layouts (D8, "Translation table descriptor formats":
 * table {@code NLTA[49:12] | NLTA[51:50] at [9:8] | 0b11}, block/page {@code OA | AF [10] |
 * AP[2:1] [7:6] | AttrIndx [4:2] | 0b01/0b11}), not with the engine, and the expected level is
 * the one the walk stops at (the Arm ARM's fault status code table names levels -1 to 3).
 */
class FaultLevelTest {

    static final long VA = 0x000A_8040_6030_5000L;      // L-1 index 0xA, L0 0x100, L1 0x181, L2 0x180, L3 0x105
    static final long TCR = 12 | (0b101L << 32) | (1L << 59) | (1L << 23); // T0SZ=12, IPS=48 bits, DS, EPD1
    static final long RAM_END = 1L << 36;
    static final long NOT_RAM = 1L << 40;                 // inside the 48-bit PA size, outside RAM
    static final long BEYOND_PA = 1L << 50;               // OA[50]: bit 8 of an LPA2 descriptor
    static final long TABLES = 0x1000_0000L;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, RAM_END));

    @AfterEach
    void close() { memory.close(); }

    /** The start-level table of level {@code level} lives at TABLES + (level + 1) pages. */
    static long table(int level) { return TABLES + ((level + 1L) << 12); }

    static int index(int level) { return (int) (VA >>> (12 + 9 * (3 - level))) & (level == -1 ? 0xF : 0x1FF); }

    static long slot(int level) { return table(level) + 8L * index(level); }

    static long tableDescriptor(long address) {
        return (address & 0x0003_FFFF_FFFF_F000L) | (address >>> 50 & 3) << 8 | 0b11;
    }

    /** A read-write EL1 leaf (AP = 0b00) of Normal memory (AttrIndx 0), AF as asked. */
    static long leaf(long oa, int level, boolean af) {
        return (oa & 0x0003_FFFF_FFFF_F000L) | (oa >>> 50 & 3) << 8 | (af ? 1L << 10 : 0) | (level == 3 ? 0b11 : 0b01);
    }

    /** Tables from level -1 down to {@code stop}, whose entry for VA is {@code word}. */
    void chain(int stop, long word) {
        for (int level = -1; level < stop; level++) memory.writeLong(slot(level), tableDescriptor(table(level + 1)));
        memory.writeLong(slot(stop), word);
    }

    Translation translate(long ttbr, Access access) {
        var regime = new TranslationRegime(new Registers(TCR, ttbr, 0, 0xFF, 1, false), CpuFeatures.ALL);
        return new Mmu(regime, memory, new Tlb(16, 4)).translate(VA, access, 1);
    }

    record Case(String name, FaultType type, int level, int stop, long word, long ttbr, Access access) {
        @Override
        public String toString() { return name; }
    }

    static List<Arguments> cases() {
        List<Case> c = new ArrayList<>();
        long root = table(-1);
        for (int level = -1; level <= 3; level++) {
            c.add(new Case("invalid entry at level " + level, FaultType.TRANSLATION, level, level, 0, root, Access.READ));
            if (level < 3) {
                c.add(new Case("table address beyond the PA size at level " + level, FaultType.ADDRESS_SIZE, level,
                        level, tableDescriptor(BEYOND_PA | table(level + 1)), root, Access.READ));
                c.add(new Case("next table outside RAM, read at level " + (level + 1), FaultType.EXTERNAL_ABORT_ON_WALK,
                        level + 1, level, tableDescriptor(NOT_RAM), root, Access.READ));
            }
        }
        c.add(new Case("root table outside RAM, read at level -1", FaultType.EXTERNAL_ABORT_ON_WALK, -1, -1, 0,
                NOT_RAM, Access.READ));
        // With DS = 1, TTBR[5:2] holds BADDR[51:48]; BADDR[49] (TTBR bit 3) is beyond the 48-bit PA size.
        // ASL AArch64.S1Walk reports it at level 0 whatever the start level (QEMU agrees).
        c.add(new Case("TTBR beyond the PA size", FaultType.ADDRESS_SIZE, 0, -1, 0, root | 0b10L << 2, Access.READ));
        c.add(new Case("block at level -1 (no blocks there)", FaultType.TRANSLATION, -1, -1, leaf(0, -1, true), root,
                Access.READ));
        c.add(new Case("reserved 0b01 at level 3", FaultType.TRANSLATION, 3, 3, leaf(0x5000, 3, true) & ~2L, root,
                Access.READ));
        for (int level = 0; level <= 3; level++) {
            long span = 1L << (12 + 9 * (3 - level));
            long oa = 0x4000_0000_0000L & -span;  // 2^46: inside the PA size, aligned for any level
            c.add(new Case("output address beyond the PA size at level " + level, FaultType.ADDRESS_SIZE, level, level,
                    leaf(BEYOND_PA, level, true), root, Access.READ));
            c.add(new Case("AF = 0 at level " + level, FaultType.ACCESS_FLAG, level, level, leaf(oa, level, false), root,
                    Access.READ));
            c.add(new Case("write to read-only at level " + level, FaultType.PERMISSION, level, level,
                    leaf(oa, level, true) | 0b10L << 6, root, Access.WRITE));
        }
        return c.stream().map(Arguments::of).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void faultsAtTheLevelTheArchitectureNames(Case c) {
        chain(c.stop(), c.word());
        Translation t = translate(c.ttbr(), c.access());
        assertThat(t).isInstanceOfSatisfying(Translation.Fault.class, f -> {
            assertThat(f.type()).as("%s: %s", c, f).isEqualTo(c.type());
            assertThat(f.level()).as("%s: %s", c, f).isEqualTo(c.level());
        });
    }

    @ParameterizedTest(name = "leaf at level {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 1, 2, 3})
    void theSameLeavesWithAfAndWritePermissionTranslate(int level) {
        long span = 1L << (12 + 9 * (3 - level));
        long oa = 0x4000_0000_0000L & -span;
        chain(level, leaf(oa, level, true));
        Translation t = translate(table(-1), Access.WRITE);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class, ok -> {
            assertThat(ok.pa()).isEqualTo(oa | (VA & (span - 1)));
            assertThat(ok.level()).isEqualTo(level);
        });
    }
}
