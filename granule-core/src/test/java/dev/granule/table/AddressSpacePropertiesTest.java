package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.DescriptorKind;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.SparseMemory;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After any sequence of map / unmap / protect / collapse, the tables mean exactly what a plain
 * reference model (a map from unit-sized pieces of VA to PA and attributes) says, their structure
 * is legal (contiguous runs agree, no empty tables are kept), and an edit that fails changes no
 * byte of memory and no allocator state.
 *
 * <p>Edits are multiples of a "unit" drawn from the geometry's own leaf and run sizes so that
 * blocks, contiguous runs, splits and merges all happen in a small window.
 *
 * <p>The same properties run over every format through the one engine: VMSAv8-64 (4K/16K/64K,
 * LPA/LPA2), VMSAv9-128 (down to level -2), Armv7 LPAE and Armv7 short descriptors (whose
 * supersections and large pages are runs of replicated entries).
 */
class AddressSpacePropertiesTest {

    private static final List<Geometry> GEOMETRIES = List.of(
            Geometry.of(Granule.FOUR_K, 39, 48), Geometry.FOUR_K_48, Geometry.of(Granule.FOUR_K, 52, 52),
            Geometry.of(Granule.SIXTEEN_K, 36, 48), Geometry.SIXTEEN_K_47, Geometry.SIXTEEN_K_48,
            Geometry.of(Granule.SIXTEEN_K, 52, 52), Geometry.SIXTY_FOUR_K_42, Geometry.SIXTY_FOUR_K_48,
            Geometry.SIXTY_FOUR_K_52, Geometry.of(Granule.FOUR_K, TranslationFormat.LPAE, 32, 40),
            Geometry.of(Granule.FOUR_K, TranslationFormat.LPAE, 30, 40),
            Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 48, 48),
            Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 56, 56),
            Geometry.of(Granule.SIXTEEN_K, TranslationFormat.D128, 48, 52),
            Geometry.of(Granule.SIXTY_FOUR_K, TranslationFormat.D128, 52, 56),
            Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 32, 32),
            Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 28, 40));

    private static final List<Attributes> ATTRIBUTES = List.of(Attributes.kernelData(), Attributes.kernelText(),
            Attributes.userData(), Attributes.userText().withSoftware(5));

    /**
     * Short descriptors hold two software bits, and a page has no PXN of its own (it is in the
     * first-level entry), so user text there is executable at PL1 too: PXN clear.
     */
    private static final List<Attributes> SHORT_ATTRIBUTES = List.of(Attributes.kernelData(), Attributes.kernelText(),
            Attributes.userData(), Attributes.userText().withPrivilegedExecuteNever(false).withSoftware(3));

    static List<Attributes> attributesFor(Geometry g) {
        return g.format() == TranslationFormat.SHORT ? SHORT_ATTRIBUTES : ATTRIBUTES;
    }

    enum Kind { MAP, UNMAP, PROTECT, COLLAPSE }

    /** One edit, in units of the window: offset and length in units, PA slot, attribute choice. */
    record Op(Kind kind, int offset, int length, int paSlot, int attributes) {}

    record Scenario(Geometry geometry, int unitChoice, int frameLimit, List<Op> ops) {}

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<Op> op = Combinators.combine(
                Arbitraries.of(Kind.values()), Arbitraries.integers().between(0, 31),
                Arbitraries.integers().between(1, 24), Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(0, ATTRIBUTES.size() - 1)).as(Op::new);
        return Combinators.combine(Arbitraries.of(GEOMETRIES), Arbitraries.integers().between(0, 3),
                Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(0)), Tuple.of(1, Arbitraries.integers().between(2, 12))),
                op.list().ofMinSize(1).ofMaxSize(25)).as(Scenario::new);
    }

    /** Piece sizes that make blocks and runs appear: page, CONT_PTE run, smallest block, a block run. */
    static long unit(Geometry g, int choice) {
        long[] units = {g.pageSize(), g.contPteSize(), g.entrySpan(2), g.contPmdSize()};
        long u = units[choice];
        // Keep the window of 32 units inside the VA space of the smallest geometries.
        while (u * 64 > (1L << g.vaBits())) u >>= 1;
        return Math.max(u, g.pageSize());
    }

    @Property(tries = 1000)
    void tablesAlwaysAgreeWithTheReferenceModel(@ForAll("scenarios") Scenario s) {
        Geometry g = s.geometry();
        long unit = unit(g, s.unitChoice());
        long window = 32 * unit; // VA window [window, 2 * window): not at 0, to exercise upper index bits
        // Short-descriptor sections and pages output 32-bit addresses: keep their PAs below 4 GiB.
        long paBase = g.format() == TranslationFormat.SHORT ? window : 4 * window;
        try (TableFixture t = new TableFixture(g)) {
            if (s.frameLimit() > 0) t.frames.setLimit(s.frameLimit());
            Map<Long, Piece> model = new HashMap<>();
            for (Op op : s.ops()) {
                int length = Math.min(op.length(), 32 - op.offset());
                long va = window + op.offset() * unit;
                long size = length * unit;
                Attributes attributes = attributesFor(g).get(op.attributes());
                long pa = paBase + op.paSlot() * window + op.offset() * unit;
                SparseMemory.Snapshot before = t.memory.snapshot();
                FrameAllocator.FrameStats framesBefore = t.frames.stats();
                boolean expectOk = switch (op.kind()) {
                    case MAP -> range(op.offset(), length).stream().noneMatch(model::containsKey);
                    case PROTECT -> range(op.offset(), length).stream().allMatch(model::containsKey);
                    case UNMAP, COLLAPSE -> true;
                };
                try {
                    switch (op.kind()) {
                        case MAP -> t.space.map(va, pa, size, attributes);
                        case UNMAP -> t.space.unmap(va, size);
                        case PROTECT -> t.space.protect(va, size, attributes);
                        case COLLAPSE -> t.space.collapse(va, size);
                    }
                    assertThat(expectOk).as("%s succeeded but the model says it must fail", op).isTrue();
                    for (int i = 0; i < length; i++) {
                        long key = op.offset() + i;
                        switch (op.kind()) {
                            case MAP -> model.put(key, new Piece(pa + i * unit, attributes));
                            case UNMAP -> model.remove(key);
                            case PROTECT -> model.put(key, new Piece(model.get(key).pa(), attributes));
                            case COLLAPSE -> { }
                        }
                    }
                } catch (PageTableException e) {
                    boolean exhausted = e instanceof FrameExhaustedException;
                    assertThat(!expectOk || exhausted).as("%s failed unexpectedly: %s", op, e.getMessage()).isTrue();
                    SparseMemory.Snapshot after = t.memory.snapshot();
                    assertThat(after).as("failed %s changed memory at 0x%x", op, after.firstDifference(before))
                            .isEqualTo(before);
                    assertThat(t.frames.stats().live()).isEqualTo(framesBefore.live());
                }
                checkAgainstModel(t, window, unit, model);
                checkStructure(t);
            }
        }
    }

    record Piece(long pa, Attributes attributes) {}

    private static List<Long> range(int offset, int length) {
        List<Long> keys = new ArrayList<>();
        for (int i = 0; i < length; i++) keys.add((long) offset + i);
        return keys;
    }

    /** Every leaf lies in mapped units and agrees with them; every mapped unit is fully covered. */
    private static void checkAgainstModel(TableFixture t, long window, long unit, Map<Long, Piece> model) {
        Map<Long, Long> covered = new HashMap<>();
        for (Mapping m : t.space.mappings()) {
            for (long va = m.va(); va < m.va() + m.size(); ) {
                long key = (va - window) / unit;
                long unitVa = window + key * unit;
                long end = Math.min(m.va() + m.size(), unitVa + unit);
                Piece p = model.get(key);
                assertThat(p).as("leaf %s maps 0x%x, which the model says is unmapped", m, va).isNotNull();
                assertThat(m.translate(va)).as("PA of 0x%x", va).isEqualTo(p.pa() + (va - unitVa));
                assertThat(m.attributes()).as("attributes of 0x%x", va).isEqualTo(p.attributes());
                covered.merge(key, end - va, Long::sum);
                va = end;
            }
        }
        for (Long key : model.keySet()) {
            assertThat(covered.getOrDefault(key, 0L)).as("bytes mapped in unit %d", key).isEqualTo(unit);
        }
    }

    /**
     * Structural invariants read straight from memory: every table below the root holds a valid
     * entry, every contiguous run is aligned with equal attributes and consecutive output addresses,
     * and the allocator's live frames are exactly the reachable tables.
     */
    private static void checkStructure(TableFixture t) {
        Geometry g = t.geometry;
        DescriptorFormat f = t.space.format();
        int[] tables = {0};
        checkTable(t, f, t.space.root(), g.startLevel(), 0, true, tables);
        assertThat(t.frames.stats().live()).as("live frames vs reachable tables").isEqualTo(tables[0]);
    }

    /** {@code va}: the first address the table maps (the lower half starts at 0). */
    private static void checkTable(TableFixture t, DescriptorFormat f, long table, int level, long va, boolean root,
                                   int[] tables) {
        Geometry g = t.geometry;
        tables[0]++;
        Slot slot = new Slot(t.memory, f.descriptorShift());
        Descriptor d = new Descriptor();
        boolean any = false;
        int run = g.contiguousEntries(level);
        long span = g.entrySpan(level);
        for (int i = 0; i < g.entries(level); i++) {
            DescriptorKind kind = f.kind(slot.at(table, i).read(d), level);
            assertThat(kind).isNotEqualTo(DescriptorKind.RESERVED);
            if (kind == DescriptorKind.INVALID) continue;
            any = true;
            long entryVa = va + i * span;
            if (kind == DescriptorKind.TABLE) {
                checkTable(t, f, f.tableAddress(d), level + 1, entryVa, false, tables);
            } else if (f.contiguous(d, level)) {
                // Every entry of a run is a leaf of the run, with the run's attributes, and maps the
                // next piece of one aligned output range (replicated short entries included).
                int first = i & -run;
                Descriptor head = slot.at(table, first).read(new Descriptor());
                long base = f.translate(head, level, va + first * span);
                assertThat(base % (run * span)).as("run base alignment").isZero();
                Descriptor other = slot.at(table, i).read(new Descriptor());
                assertThat(f.kind(head, level).isLeaf() && f.contiguous(head, level)).isTrue();
                assertThat(f.sameLeafAttributes(head, other, level)).isTrue();
                assertThat(f.translate(other, level, entryVa)).isEqualTo(base + (i - first) * span);
            }
        }
        assertThat(any || root).as("empty table at 0x%x level %d kept", table, level).isTrue();
    }
}
