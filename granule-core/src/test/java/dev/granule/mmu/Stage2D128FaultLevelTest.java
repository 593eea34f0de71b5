package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.D128FaultFixture.Case;
import dev.granule.mmu.D128FaultFixture.Granule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.granule.mmu.D128FaultFixture.G16;
import static dev.granule.mmu.D128FaultFixture.G4;
import static dev.granule.mmu.D128FaultFixture.G64;
import static dev.granule.mmu.D128FaultFixture.RAM_END;
import static dev.granule.mmu.D128FaultFixture.SKIP_TABLE;
import static dev.granule.mmu.D128FaultFixture.table;
import static dev.granule.mmu.D128FaultFixture.tableDescriptor;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every VMSAv9-128 stage-2 fault kind at every level it can occur, for each granule on its deepest walk,
 * with values worked out by hand from the Arm ARM (AArch64.S2Translate, S2Walk, S2StartLevel,
 * S2TTBaseAddress, S2TTEntryAddress, NextTableBase, DecodeDescriptorType, S2CheckPermissions and the
 * "Stage 2 VMSAv9-128" descriptor tables D8-57/D8-59), not with the engine's encoder.
 *
 * <p>VTCR_EL2: T0SZ [5:0] = 8, a 56-bit IPA (AArch64.S2MinTxSZ with d128 on a 56-bit CPU), TG0 [15:14],
 * PS [18:16], S2POE [37], D128 [38]; SL0/SL2/DS are RES0 with D128. The start level is
 * 3 - (55 - granule bits) DIV (granule bits - 4): -2 for 4K, -1 for 16K, 0 for 64K, plus VTTBR_EL2.SKL
 * [2:1]; no concatenated tables. VTTBR_EL2 is 128 bits: BADDR[47:5] in [47:5], BADDR[55:48] in [87:80].
 * Descriptors: valid [0], MemAttr [5:2], Dirty [7], SH [9:8], AF [10], OA / next table [55:12], SKL
 * [110:109] (a leaf at level L has SKL = 3 - L), Contiguous [111], PIIndex [118:115], S2POIndex [124:121].
 * S2PIR_EL2: PIIndex 0 = 0b1100 (read/write), 1 = 0b1000 (read only), 2 = 0b0000 (none). The walk is
 * driven as stage 2 of an access (Stage2Walker), so every fault reports stage 2 and the IPA.
 */
class Stage2D128FaultLevelTest {

    static final long IPA = 0x00F6_9C2B_5E4D_7A88L;      // bit 55 set: the top of a 56-bit IPA
    static final long HIGH_ROOT = 0x0012_0000_0000_0000L; // BADDR[55:48] = 0x12: only a 128-bit VTTBR holds it
    static final long HCR_VM = 1;
    static final long D128 = 1L << 38, S2POE = 1L << 37, HA = 1L << 21, HD = 1L << 22;
    static final long S2PIR = 0xC | 0x8L << 4;
    static final long NORMAL_WB = 0xFL << 2, ISH = 3L << 8, AF = 1L << 10, DIRTY = 1L << 7;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, RAM_END), new MemoryRange(HIGH_ROOT, 1L << 20));
    final D128FaultFixture.Walk walk = new D128FaultFixture.Walk(memory, IPA, 56);

    @AfterEach
    void close() { memory.close(); }

    /** A Normal Write-Back, Inner Shareable leaf at {@code level} with PIIndex {@code pi}; AF and Dirty as asked. */
    static long[] leaf(long oa, int level, boolean af, boolean dirty, int pi) {
        return new long[]{oa | NORMAL_WB | ISH | (af ? AF : 0) | (dirty ? DIRTY : 0) | 1,
                (long) (3 - level) << (109 - 64) | (long) pi << (115 - 64)};
    }

    void write(long address, long[] descriptor) { walk.write(address, descriptor); }

    void chain(Granule g, int stop, long[] word) { walk.chain(g, stop, word); }

    static long vtcr(Granule g, int t0sz, int ps) {
        return t0sz | (long) g.tg0() << 14 | (long) ps << 16 | 3L << 12 | D128;
    }

    static Stage2Regime regime(long vtcr, long vttbr, long vttbrHigh) {
        var r = new Stage2Regime(HCR_VM, vtcr, vttbr, vttbrHigh, S2PIR, 0, CpuFeatures.ALL);
        assertThat(r.d128()).isTrue();
        return r;
    }

    Translation walk(Stage2Regime r, long ipa, Access access) {
        var walker = new Stage2Walker(r, memory);
        Stage2Walker.Mapped m = walker.walk(ipa, ipa, access, 1, false);
        if (m == null) return walker.fault();
        return new Translation.Translated(ipa, m.pa(), m.level(), m.span(), false, m.memAttr(), MemoryType.decode(0xFF),
                m.sh(), true, 0);
    }

    Translation walk(Granule g, int ps, long vttbr, long vttbrHigh, Access access) {
        return walk(regime(vtcr(g, 8, ps), vttbr, vttbrHigh), IPA, access);
    }

    /** The cases both stages have, and a write to a clean (Dirty = 0) read/write leaf at each leaf level. */
    static List<Arguments> cases() {
        return D128FaultFixture.faultCases((oa, level, af, pi) -> leaf(oa, level, af, true, pi), "VTTBR",
                (g, level, oa, root) -> List.of(new Case("write to a clean (Dirty = 0) read/write leaf at level " + level,
                        g, FaultType.PERMISSION, level, level, leaf(oa, level, true, false, 0), root, 0, Access.WRITE)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void faultsAtTheLevelTheArchitectureNames(Case c) {
        chain(c.g(), c.stop(), c.word());
        Translation t = walk(c.g(), 0b101, c.base(), c.baseHigh(), c.access());
        assertThat(t).isInstanceOfSatisfying(Translation.Fault.class, f -> {
            assertThat(f.type()).as("%s: %s", c, f).isEqualTo(c.type());
            assertThat(f.level()).as("%s: %s", c, f).isEqualTo(c.level());
            assertThat(f.stage()).isEqualTo(2);
            assertThat(f.ipa()).isEqualTo(IPA);
        });
    }

    @ParameterizedTest(name = "{0} leaf at level {1}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#leaves")
    void leavesWithAfAndAWritableIndexTranslate(Granule g, int level) {
        long oa = 0x4000_0000_0000L & -g.span(level);
        chain(g, level, leaf(oa, level, true, true, 0));
        Translation t = walk(g, 0b101, table(g.startLevel()), 0, Access.WRITE);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class, ok -> {
            assertThat(ok.pa()).isEqualTo(oa | (IPA & (g.span(level) - 1)));
            assertThat(ok.level()).isEqualTo(level);
            assertThat(ok.leafSize()).isEqualTo(g.span(level));
            assertThat(ok.mairAttr()).as("MemAttr [5:2]").isEqualTo(0xF);
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#granules")
    void aFiftySixBitOutputAddressUnderPs56(Granule g) {
        long oa = 0x00AB_CDEF_0000_0000L;  // OA[55:48] = 0xAB
        chain(g, 3, leaf(oa, 3, true, true, 0));
        assertThat(walk(g, 0b111, table(g.startLevel()), 0, Access.READ)).isInstanceOfSatisfying(
                Translation.Translated.class, ok -> assertThat(ok.pa()).isEqualTo(oa | (IPA & (g.span(3) - 1))));
        assertThat(walk(g, 0b110, table(g.startLevel()), 0, Access.READ)).isInstanceOfSatisfying(
                Translation.Fault.class, f -> {
                    assertThat(f.type()).isEqualTo(FaultType.ADDRESS_SIZE);
                    assertThat(f.level()).isEqualTo(3);
                });
    }

    /** BADDR[55:48] from VTTBR_EL2[87:80]: a root table above 2^48 under PS = 56 bits. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#granules")
    void aRootTableAboveTwoToThe48(Granule g) {
        long root = HIGH_ROOT;
        write(root + 16 * g.index(IPA, 56, g.startLevel()), tableDescriptor(table(g.startLevel() + 1), 0));
        walk.chain(g, g.startLevel() + 1, 3, leaf(0x7_0000_0000L & -g.span(3), 3, true, true, 0));
        Translation t = walk(g, 0b111, root & 0x0000_FFFF_FFFF_FFFFL, (root >>> 48) << 16, Access.READ);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.pa()).isEqualTo((0x7_0000_0000L & -g.span(3)) | (IPA & (g.span(3) - 1))));
    }

    /** A table with SKL = 1 points at one table resolving two strides (AArch64.S2TTEntryAddress, nstride = 2). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#granules")
    void aTableWithSkl1SkipsALevel(Granule g) {
        int leafLevel = g.startLevel() + 2;
        long oa = 0x4000_0000_0000L & -g.span(leafLevel);
        walk.skipOneLevelTo(g, leaf(oa, leafLevel, true, true, 0));
        Translation t = walk(g, 0b101, table(g.startLevel()), 0, Access.READ);
        assertThat(t).isInstanceOfSatisfying(Translation.Translated.class, ok -> {
            assertThat(ok.level()).isEqualTo(leafLevel);
            assertThat(ok.pa()).isEqualTo(oa | (IPA & (g.span(leafLevel) - 1)));
        });
    }

    /** VTTBR_EL2.SKL = 1: the walk starts a level lower, in one table holding every IPA bit above it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.granule.mmu.D128FaultFixture#granules")
    void vttbrSkl1StartsOneLevelLower(Granule g) {
        int start = g.startLevel() + 1;
        walk.startOneLevelLowerTo(g, leaf(0x4000_0000_0000L, 3, true, true, 0));
        var r = regime(vtcr(g, 8, 0b101), SKIP_TABLE | 0b01 << 1, 0);
        assertThat(r.startLevel()).isEqualTo(start);
        assertThat(walk(r, IPA, Access.READ)).isInstanceOfSatisfying(Translation.Translated.class,
                ok -> assertThat(ok.pa()).isEqualTo(0x4000_0000_0000L | (IPA & (g.span(3) - 1))));
    }

    /** 4K, T0SZ = 39: the start level is 2; VTTBR_EL2.SKL = 2 would start at 4, a level 0 translation fault. */
    @Test
    void aVttbrSklPastLevel3IsATranslationFaultAtLevel0() {
        var r = regime(vtcr(G4, 39, 0b101), table(0) | 0b10 << 1, 0);
        assertLevel0Translation(walk(r, 0x40_0000, Access.READ));
    }

    /** AArch64.S2TxSZFaults: T0SZ 7 is below S2MinTxSZ (8 with d128 on a 56-bit CPU), which has FEAT_LPA. */
    @Test
    void aT0szBelowTheMinimumIsATranslationFaultAtLevel0() {
        chain(G4, 3, leaf(0x4000_0000_0000L, 3, true, true, 0));
        assertLevel0Translation(walk(regime(vtcr(G4, 7, 0b101), table(-2), 0), IPA, Access.READ));
    }

    /** AArch64.IPAIsOutOfRange: with T0SZ = 16 (48-bit IPA) IPA bit 50 faults at level 0 before any read. */
    @Test
    void anIpaBeyondTheIpaSizeIsATranslationFaultAtLevel0() {
        assertLevel0Translation(walk(regime(vtcr(G4, 16, 0b101), table(-1), 0), 1L << 50, Access.READ));
    }

    /**
     * D128 ignores SL0 and SL2 (RES0): an SL0 that the 64-bit format rejects (AArch64.S2InvalidSL, 0b11 for
     * 64K) changes nothing, and the 4K start level with T0SZ = 16 is -1 (3 - 35 DIV 8), not SL0's.
     */
    @Test
    void sl0IsIgnored() {
        assertThat(regime(vtcr(G64, 8, 0b101) | 0b11 << 6, table(0), 0).invalidReason()).isNull();
        assertThat(regime(vtcr(G4, 16, 0b101) | 0b10 << 6, table(-1), 0).startLevel()).isEqualTo(-1);
        assertThat(regime(vtcr(G16, 17, 0b101), table(0), 0).startLevel()).isEqualTo(0);
        assertThat(regime(vtcr(G64, 22, 0b101), table(1), 0).startLevel()).isEqualTo(1);
        // Without FEAT_D128 bit 38 is RES0: the 64-bit format, SL0 = 0 starting 4K at level 2.
        var noD128 = new CpuFeatures(CpuFeatures.ALL.idAa64mmfr0(), CpuFeatures.ALL.idAa64mmfr2(),
                CpuFeatures.ALL.idAa64mmfr3() & ~(0xFL << 32));
        var r64 = new Stage2Regime(HCR_VM, vtcr(G4, 34, 0b101), table(2), 0, S2PIR, 0, noD128);
        assertThat(r64.d128()).isFalse();
        assertThat(r64.startLevel()).isEqualTo(2);
    }

    static void assertLevel0Translation(Translation t) {
        assertThat(t).isInstanceOfSatisfying(Translation.Fault.class, f -> {
            assertThat(f.type()).as(f.toString()).isEqualTo(FaultType.TRANSLATION);
            assertThat(f.level()).isEqualTo(0);
            assertThat(f.stage()).isEqualTo(2);
        });
    }
}
