package dev.granule.geometry;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * VMSAv9-128 geometry against the Arm ARM's tables for the VMSAv9-128 translation system: Table
 * D8-43 (a full table holds granule/16 entries), D8-44 (regular start level per TnSZ), D8-46 (which
 * levels hold which blocks) and D8-105 (entries in a contiguous run). Values are the manual's,
 * written out here, not computed.
 */
class D128GeometryTest {

    @ParameterizedTest(name = "{0}K, TnSZ {1}: start level {2}")
    @CsvSource({
            // granule KiB, TnSZ, start level (Table D8-44, both ends of each row)
            " 4,  8, -2", " 4, 11, -2", " 4, 12, -1", " 4, 19, -1", " 4, 20, 0", " 4, 27, 0", " 4, 28, 1", " 4, 35, 1",
            " 4, 36,  2", " 4, 39,  2",
            "16,  8, -1", "16,  9, -1", "16, 10, 0", "16, 19, 0", "16, 20, 1", "16, 29, 1", "16, 30, 2", "16, 39, 2",
            "64,  8,  0", "64, 11,  0", "64, 12, 1", "64, 23, 1", "64, 24, 2", "64, 35, 2", "64, 36, 3", "64, 39, 3",
    })
    void regularStartLevel(int granuleKiB, int tnsz, int startLevel) {
        Geometry g = Geometry.of(Granule.ofPageSize(granuleKiB * 1024L), TranslationFormat.D128, 64 - tnsz, 56);
        assertThat(g.startLevel()).isEqualTo(startLevel);
        assertThat(g.txsz()).isEqualTo(tnsz);
        assertThat(g.descriptorBytes()).isEqualTo(16);
    }

    @ParameterizedTest(name = "{0}K granule")
    @CsvSource({
            // granule KiB, entries per full table (D8-43), block at levels 0/1/2 (D8-46, 0 = none)
            " 4,  256, 68719476736, 268435456,   1048576",
            "16, 1024,           0, 17179869184, 16777216",
            "64, 4096,           0, 1099511627776, 268435456",
    })
    void tableAndBlockSizes(int granuleKiB, int entries, long level0, long level1, long level2) {
        Geometry g = Geometry.of(Granule.ofPageSize(granuleKiB * 1024L), TranslationFormat.D128, 56, 56);
        assertThat(g.ptrsPerTable()).isEqualTo(entries);
        long[] blocks = {level0, level1, level2};
        for (int level = 0; level <= 2; level++) {
            assertThat(g.blockAllowed(level)).as("block at level %d", level).isEqualTo(blocks[level] != 0);
            if (blocks[level] != 0) assertThat(g.entrySpan(level)).isEqualTo(blocks[level]);
        }
        assertThat(g.blockAllowed(-1)).isFalse();
    }

    @ParameterizedTest(name = "{0}K granule")
    @CsvSource({
            // granule KiB, contiguous entries at levels 0/1/2/3 (Table D8-105; 1 = no contiguous range)
            " 4, 1, 4, 16, 16",
            "16, 1, 4, 16, 64",
            "64, 1, 1, 64, 16",
    })
    void contiguousRuns(int granuleKiB, int l0, int l1, int l2, int l3) {
        Geometry g = Geometry.of(Granule.ofPageSize(granuleKiB * 1024L), TranslationFormat.D128, 56, 56);
        assertThat(new int[]{g.contiguousEntries(0), g.contiguousEntries(1), g.contiguousEntries(2),
                g.contiguousEntries(3)}).containsExactly(l0, l1, l2, l3);
    }
}
