package dev.granule.mmu;

import dev.granule.format.AccessPermission;
import dev.granule.format.Attributes;
import dev.granule.format.Shareability;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.VaRange;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;

import static dev.granule.mmu.D128EquivalenceTest.Map;
import static dev.granule.mmu.D128EquivalenceTest.assertAgree;
import static dev.granule.mmu.D128EquivalenceTest.vas;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same random stage-2 mappings built as VMSAv8-64 tables under VTCR_EL2.S2PIE and as VMSAv9-128
 * tables under VTCR_EL2.D128 (whose S2PIE is always 1), with the same S2PIR_EL2, S2POR_EL1 (S2POE on or
 * off), VTCR_EL2.HA/HD and VMID, translate every probed VA alike in two stages, under a VMSAv8-64 and
 * under a VMSAv9-128 stage 1 (an identity map of the first 8 GiB whose own tables are read through
 * stage 2): both walks and both TLB hits give the same output address, combined memory attribute and
 * shareability, or faults of the same kind, stage and S1PTW. The engine writes the typed attributes in
 * both layouts so that a stage-2 leaf means the same in each: PIIndex is UXN:PXN:DBM:AP[1] (bits
 * [54:53]:[51]:[6] of a 64-bit leaf, [118:115] of a 128-bit one), Dirty is AP[2]'s bit 7, MemAttr [5:2]
 * is AttrIndx (NS and AttrIndx[3] are 0), SH [9:8] and AF [10] are where they are in both.
 *
 * <p>Not compared, different by design: leaf and fault levels, leaf sizes (a 16-byte descriptor halves a
 * table's entries) and the Contiguous runs' lengths. The stage-2 IPA sizes are those whose start level
 * needs no concatenated tables at 64 bits (the engine builds none): 48 bits for 4K (SL0 = 0b10, level 0)
 * and 64K (level 1), 47 bits for 16K (level 1).
 */
class Stage2D128EquivalenceTest {

    static final long GIB = 1L << 30;
    static final long S1_FRAMES = 1L << 36, S2_FRAMES = 1L << 37;
    static final long HCR_VM = 1;
    static final long S2PIE = 1L << 36, S2POE = 1L << 37, D128 = 1L << 38, HA = 1L << 21, HD = 1L << 22;
    static final long TCR = 16 | 0b101L << 32 | 1L << 23;  // stage 1: T0SZ 16, 4K, IPS 48 bits, EPD1
    // Stage 1 PIR/PIRE0: PIIndex 0 is EL1 read/write/execute, EL0 nothing; PIIndex 1 EL1 read/write, EL0 all.
    static final long PIR = 0b0111 | 0b0101L << 4, PIRE0 = 0b0111L << 4;

    @Property(tries = 40)
    void s2pieAndD128Stage2TranslateAlike(@ForAll("granules") Granule granule, @ForAll("mappings") List<Map> mappings,
                                          @ForAll("registers") long[] regs, @ForAll("probes") List<Long> probes) {
        long s2pir = regs[0] | 0x8;  // PIIndex 0 (the stage-1 tables' mapping) can be read: 0b1xxx
        long s2por = regs[1] | 0x8;  // so can S2POIndex 0, every leaf's
        long bits = regs[2];
        long vtcrBits = ((bits & 1) != 0 ? S2POE : 0) | ((bits & 2) != 0 ? HA : 0) | ((bits & 4) != 0 ? HD : 0);
        long vmid = bits >>> 8 & 0xFF;
        AccessPermission s1Rights = (bits & 16) != 0 ? AccessPermission.READ_WRITE : AccessPermission.PRIVILEGED_READ_WRITE;
        int ipaBits = granule == Granule.SIXTEEN_K ? 47 : 48;
        for (boolean s1d128 : new boolean[]{false, true}) {
            try (SparseMemory m64 = SparseMemory.of(new MemoryRange(0, 1L << 40));
                 SparseMemory m128 = SparseMemory.of(new MemoryRange(0, 1L << 40))) {
                long s1root64 = stage1(s1d128, m64, s1Rights), s1root128 = stage1(s1d128, m128, s1Rights);
                long s2root64 = stage2(Geometry.of(granule, TranslationFormat.D64, ipaBits, 48), m64, mappings);
                long s2root128 = stage2(Geometry.of(granule, TranslationFormat.D128, ipaBits, 48), m128, mappings);
                long vtcr = (64 - ipaBits) | 0b10L << 6 | 3L << 12 | (long) granule.tg0() << 14 | 0b101L << 16 | vtcrBits;
                var s2d64 = new Stage2Regime(HCR_VM, vtcr | S2PIE, s2root64 | vmid << 48, 0, s2pir, s2por, CpuFeatures.ALL);
                var s2d128 = new Stage2Regime(HCR_VM, vtcr | D128, s2root128 | vmid << 48, 0, s2pir, s2por, CpuFeatures.ALL);
                assertThat(s2d64.d128()).isFalse();
                assertThat(s2d64.invalidReason()).isNull();
                assertThat(s2d128.d128()).isTrue();
                Mmu a = new Mmu(stage1Regime(s1d128, s1root64), s2d64, m64, new Tlb(64, 4));
                Mmu b = new Mmu(stage1Regime(s1d128, s1root128), s2d128, m128, new Tlb(64, 4));
                // The two differ in stage 2's format only.
                assertAgree(a, b, vas(mappings, probes), "stage 1 " + (s1d128 ? "d128" : "d64") + ", stage 2 compared: ",
                        Stage2D128EquivalenceTest::assertSame);
            }
        }
    }

    /** As at stage 1 ({@link D128EquivalenceTest#assertSame}), and a fault's stage and S1PTW as well. */
    static void assertSame(Translation a, Translation b, String what) {
        D128EquivalenceTest.assertSame(a, b, what);
        if (a instanceof Translation.Fault f && b instanceof Translation.Fault g) {
            assertThat(g.stage()).as(what).isEqualTo(f.stage());
            assertThat(g.s1ptw()).as(what).isEqualTo(f.s1ptw());
        }
    }

    /** Stage 1's regime: TTBR0 at its root (an IPA), MAIR attribute 0 Normal Write-Back. */
    static TranslationRegime stage1Regime(boolean d128, long root) {
        if (!d128) return new TranslationRegime(new Registers(TCR, root, 0, 0xFF, 1, false), CpuFeatures.ALL);
        return new TranslationRegime(new Registers(TCR, root, 0, 0xFF, 1, false, 0, 0, 0),
                new PermissionRegisters(IndirectPermissions.TCR2_D128, PIR, PIRE0, 0, 0), CpuFeatures.ALL);
    }

    /** Stage 1 maps VA [0, 8 GiB) to the same IPAs; its tables are in S1_FRAMES, which stage 2 maps flat. */
    static long stage1(boolean d128, SparseMemory memory, AccessPermission rights) {
        Geometry g = Geometry.of(Granule.FOUR_K, d128 ? TranslationFormat.D128 : TranslationFormat.D64, 48, 48);
        var frames = FrameAllocator.over(memory, g.fullTableBytes(), new MemoryRange(S1_FRAMES, GIB));
        var space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
        space.map(0, 0, 8 * GIB, new Attributes(0, rights, Shareability.INNER_SHAREABLE, true, false, false, false,
                false, false, false, 0));
        return space.root();
    }

    static long stage2(Geometry g, SparseMemory memory, List<Map> mappings) {
        var frames = FrameAllocator.over(memory, g.fullTableBytes(), new MemoryRange(S2_FRAMES, GIB));
        var space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
        for (Map m : mappings) space.map(m.slot() * GIB + m.offset(), m.pa(), m.size(), m.attributes());
        // The stage-1 tables' IPAs, flat: PIIndex 0 (no XN, DBM or AP[1]), AF, Normal (MemAttr 0b0111).
        space.map(S1_FRAMES, S1_FRAMES, GIB, new Attributes(7, AccessPermission.PRIVILEGED_READ_WRITE,
                Shareability.INNER_SHAREABLE, true, false, false, false, false, false, false, 0));
        return space.root();
    }

    @Provide
    Arbitrary<Granule> granules() { return Arbitraries.of(Granule.values()); }

    @Provide
    Arbitrary<long[]> registers() { return Arbitraries.longs().array(long[].class).ofSize(3); }

    // D128EquivalenceTest's generators: up to six mappings in 1 GiB slots of the first 8 GiB, with any
    // AttrIndx (MemAttr[2:0] here), AP (Dirty and PIIndex bit 0), SH, AF, DBM, PXN, UXN; probes mostly there.
    @Provide
    Arbitrary<List<Long>> probes() { return new D128EquivalenceTest().probes(); }

    @Provide
    Arbitrary<List<Map>> mappings() { return new D128EquivalenceTest().mappings(); }
}
