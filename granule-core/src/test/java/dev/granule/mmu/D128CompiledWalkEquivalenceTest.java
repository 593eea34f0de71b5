package dev.granule.mmu;

import dev.granule.format.Descriptor;
import dev.granule.format.Vmsa128Format;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.LeafWalk128;
import dev.granule.table.Slot;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The VMSAv9-128 walk compiled per geometry and start level ({@link LeafWalk128}) against the
 * reference descent {@link D128Walk} over random raw 128-bit descriptors: for every probed VA, where
 * the reference reaches a leaf the compiled walk reports the same leaf (both words, level, address,
 * Contiguous in effect), and where the reference faults the compiled walk answers 0 (so the MMU
 * walks again with the reference to name the fault and its level).
 *
 * <p>The tables are written word by word from the Arm ARM's VMSAv9-128 layout, not with the
 * engine's encoder: valid [0], OA / next-level table address [55:12], SKL [110:109], Contiguous
 * [111], DisCH [112], every other bit random (junk below a table's alignment and above bit 55
 * included, which both walks must ignore). Each table gets a few random entries: invalid ones,
 * tables (skip-level ones with SKL 1..3, tables outside RAM or beyond the PA limit, tables shared
 * with another level), leaves at every level (blocks and pages, Contiguous or not, output
 * addresses beyond the PA limit), and descriptors whose level + SKL is beyond 3 or whose SKL is 3
 * with 16K or 64K. Every granule, VA size 25..56 bits (start levels -2..3), TTBR.SKL, DisCH,
 * PA limits 40..56 bits, one or two RAM ranges. The statistics' coverage checks that leaves and
 * every fault kind occur at every level.
 */
class D128CompiledWalkEquivalenceTest {

    static final long ADDRESS_55_0 = (1L << 56) - 1;
    static final int SKL_SHIFT_HI = 109 - 64;
    static final long CONTIGUOUS_HI = 1L << (111 - 64);
    static final long DISCH_HI = 1L << (112 - 64);
    // RAM: one range [0, 4 TiB), or two with a hole [1 TiB, 2 TiB); tables go below 1 TiB (within
    // every PA limit tried).
    static final long TABLE_SPACE = 1L << 40;
    static final long HOLE_END = 1L << 41;
    static final long RAM_END = 1L << 42;

    @Property(tries = 400)
    void compiledWalkAnswersAsTheReferenceDescent(@ForAll("granules") Granule granule,
                                                  @ForAll("vaBits") int vaBits,
                                                  @ForAll("ttbrSkl") int ttbrSkl,
                                                  @ForAll boolean disableContiguous,
                                                  @ForAll("paBits") int paBits,
                                                  @ForAll boolean twoRanges,
                                                  @ForAll long seed) {
        Geometry g = Geometry.of(granule, TranslationFormat.D128, vaBits, 56);
        int skl = Math.min(ttbrSkl, 3 - g.startLevel());
        long paLimit = paBits == 64 ? -1L : (1L << paBits) - 1;
        List<MemoryRange> ranges = twoRanges
                ? List.of(new MemoryRange(0, TABLE_SPACE), new MemoryRange(HOLE_END, RAM_END - HOLE_END))
                : List.of(new MemoryRange(0, RAM_END));
        try (SparseMemory memory = SparseMemory.of(ranges)) {
            var tables = new RandomTables(new Random(seed), memory, g, twoRanges);
            int start = g.startLevel() + skl;
            int rootBits = vaBits - g.shift(start);
            long root = tables.allocate(rootBits);
            tables.fill(root, start, rootBits, 0, RandomTables.DEPTH);
            tables.randomProbes(vaBits, 8);

            var half = new TranslationRegime.Half(g, new Vmsa128Format(g), root, false, false, false, skl,
                    disableContiguous);
            assertThat(half.startLevel()).isEqualTo(start);
            var reference = new D128Walk(memory, null, false);
            var slot = new Slot(memory, 4);
            var d = new Descriptor();
            // The MMU makes no compiled walk for a TTBR beyond the PA limit (the walk faults before any
            // read): that fault is the reference's alone, and counts as an answer of 0 here.
            LeafWalk128 compiled = Long.compareUnsigned(root, paLimit) > 0 ? null
                    : LeafWalk128.compiled(half.format(), memory, root, paLimit, start, disableContiguous);
            for (long va : tables.probes) {
                int level = reference.descend(va, half, paLimit, slot, d, 1);
                long lo = compiled == null ? 0 : compiled.leaf(va);
                String what = String.format("%s, start level %d, PA limit %#x, VA %#x", g.label(), start, paLimit, va);
                if (level == D128Walk.FAULTED) {
                    Translation.Fault f = reference.fault();
                    Statistics.label("outcome").collect(f.type() + " " + f.level());
                    assertThat(lo).as(what + ": the reference faults (" + f + ")").isZero();
                } else {
                    Statistics.label("outcome").collect("leaf " + level + (reference.contiguous() ? " contiguous" : ""));
                    assertThat(lo).as(what + ": low word").isEqualTo(d.lo());
                    assertThat(compiled.high()).as(what + ": high word").isEqualTo(d.hi());
                    assertThat(compiled.level()).as(what + ": level").isEqualTo(level);
                    assertThat(compiled.leafAddress()).as(what + ": leaf address").isEqualTo(slot.address());
                    assertThat(compiled.contiguous()).as(what + ": Contiguous").isEqualTo(reference.contiguous());
                }
            }
        }
        Statistics.label("outcome").coverage(c -> {
            for (int level = -2; level <= 3; level++) c.check("TRANSLATION " + level).count(n -> n > 0);
            for (int level = -1; level <= 3; level++) {
                c.check("EXTERNAL_ABORT_ON_WALK " + level).count(n -> n > 0);
                c.check("ADDRESS_SIZE " + level).count(n -> n > 0);
            }
            for (int level = 0; level <= 3; level++) c.check("leaf " + level).count(n -> n > 0);
            for (int level = 1; level <= 3; level++) c.check("leaf " + level + " contiguous").count(n -> n > 0);
        });
    }

    /** Random VMSAv9-128 tables written word by word, and the VAs that reach their entries. */
    static final class RandomTables {
        final Random r;
        final SparseMemory memory;
        final Geometry g;
        static final int DEPTH = 4;
        final boolean hole;
        final List<Long> probes = new ArrayList<>();
        final List<Long> allocated = new ArrayList<>();

        RandomTables(Random r, SparseMemory memory, Geometry g, boolean hole) {
            this.r = r;
            this.memory = memory;
            this.g = g;
            this.hole = hole;
        }

        /** A table resolving {@code bits} VA bits, aligned to its size (AArch64.NextTableBase), in RAM. */
        long allocate(int bits) {
            long size = Math.max(1L << (bits + 4), 64);
            long slots = Math.max(1, TABLE_SPACE / size);
            long table = r.nextLong(slots) * size;
            allocated.add(table);
            return table;
        }

        void write(long address, long lo, long hi) {
            memory.writeLong(address, lo);
            memory.writeLong(address + 8, hi);
        }

        /** A few random entries of the table at {@code level}, recursing into new tables. */
        void fill(long table, int level, int bits, long vaPrefix, int depth) {
            int shift = g.shift(level);
            // More entries in the start-level table, where the lowest levels' faults come from.
            int entries = depth == DEPTH ? 4 + r.nextInt(6) : 1 + r.nextInt(6);
            for (int e = 0; e < entries; e++) {
                // Entries below TABLE_SPACE: a table larger than it (a 64K start table under TTBR.SKL) is at 0.
                long index = r.nextLong(Math.min(1L << bits, (TABLE_SPACE - table) >>> 4));
                long address = table + (index << 4);
                long va = vaPrefix | index << shift;
                probe(va, shift);
                long hiJunk = r.nextLong() & ~(3L << SKL_SHIFT_HI);
                int kind = r.nextInt(10);
                if (kind == 0) {
                    write(address, r.nextLong() & ~1L, r.nextLong()); // invalid: bit 0 clear, anything else
                } else if (kind <= 4 && level < 3 && depth > 0) {
                    table(address, level, va, hiJunk, depth);
                } else if (kind <= 8) {
                    leaf(address, level, va, shift, hiJunk);
                } else {
                    // SKL too large for the level (level + SKL > 3), or SKL 3 where the granule has none.
                    int skl = level == 3 ? 1 + r.nextInt(3) : Math.min(3, 4 - level + r.nextInt(2));
                    if (level < 1) skl = 3;
                    write(address, r.nextLong() | 1, hiJunk | (long) skl << SKL_SHIFT_HI);
                }
            }
        }

        void table(long address, int level, long va, long hiJunk, int depth) {
            int maxSkl = Math.min(2 - level, g.granule() == Granule.FOUR_K ? 3 : 2);
            // Half of them skip no level, so that every level's table is walked often.
            int skl = r.nextBoolean() ? 0 : r.nextInt(maxSkl + 1);
            int next = level + 1 + skl;
            int nextBits = g.bitsPerLevel() * (skl + 1);
            long alignment = 1L << (nextBits + 4);
            // Junk the walk must ignore: above bit 55, address bits below the table's alignment, bits [11:1].
            long junk = (r.nextLong() & ~ADDRESS_55_0) | (r.nextLong() & (alignment - 1) & ~0xFFFL) | (r.nextLong() & 0xFFE);
            long hi = hiJunk & ~DISCH_HI | (r.nextBoolean() ? DISCH_HI : 0) | (long) skl << SKL_SHIFT_HI;
            int where = r.nextInt(10);
            if (where <= 2) {
                // Outside RAM: the two-range hole, or above the RAM's end (within or beyond the PA limit).
                long outside = hole && r.nextBoolean() ? TABLE_SPACE + r.nextLong(HOLE_END - TABLE_SPACE)
                        : RAM_END + r.nextLong(RAM_END);
                write(address, (outside & -alignment) | junk | 1, hi);
            } else if (where == 3) {
                // Beyond the PA limit (where the limit leaves room in the 56-bit field).
                int bit = 40 + r.nextInt(16);
                write(address, (1L << bit | allocated.getLast()) & -alignment | junk | 1, hi);
            } else if (where == 4) {
                // An existing table, walked again at another level.
                write(address, allocated.get(r.nextInt(allocated.size())) & -alignment | junk | 1, hi);
            } else {
                long child = allocate(nextBits);
                write(address, child | junk | 1, hi);
                fill(child, next, nextBits, va, depth - 1);
            }
        }

        void leaf(long address, int level, long va, int shift, long hiJunk) {
            // SKL = 3 - level makes it a leaf (a fault where that SKL does not exist: level 0 with 16K/64K,
            // levels below 0).
            int skl = Math.max(0, Math.min(3, 3 - level));
            int width = shift + r.nextInt(57 - shift);
            long oa = r.nextLong() & ((1L << width) - 1) & ADDRESS_55_0;
            long lo = oa | (r.nextLong() & ~ADDRESS_55_0) | (r.nextLong() & 0xFFE) | 1;
            long hi = hiJunk & ~CONTIGUOUS_HI | (r.nextBoolean() ? CONTIGUOUS_HI : 0) | (long) skl << SKL_SHIFT_HI;
            write(address, lo, hi);
            // The other entries of a Contiguous run.
            int run = g.contiguousEntries(level);
            if (run > 1 && r.nextBoolean()) probe(va ^ (long) r.nextInt(run) << shift, shift);
        }

        /** The entry's first byte and a random byte in it. */
        void probe(long va, int shift) {
            probes.add(va);
            probes.add(va | r.nextLong(1L << shift));
        }

        void randomProbes(int vaBits, int n) {
            for (int i = 0; i < n; i++) probes.add(r.nextLong() & ((1L << vaBits) - 1));
        }
    }

    @Provide
    Arbitrary<Granule> granules() { return Arbitraries.of(Granule.values()); }

    /** Every VA size, often above 48 and 52 bits, where 4K and 16K start at levels -1 and -2. */
    @Provide
    Arbitrary<Integer> vaBits() {
        return Arbitraries.oneOf(Arbitraries.integers().between(25, 56), Arbitraries.integers().between(49, 56),
                Arbitraries.integers().between(53, 56));
    }

    /** TTBR.SKL: mostly 0, so that the lowest start levels are walked often. */
    @Provide
    Arbitrary<Integer> ttbrSkl() {
        return Arbitraries.frequency(Tuple.of(6, 0), Tuple.of(1, 1),
                Tuple.of(1, 2), Tuple.of(1, 3));
    }

    @Provide
    Arbitrary<Integer> paBits() { return Arbitraries.of(40, 42, 44, 48, 52, 56, 64); }
}
