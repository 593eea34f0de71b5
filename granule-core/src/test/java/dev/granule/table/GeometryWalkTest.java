package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.GeometryException;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The walk compiled per geometry ({@link Vmsa64Walk}, a hidden copy per geometry) answers exactly
 * as the generic walk for every 64-bit-descriptor geometry there is, over sound tables and over
 * garbage: tables that point at themselves, outside RAM, at misaligned roots, reserved blocks.
 */
class GeometryWalkTest {

    /** Every VMSAv8-64 and LPAE geometry the model accepts, over a spread of PA sizes. */
    static List<Geometry> everySixtyFourBitGeometry() {
        List<Geometry> all = new ArrayList<>();
        for (Granule granule : Granule.values()) {
            for (int va = 16; va <= 52; va++) {
                for (int pa : new int[] {32, 36, 40, 42, 44, 48, 52}) {
                    addIfValid(all, granule, TranslationFormat.D64, va, pa);
                }
            }
        }
        for (int va = 25; va <= 32; va++) addIfValid(all, Granule.FOUR_K, TranslationFormat.LPAE, va, 40);
        return all;
    }

    private static void addIfValid(List<Geometry> all, Granule granule, TranslationFormat format, int va, int pa) {
        try {
            all.add(Geometry.of(granule, format, va, pa));
        } catch (GeometryException notAGeometry) {
            // outside what the architecture allows for this granule: not a case
        }
    }

    @Test
    void theCompiledWalkAgreesWithTheGenericWalkOverGarbageInEveryGeometry() {
        List<Geometry> geometries = everySixtyFourBitGeometry();
        assertThat(geometries).hasSizeGreaterThan(300);
        SplittableRandom random = new SplittableRandom(20261125);
        long leaves = 0;
        for (Geometry g : geometries) {
            for (VaRange range : VaRange.values()) {
                if (range == VaRange.UPPER && g.format() == TranslationFormat.LPAE && g.vaBits() == 32) continue;
                leaves += compare(g, range, random);
            }
        }
        // Garbage that never reaches a leaf would compare only the -1s.
        assertThat(leaves).isGreaterThan(10_000);
    }

    /** Random table-like words in 1 MiB of RAM, then 2,000 VAs (half of them in mapped-looking places). */
    private static long compare(Geometry g, VaRange range, SplittableRandom random) {
        long ram = 1 << 20;
        try (SparseMemory memory = SparseMemory.confined(new MemoryRange(0, ram))) {
            DescriptorFormat format = DescriptorFormat.of(g);
            long root = random.nextLong(ram) & -g.pageSize();
            if (random.nextInt(16) == 0) root |= 8L * random.nextInt(1, 8); // a misaligned TTBR: reads fail
            for (int i = 0; i < 4096; i++) {
                long pa = random.nextLong(ram / 8) * 8;
                long value = switch (random.nextInt(4)) {
                    case 0 -> random.nextLong();
                    case 1 -> (random.nextLong(ram) & -g.pageSize()) | 3;              // table or page in RAM
                    case 2 -> (random.nextLong(ram * 4) & -g.pageSize()) | 3 | (random.nextLong() & 0x0FFF_0000_0000_0F00L);
                    default -> (random.nextLong(ram) & -g.pageSize()) | 1;             // block, where allowed
                };
                memory.writeLong(pa, value);
            }
            TableWalker walker = new TableWalker(format, memory, root, range);
            int rootMask = range.rootEntries(g) - 1;
            Slot slot = new Slot(memory, format.descriptorShift());
            Descriptor scratch = new Descriptor();
            long leaves = 0;
            for (int i = 0; i < 2000; i++) {
                long va = walker.firstVa() + (random.nextLong() & (walker.lastVa() - walker.firstVa()));
                long compiled = walker.outputAddress(va);
                long generic = TableWalker.outputAddress(format, slot, scratch, root, rootMask, va);
                assertThat(compiled).as("%s %s va 0x%x root 0x%x", g.label(), range, va, root).isEqualTo(generic);
                if (compiled != -1) leaves++;
            }
            return leaves;
        }
    }

    @Test
    void theCompiledWalkAgreesOnBuiltTablesWithBlocksAndContiguousRuns() {
        for (Geometry g : List.of(Geometry.FOUR_K_48, Geometry.of(Granule.FOUR_K, 52, 52), Geometry.SIXTEEN_K_47,
                Geometry.SIXTY_FOUR_K_52, Geometry.of(Granule.FOUR_K, TranslationFormat.LPAE, 32, 40))) {
            try (TableFixture t = new TableFixture(g)) {
                long block = g.entrySpan(2);
                t.space.map(block * 3, block * 5, block * 2 + g.pageSize() * 40, Attributes.userData());
                TableWalker walker = t.space.walker();
                walker.walk((va, level, d) -> {
                    for (long probe : new long[] {va, va + g.entrySpan(level) - 1}) {
                        long expected = walker.format().translate(d, level, probe);
                        assertThat(walker.outputAddress(probe)).as("%s 0x%x", g.label(), probe).isEqualTo(expected);
                    }
                    return true;
                });
                assertThat(walker.outputAddress(block * 3 - 1)).isEqualTo(-1);
            }
        }
    }

    @Test
    void eachGeometryGetsOneHiddenCopyOfTheWalk() {
        try (SparseMemory memory = SparseMemory.ofPaBits(40)) {
            GeometryWalk a = walk(Geometry.FOUR_K_48, memory);
            GeometryWalk b = walk(Geometry.FOUR_K_48, memory);
            GeometryWalk c = walk(Geometry.SIXTY_FOUR_K_42, memory);
            assertThat(a.getClass().isHidden()).isTrue();
            assertThat(a.getClass()).isSameAs(b.getClass()).isNotSameAs(c.getClass());
            assertThat(walk(Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 32, 32), memory))
                    .as("short descriptors take the generic walk").isNull();
            assertThat(GeometryCopies.leafWriter(DescriptorFormat.of(Geometry.FOUR_K_48), memory).getClass())
                    .matches(Class::isHidden).isNotSameAs(a.getClass());
            assertThatThrownBy(() -> new Vmsa64Walk(memory, 0, 511, 0, -1)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> new Vmsa64LeafWriter(memory)).isInstanceOf(IllegalStateException.class);
        }
    }

    private static GeometryWalk walk(Geometry g, SparseMemory memory) {
        return GeometryCopies.walk(DescriptorFormat.of(g), memory, 0, g.entries(g.startLevel()) - 1,
                VaRange.LOWER.first(g), VaRange.LOWER.last(g));
    }
}
