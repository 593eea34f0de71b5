package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * VMSAv9-128 tables built by the same engine and read back as 16-byte descriptors. Indices follow
 * AArch64.TTEntryAddress: with the 4K granule the stride is 8 (Table D8-43), so a level resolves
 * VA[12 + 8(3 - level) + 7 : 12 + 8(3 - level)], and a 48-bit VA starts at level -1 (Table D8-44,
 * TnSZ 16) with VA[47:44].
 */
class Vmsa128AddressSpaceTest {

    private static final Geometry D128 = Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 48, 48);

    private static final long VALID = 1;
    private static final long KERNEL_DATA_LO = (0b11L << 8) | (1L << 10);      // SH=ISH, AF
    private static final long KERNEL_DATA_HI = 0b1100L << (115 - 64);          // PIIndex UXN:PXN:DBM:AP[1]
    private static long skl(long v) { return v << (109 - 64); }
    private static final long CONT_HI = 1L << (111 - 64);

    private static long lo(TableFixture t, long table, long index) { return t.memory.readLong(table + index * 16); }

    private static long hi(TableFixture t, long table, long index) { return t.memory.readLong(table + index * 16 + 8); }

    @Test
    void aPageWalksFiveLevelsOfSixteenByteDescriptors() {
        try (TableFixture t = new TableFixture(D128)) {
            long va = 0x1234_5678_9000L; // [47:44]=0x1, [43:36]=0x23, [35:28]=0x45, [27:20]=0x67, [19:12]=0x89
            t.space.map(va, 0x8000_5000L, 0x1000, Attributes.kernelData());
            long table = t.space.root();
            long[] indices = {0x1, 0x23, 0x45, 0x67};
            for (long index : indices) {
                long l = lo(t, table, index);
                assertThat(l & 0xFFF).as("table descriptor: valid, no type bit").isEqualTo(VALID);
                assertThat(hi(t, table, index)).as("SKL 0, no attributes").isZero();
                table = l & 0x00FF_FFFF_FFFF_F000L;
            }
            assertThat(lo(t, table, 0x89)).isEqualTo(0x8000_5000L | VALID | KERNEL_DATA_LO);
            assertThat(hi(t, table, 0x89)).isEqualTo(KERNEL_DATA_HI);
            assertThat(t.frames.stats().live()).as("root + four tables").isEqualTo(5);
            assertThat(t.space.walker().outputAddress(va + 0xabc)).isEqualTo(0x8000_5abcL);
        }
    }

    @Test
    void blocksCarryTheirSkipLevelAndRunsTheContiguousBit() {
        try (TableFixture t = new TableFixture(D128)) {
            // 1 MiB at 1 MiB: a level 2 block (SKL 1); then 64 KiB more: 16 contiguous pages.
            t.space.map(0x10_0000L, 0x4010_0000L, 0x11_0000L, Attributes.kernelData());
            long l0 = lo(t, t.space.root(), 0) & 0x00FF_FFFF_FFFF_F000L;
            long l1 = lo(t, l0, 0) & 0x00FF_FFFF_FFFF_F000L;
            long l2 = lo(t, l1, 0) & 0x00FF_FFFF_FFFF_F000L;
            assertThat(lo(t, l2, 1)).isEqualTo(0x4010_0000L | VALID | KERNEL_DATA_LO);
            assertThat(hi(t, l2, 1)).isEqualTo(skl(1) | KERNEL_DATA_HI);
            long l3 = lo(t, l2, 2) & 0x00FF_FFFF_FFFF_F000L;
            assertThat(lo(t, l3, 5)).isEqualTo(0x4020_5000L | VALID | KERNEL_DATA_LO);
            assertThat(hi(t, l3, 5)).isEqualTo(CONT_HI | KERNEL_DATA_HI);
        }
    }

    @Test
    void theWalkerFollowsATableThatSkipsALevel() {
        // Hand-built: a level -1 table descriptor with SKL=1 points straight at a level 1 table that
        // resolves VA[43:28] (two strides, 65536 entries, 1 MiB); in it a 256 MiB level 1 block (SKL 2).
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(0, 4L << 20))) {
            long root = 0x1000;
            long table = 0x10_0000;
            long va = 0x0000_1234_5678_9ABCL;
            memory.writeLong(root + 0x1 * 16, table | VALID);
            memory.writeLong(root + 0x1 * 16 + 8, skl(1));
            memory.writeLong(table + 0x2345L * 16, 0xA0_0000_0000L | VALID | (1L << 10));
            memory.writeLong(table + 0x2345L * 16 + 8, skl(2));
            TableWalker walker = TableWalker.of(D128, memory, root, VaRange.LOWER);
            assertThat(walker.outputAddress(va)).isEqualTo(0xA0_0678_9ABCL);
            Mapping m = walker.lookup(va).orElseThrow();
            assertThat(m.level()).isEqualTo(1);
            assertThat(m.size()).isEqualTo(256L << 20);
            assertThat(m.va()).isEqualTo(0x0000_1234_5000_0000L);
            // The same skip to a table that does not lie in RAM whole: both walks find nothing.
            memory.writeLong(root + 0x2 * 16, 0x38_0000L | VALID);
            memory.writeLong(root + 0x2 * 16 + 8, skl(1));
            assertThat(walker.outputAddress(0x2000_0000_0000L)).isEqualTo(-1);
            assertThat(walker.lookup(0x2000_0000_0000L)).isEmpty();
        }
    }

    @Test
    void fourKilobyteGranuleWithFiftySixBitsStartsAtLevelMinusTwo() {
        Geometry g = Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 56, 56);
        assertThat(g.startLevel()).isEqualTo(-2);
        try (TableFixture t = new TableFixture(g)) {
            long va = 0x00AB_0000_0000_0000L; // [55:52] = 0xA, [51:44] = 0xB0
            t.space.map(va, 0x00F0_0000_0000_0000L, 1L << 36, Attributes.kernelData());
            long lm1 = lo(t, t.space.root(), 0xA) & 0x00FF_FFFF_FFFF_F000L;
            long l0 = lo(t, lm1, 0xB0) & 0x00FF_FFFF_FFFF_F000L;
            assertThat(lo(t, l0, 0)).as("a 64 GiB level 0 block").isEqualTo(0x00F0_0000_0000_0000L | VALID | KERNEL_DATA_LO);
            assertThat(hi(t, l0, 0)).isEqualTo(skl(3) | KERNEL_DATA_HI);
        }
    }
}
