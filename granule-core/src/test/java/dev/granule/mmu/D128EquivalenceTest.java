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
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same mappings built as VMSAv8-64 tables with TCR2_EL1.PIE and as VMSAv9-128 tables (whose
 * permission indirection is always on), under the same TCR_EL1 (4K, 16K or 64K granule, 48-bit VA
 * and PA), PIR_EL1, PIRE0_EL1, MAIR_EL1, SCTLR_EL1.WXN and PSTATE.PAN, translate every probed VA
 * alike: both walks and both TLB hits give the same output address, MAIR attribute, shareability
 * and nG, or faults of the same kind. The engine stores a leaf's direct permissions as the
 * architecture reinterprets them under PIE (PIIndex = UXN:PXN:DBM:AP[1], nDirty = AP[2]) in both
 * formats, so the rights must agree.
 *
 * <p>What differs by design and is not compared: the leaf level and size (a 128-bit descriptor
 * halves a table's entries, so 4K blocks are 1 MiB / 256 MiB / 64 GiB instead of 2 MiB / 1 GiB and
 * a 48-bit VA starts at level -1), the Contiguous hint's run lengths, and the level of a fault.
 */
class D128EquivalenceTest {

    static final long GIB = 1L << 30;

    record Map(int slot, long offset, long pa, long size, Attributes attributes) {}

    @Property(tries = 60)
    void d64WithPieAndD128TranslateAlike(@ForAll("granules") Granule granule, @ForAll("mappings") List<Map> mappings,
                                         @ForAll("registers") long[] regs, @ForAll("probes") List<Long> probes) {
        long pir = regs[0], pire0 = regs[1], mair = regs[2];
        boolean wxn = (regs[3] & 1) != 0, pan = (regs[3] & 2) != 0;
        int asid = (int) (regs[3] >>> 8 & 0xFF);
        long tcr = 16 | (long) switch (granule) {
            case FOUR_K -> 0b00;
            case SIXTEEN_K -> 0b10;
            case SIXTY_FOUR_K -> 0b01;
        } << 14 | 0b101L << 32 | 1L << 23;  // T0SZ 16, TG0, IPS 48 bits, EPD1
        try (SparseMemory m64 = SparseMemory.of(new MemoryRange(0, 1L << 40));
             SparseMemory m128 = SparseMemory.of(new MemoryRange(0, 1L << 40))) {
            long root64 = build(Geometry.of(granule, TranslationFormat.D64, 48, 48), m64, mappings);
            long root128 = build(Geometry.of(granule, TranslationFormat.D128, 48, 48), m128, mappings);
            long sctlr = 1 | (wxn ? 1L << 19 : 0);
            var d64 = new TranslationRegime(new Registers(tcr, root64 | (long) asid << 48, 0, mair, sctlr, pan),
                    new PermissionRegisters(IndirectPermissions.TCR2_PIE, pir, pire0, 0, 0), CpuFeatures.ALL);
            var d128 = new TranslationRegime(new Registers(tcr, root128 | (long) asid << 48, 0, mair, sctlr, pan),
                    new PermissionRegisters(IndirectPermissions.TCR2_D128, pir, pire0, 0, 0), CpuFeatures.ALL);
            assertThat(d128.d128()).isTrue();
            assertThat(d64.d128()).isFalse();
            Mmu mmu64 = new Mmu(d64, m64, new Tlb(64, 4));
            Mmu mmu128 = new Mmu(d128, m128, new Tlb(64, 4));
            assertAgree(mmu64, mmu128, vas(mappings, probes), "", D128EquivalenceTest::assertSame);
        }
    }

    /**
     * The two MMUs agree on every VA at EL0 and EL1 for every access, twice (the first walks and fills the
     * TLB, the second may hit): the translations by {@code same}, the hot path's output addresses exactly.
     */
    static void assertAgree(Mmu d64, Mmu d128, List<Long> vas, String context, Comparison same) {
        for (long va : vas) {
            for (int el = 0; el <= 1; el++) {
                for (Access access : Access.values()) {
                    for (int round = 0; round < 2; round++) {
                        Translation a = d64.translate(va, access, el);
                        Translation b = d128.translate(va, access, el);
                        String what = String.format("%sVA 0x%x %s EL%d round %d: d64 %s / d128 %s", context, va, access,
                                el, round, a, b);
                        same.check(a, b, what);
                        long pa = d128.outputAddress(va, access, el);
                        assertThat(pa).as(what).isEqualTo(d64.outputAddress(va, access, el));
                    }
                }
            }
        }
    }

    /** How two translations must agree. */
    interface Comparison {
        void check(Translation a, Translation b, String what);
    }

    static void assertSame(Translation a, Translation b, String what) {
        switch (a) {
            case Translation.Translated x -> assertThat(b).as(what).isInstanceOfSatisfying(Translation.Translated.class, y -> {
                assertThat(y.pa()).as(what).isEqualTo(x.pa());
                assertThat(y.mairAttr()).as(what).isEqualTo(x.mairAttr());
                assertThat(y.shareability()).as(what).isEqualTo(x.shareability());
                assertThat(y.global()).as(what).isEqualTo(x.global());
                assertThat(y.asid()).as(what).isEqualTo(x.asid());
            });
            case Translation.Fault f -> assertThat(b).as(what).isInstanceOfSatisfying(Translation.Fault.class,
                    g -> assertThat(g.type()).as(what).isEqualTo(f.type()));
        }
    }

    /** Every mapping's first and last byte and its middle, then the random probes. */
    static List<Long> vas(List<Map> mappings, List<Long> probes) {
        List<Long> out = new ArrayList<>();
        for (Map m : mappings) {
            long va = m.slot() * GIB + m.offset();
            out.add(va);
            out.add(va + m.size() - 1);
            out.add(va + m.size() / 2);
            out.add(va + m.size());  // just past it: unmapped, or the next mapping
        }
        out.addAll(probes);
        return out;
    }

    static long build(Geometry g, SparseMemory memory, List<Map> mappings) {
        var frames = FrameAllocator.over(memory, g.fullTableBytes(), new MemoryRange(1L << 36, 1L << 30));
        var space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
        for (Map m : mappings) space.map(m.slot() * GIB + m.offset(), m.pa(), m.size(), m.attributes());
        return space.root();
    }

    @Provide
    Arbitrary<Granule> granules() { return Arbitraries.of(Granule.values()); }

    @Provide
    Arbitrary<long[]> registers() {
        return Arbitraries.longs().array(long[].class).ofSize(4);
    }

    @Provide
    Arbitrary<List<Long>> probes() {
        // Random VAs in the 48-bit TTBR0 range, most of them in the first slots where the mappings are.
        return Arbitraries.oneOf(Arbitraries.longs().between(0, 8 * GIB - 1), Arbitraries.longs().between(0, (1L << 48) - 1))
                .list().ofMaxSize(24);
    }

    /** Up to six mappings, each in its own 1 GiB slot: 64 KiB-aligned (or 2 MiB-aligned, so blocks form). */
    @Provide
    Arbitrary<List<Map>> mappings() {
        Arbitrary<Long> size = Arbitraries.of(64L << 10, 128L << 10, 1L << 20, 2L << 20, 6L << 20, 32L << 20, 512L << 20);
        Arbitrary<Boolean> blockAligned = Arbitraries.of(true, false);
        Arbitrary<Map> one = Combinators.combine(Arbitraries.integers().between(0, 7), blockAligned,
                Arbitraries.longs().between(0, 255), Arbitraries.longs().between(0, 1L << 14), size, attributes())
                .as((slot, aligned, offset, pa, sz, attrs) -> {
                    long align = aligned ? 32L << 20 : 64L << 10;   // 32 MiB: aligned for 1/2 MiB blocks and runs
                    long off = Math.min(offset * align, GIB - sz) & -align;
                    return new Map(slot, off, pa * align % (1L << 40) & -align, sz, attrs);
                });
        return one.list().ofMinSize(1).ofMaxSize(6).uniqueElements(Map::slot);
    }

    Arbitrary<Attributes> attributes() {
        return Combinators.combine(Arbitraries.integers().between(0, 7), Arbitraries.of(AccessPermission.values()),
                Arbitraries.of(Shareability.values()), Arbitraries.integers().between(0, 15))
                .as((attrIndex, ap, sh, bits) -> new Attributes(attrIndex, ap, sh, (bits & 1) != 0 || (bits & 6) != 0,
                        (bits & 2) != 0, false, (bits & 4) != 0, (bits & 8) != 0, (bits & 3) == 3, false, 0));
    }
}
