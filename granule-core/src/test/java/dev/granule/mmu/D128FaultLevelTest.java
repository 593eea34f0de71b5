package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.D128FaultFixture.Case;
import dev.granule.mmu.D128FaultFixture.Granule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.granule.mmu.D128FaultFixture.RAM_END;
import static dev.granule.mmu.D128FaultFixture.SKIP_TABLE;
import static dev.granule.mmu.D128FaultFixture.table;
import static dev.granule.mmu.D128FaultFixture.tableDescriptor;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every VMSAv9-128 stage-1 fault kind at every level it can occur, for each granule on its deepest
 * walk: T0SZ = 9 (a 55-bit VA, the EL1&amp;0 minimum with FEAT_LVA3), so 4K starts at level -2, 16K
 * at level -1, 64K at level 0 (AArch64.S1StartLevel with a 16-byte descriptor: stride = granule
 * bits - 4). Descriptor words are written here by hand from the Arm ARM's VMSAv9-128 layouts, not
 * with the engine's encoder: valid [0], AF [10], OA / next-level table address [55:12] (a table's
 * aligned to the table it points at), SKL [110:109] (a leaf at level L has SKL = 3 - L; a table's
 * SKL skips levels), Contiguous [111], DisCH [112], PIIndex [118:115]. TTBR0_EL1 is 128 bits:
 * BADDR[47:5] in [47:5], BADDR[55:48] in [87:80], SKL in [2:1]. TCR2_EL1.D128 = bit 5.
 */
class D128FaultLevelTest {

    static final long VA = 0x0076_9C2B_5E4D_7A88L;       // bit 54 set: the top of a 55-bit VA
    static final long TCR2_D128 = 1L << 5;
    // PIR_EL1: PIIndex 0 read/write (0b1100), 1 read-only (0b1000), 2 nothing (0b0000).
    static final long PIR = 0xC | 0x8L << 4;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, RAM_END));
    final D128FaultFixture.Walk walk = new D128FaultFixture.Walk(memory, VA, 55);

    @AfterEach
    void close() { memory.close(); }

    /** A leaf at {@code level} with PIIndex {@code pi}, AF as asked. */
    static long[] leaf(long oa, int level, boolean af, int pi) {
        return new long[]{oa | (af ? 1L << 10 : 0) | 1, (long) (3 - level) << (109 - 64) | (long) pi << (115 - 64)};
    }

    void write(long address, long[] descriptor) { walk.write(address, descriptor); }

    void chain(Granule g, int stop, long[] word) { walk.chain(g, stop, word); }

    static long tcr(Granule g, int ips) {
        return 9 | (long) g.tg0() << 14 | (long) ips << 32 | 1L << 23; // T0SZ = 9, TG0, IPS, EPD1
    }

    Translation translate(Granule g, int ips, long ttbr, long ttbrHigh, Access access) {
        var regime = regime(tcr(g, ips), ttbr, ttbrHigh, TCR2_D128);
        assertThat(regime.d128()).isTrue();
        return new Mmu(regime, memory, new Tlb(16, 4)).translate(VA, access, 1);
    }

    static TranslationRegime regime(long tcr, long ttbr, long ttbrHigh, long tcr2) {
        return new TranslationRegime(new Registers(tcr, ttbr, 0, 0xFF, 1, false, ttbrHigh, 0, 0),
                new PermissionRegisters(tcr2, PIR, 0, 0, 0), CpuFeatures.ALL);
    }

    static List<Arguments> cases() {
        return D128FaultFixture.faultCases(D128FaultLevelTest::leaf, "TTBR", (g, level, oa, root) -> List.of());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void faultsAtTheLevelTheArchitectureNames(Case c) {
        chain(c.g(), c.stop(), c.word());
        Translation t = translate(c.g(), 0b101, c.base(), c.baseHigh(), c.access());
        assertThat(t).isInstanceOfSatisfying(Translation.Fault.class, f -> {
            assertThat(f.type()).as("%s: %s", c, f).isEqualTo(c.type());
            assertThat(f.level()).as("%s: %s", c, f).isEqualTo(c.level());
        });
    }

    @ParameterizedTest(name = "{0} leaf at level {1}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#leaves")
    void leavesWithAfAndAWritableIndexTranslate(Granule g, int level) {
        long oa = 0x4000_0000_0000L & -g.span(level);
        chain(g, level, leaf(oa, level, true, 0));
        Translation t = translate(g, 0b101, table(g.startLevel()), 0, Access.WRITE);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class, ok -> {
            assertThat(ok.pa()).isEqualTo(oa | (VA & (g.span(level) - 1)));
            assertThat(ok.level()).isEqualTo(level);
            assertThat(ok.leafSize()).isEqualTo(g.span(level));
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#granules")
    void aFiftySixBitOutputAddressUnderPs56(Granule g) {
        long oa = 0x00AB_CDEF_0000_0000L;  // OA[55:48] = 0xAB: only a VMSAv9-128 descriptor holds it
        chain(g, 3, leaf(oa, 3, true, 0));
        Translation t = translate(g, 0b111, table(g.startLevel()), 0, Access.READ);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.pa()).isEqualTo(oa | (VA & (g.span(3) - 1))));
        // The same leaf under a 52-bit PS is beyond the PA size.
        assertThat(translate(g, 0b110, table(g.startLevel()), 0, Access.READ)).isInstanceOfSatisfying(
                Translation.Fault.class, f -> assertThat(f.type()).isEqualTo(FaultType.ADDRESS_SIZE));
    }

    /**
     * A start-level table descriptor with SKL = 1 points at one table that resolves two strides of VA
     * bits (AArch64.TTEntryAddress with nstride = SKL + 1), whose leaf is at start level + 2.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#granules")
    void aTableWithSkl1SkipsALevel(Granule g) {
        int leafLevel = g.startLevel() + 2;
        long oa = 0x4000_0000_0000L & -g.span(leafLevel);
        walk.skipOneLevelTo(g, leaf(oa, leafLevel, true, 0));
        Translation t = translate(g, 0b101, table(g.startLevel()), 0, Access.READ);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class, ok -> {
            assertThat(ok.level()).isEqualTo(leafLevel);
            assertThat(ok.pa()).isEqualTo(oa | (VA & (g.span(leafLevel) - 1)));
        });
    }

    /** TTBR0.SKL = 1: the walk starts a level lower, in one table holding every VA bit above it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#granules")
    void ttbrSkl1StartsOneLevelLower(Granule g) {
        walk.startOneLevelLowerTo(g, leaf(0x4000_0000_0000L, 3, true, 0));
        Translation t = translate(g, 0b101, SKIP_TABLE | 0b01 << 1, 0, Access.READ);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.pa()).isEqualTo(0x4000_0000_0000L | (VA & (g.span(3) - 1))));
    }

    /** 4K, T0SZ = 39: the start level is 2; TTBR.SKL = 2 would start at 4, a level 0 translation fault. */
    @org.junit.jupiter.api.Test
    void aTtbrSklPastLevel3IsATranslationFaultAtLevel0() {
        var regime = regime(39 | 1L << 23 | 0b101L << 32, table(0) | 0b10 << 1, 0, TCR2_D128);
        Translation t = new Mmu(regime, memory, new Tlb(16, 4)).translate(0x40_0000, Access.READ, 1);
        assertThat(t).isInstanceOfSatisfying(Translation.Fault.class, f -> {
            assertThat(f.type()).isEqualTo(FaultType.TRANSLATION);
            assertThat(f.level()).isEqualTo(0);
        });
    }

    /** 4K with T0SZ = 12 (52-bit VA): AArch64.S1StartLevel gives level -1 for 16-byte descriptors too. */
    @org.junit.jupiter.api.Test
    void a52BitVaStartsAtLevelMinus1() {
        long va = 0x000A_8040_6030_5000L;
        long[] tables = {table(-1), table(0), table(1), table(2), table(3)};
        for (int level = -1; level < 3; level++) {
            long index = va >>> (12 + 8 * (3 - level)) & 0xFF; // 8 bits a level; VA[51:44] at level -1
            write(tables[level + 1] + 16 * index, tableDescriptor(tables[level + 2], 0));
        }
        write(tables[4] + 16 * (va >>> 12 & 0xFF), leaf(0x7_0000_0000L, 3, true, 0));
        var regime = regime(12 | 1L << 23 | 0b101L << 32, tables[0], 0, TCR2_D128);
        assertThat(regime.lower().startLevel()).isEqualTo(-1);
        Translation t = new Mmu(regime, memory, new Tlb(16, 4)).translate(va, Access.READ, 1);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.pa()).isEqualTo(0x7_0000_0000L));
    }
}
