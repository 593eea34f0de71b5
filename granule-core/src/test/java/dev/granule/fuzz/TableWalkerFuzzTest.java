package dev.granule.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.Mapping;
import dev.granule.table.Ptdump;
import dev.granule.table.TableWalker;
import dev.granule.table.VaRange;

import java.util.List;

/**
 * Walkers over hostile memory: random bytes as tables (loops, tables pointing at themselves or
 * outside RAM, reserved encodings) for every geometry. A walk, a lookup and a ptdump must end
 * without an exception, every leaf they report must decode to an aligned output address inside
 * the PA size, and lookup must agree with the walk.
 */
class TableWalkerFuzzTest {

    static final List<Geometry> GEOMETRIES = List.of(Geometry.FOUR_K_48, Geometry.of(Granule.FOUR_K, 52, 52),
            Geometry.SIXTEEN_K_47, Geometry.of(Granule.SIXTEEN_K, 52, 52), Geometry.SIXTY_FOUR_K_42,
            Geometry.SIXTY_FOUR_K_52, Geometry.of(Granule.FOUR_K, 39, 48));

    /** RAM is 256 KiB at 0: small, so that random table addresses often land in it. */
    static final long RAM = 256 * 1024;

    @FuzzTest(maxDuration = "30s")
    void walkingGarbageEndsAndReportsOnlyWellFormedLeaves(FuzzedDataProvider data) {
        Geometry g = data.pickValue(GEOMETRIES);
        VaRange range = data.consumeBoolean() ? VaRange.LOWER : VaRange.UPPER;
        try (SparseMemory memory = SparseMemory.confined(new MemoryRange(0, RAM))) {
            long root = (data.consumeLong(0, RAM - 1)) & -g.pageSize();
            // Descriptors are written as table-ish words pointing inside RAM most of the time.
            int words = data.consumeInt(0, 512);
            for (int i = 0; i < words; i++) {
                long pa = data.consumeLong(0, RAM / 8 - 1) * 8;
                long value = data.consumeBoolean() ? data.consumeLong()
                        : (data.consumeLong(0, RAM - 1) & -g.pageSize()) | data.consumeInt(0, 3) | (data.consumeLong() & 0xFFF0_0000_0000_0FFCL);
                memory.writeLong(pa, value);
            }
            walkLookupAndDump(TableWalker.of(g, memory, root, range), data);
        }
    }

    /**
     * Walks everything (checking each leaf), compares lookup with the allocation-free path on 16
     * fuzzed VAs, and lists the tables; every step bounded by a read limit.
     */
    private static void walkLookupAndDump(TableWalker walker, FuzzedDataProvider data) {
        // Four full 4K tables' worth of descriptor reads: enough for every
        // shape of loop, alias and fan-out to show; more would only slow the fuzzer (a profile showed
        // the walk and Jazzer's comparison hooks in it taking the time), and the limit is under test.
        walker.setReadLimit(2_048);
        long[] leaves = {0};
        walker.walk((va, level, d) -> {
            check(walker, va, level, d);
            return ++leaves[0] < 512;
        });
        for (int i = 0; i < 16; i++) {
            long va = data.consumeLong();
            long pa = walker.outputAddress(va);
            var m = walker.lookup(va);
            if (m.isPresent() != (pa != -1) || (pa != -1 && pa != m.get().translate(va))) {
                throw new AssertionError("lookup " + m + " and outputAddress 0x" + Long.toHexString(pa)
                        + " disagree for 0x" + Long.toHexString(va) + " in " + walker.geometry());
            }
        }
        walker.setReadLimit(1_024);
        Ptdump.ranges(walker, walker.firstVa(), walker.lastVa());
    }

    private static void check(TableWalker walker, long va, int level, Descriptor d) {
        DescriptorFormat f = walker.format();
        Geometry g = walker.geometry();
        if (!f.kind(d, level).isLeaf()) throw new AssertionError("visited a non-leaf " + d + " at level " + level);
        long pa = f.translate(d, level, va);
        int oaBits = g.format() == TranslationFormat.D128 ? 56 : 52;
        if ((pa & (g.entrySpan(level) - 1)) != 0 || (pa >>> oaBits) != 0) {
            throw new AssertionError("leaf " + d + " decodes to 0x" + Long.toHexString(pa));
        }
        if ((va & (g.entrySpan(level) - 1)) != 0 || !walker.covers(va)) {
            throw new AssertionError("leaf reported at VA 0x" + Long.toHexString(va));
        }
        Mapping m = new Mapping(va, pa, g.entrySpan(level), level, f.attributes(d, level), f.contiguous(d, level), d);
        if (m.translate(va) != pa) throw new AssertionError(m.toString());
    }

    /** VMSAv9-128 (tables that skip levels included) and Armv7 short descriptors, LPAE for good measure. */
    static final List<Geometry> OTHER_FORMATS = List.of(
            Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 48, 48),
            Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 56, 56),
            Geometry.of(Granule.SIXTEEN_K, TranslationFormat.D128, 48, 52),
            Geometry.of(Granule.SIXTY_FOUR_K, TranslationFormat.D128, 52, 56),
            Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 32, 40),
            Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 30, 32),
            Geometry.of(Granule.FOUR_K, TranslationFormat.LPAE, 32, 40));

    /** The same hostile walks over 16-byte and 4-byte descriptors. */
    @FuzzTest(maxDuration = "30s")
    void walkingGarbageInEveryFormatEnds(FuzzedDataProvider data) {
        Geometry g = data.pickValue(OTHER_FORMATS);
        VaRange range = data.consumeBoolean() || g.format() == TranslationFormat.SHORT && g.vaBits() == 32
                ? VaRange.LOWER : VaRange.UPPER;
        try (SparseMemory memory = SparseMemory.confined(new MemoryRange(0, RAM))) {
            long tableAlign = g.fullTableBytes();
            long root = data.consumeLong(0, RAM - 1) & -Math.max(tableAlign, 16384);
            int words = data.consumeInt(0, 512);
            for (int i = 0; i < words; i++) {
                long pa = data.consumeLong(0, RAM / 8 - 1) * 8;
                long value = data.consumeBoolean() ? data.consumeLong()
                        : (data.consumeLong(0, RAM - 1) & -tableAlign) | data.consumeInt(0, 3);
                memory.writeLong(pa, value);
            }
            walkLookupAndDump(TableWalker.of(g, memory, root, range), data);
        }
    }
}
