package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Armv7 short-descriptor tables built by the same engine, read back word by word. Expected words
 * are assembled from Arm ARM B3.5.1 (Figures B3-4, B3-5): the first-level index is VA[31:20]
 * (entries 4 bytes apart in a 16 KiB table), the second-level index VA[19:12] (1 KiB table).
 */
class ShortAddressSpaceTest {

    private static final Geometry SHORT = Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 32, 40);

    // kernelData under TRE=1, AFE=1: AP[0]=AF=1, S=1, XN=1 (never executable), index 0.
    private static final long SECTION_KERNEL_DATA = 0b10 | (1L << 4) | (1L << 10) | (1L << 16);
    private static final long SUPERSECTION = 1L << 18;
    private static final long SMALL_KERNEL_DATA = 0b10 | 1 /* XN */ | (1L << 4) /* AP[0] */ | (1L << 10) /* S */;
    private static final long LARGE_KERNEL_DATA = 0b01 | (1L << 15) /* XN */ | (1L << 4) | (1L << 10);

    private static int l1(TableFixture t, long va) { return t.memory.readInt(t.space.root() + (va >>> 20) * 4); }

    private static long u32(int v) { return v & 0xFFFF_FFFFL; }

    private static long l2Table(TableFixture t, long va) { return u32(l1(t, va)) & 0xFFFF_FC00L; }

    private static long l2(TableFixture t, long va) {
        return u32(t.memory.readInt(l2Table(t, va) + ((va >>> 12) & 0xFF) * 4));
    }

    @Test
    void rootIsASixteenKilobyteTableAlignedToItsSize() {
        try (TableFixture t = new TableFixture(SHORT)) {
            assertThat(t.space.root() % 16384).isZero();
            assertThat(t.frames.frameSize()).isEqualTo(1024);
            assertThat(t.frames.stats().liveBytes()).isEqualTo(16384);
        }
    }

    @Test
    void sixteenMegabytesBecomeSixteenIdenticalSupersectionEntries() {
        try (TableFixture t = new TableFixture(SHORT)) {
            t.space.map(0x1000_0000L, 0x4000_0000L, 16L << 20, Attributes.kernelData());
            long expected = 0x4000_0000L | SUPERSECTION | SECTION_KERNEL_DATA;
            for (int i = 0; i < 16; i++) {
                assertThat(u32(l1(t, 0x1000_0000L + ((long) i << 20)))).as("entry 0x%x", 0x100 + i).isEqualTo(expected);
            }
            assertThat(t.space.walker().outputAddress(0x1056_789AL)).isEqualTo(0x4056_789AL);
            List<Mapping> m = t.space.mappings();
            assertThat(m).hasSize(16).allSatisfy(x -> assertThat(x.contiguous()).isTrue());
            assertThat(m.get(5).pa()).isEqualTo(0x4050_0000L);
        }
    }

    @Test
    void unmappingOneMegabyteOfASupersectionLeavesFifteenSections() {
        try (TableFixture t = new TableFixture(SHORT)) {
            t.space.map(0x1000_0000L, 0x4000_0000L, 16L << 20, Attributes.kernelData());
            t.space.unmap(0x1030_0000L, 1L << 20);
            for (int i = 0; i < 16; i++) {
                long va = 0x1000_0000L + ((long) i << 20);
                long expected = i == 3 ? 0 : (0x4000_0000L + ((long) i << 20)) | SECTION_KERNEL_DATA;
                assertThat(u32(l1(t, va))).as("entry for VA 0x%x", va).isEqualTo(expected);
            }
            t.space.map(0x1030_0000L, 0x4030_0000L, 1L << 20, Attributes.kernelData());
            t.space.collapse(0x1000_0000L, 16L << 20);
            assertThat(u32(l1(t, 0x10F0_0000L))).as("merged back").isEqualTo(0x4000_0000L | SUPERSECTION
                    | SECTION_KERNEL_DATA);
        }
    }

    @Test
    void largePagesAreSixteenIdenticalSecondLevelEntriesAndSplitIntoSmallPages() {
        try (TableFixture t = new TableFixture(SHORT)) {
            // 64 KiB at VA 0x0012_0000 (first-level entry 1, second-level entries 0x20..0x2f).
            t.space.map(0x0012_0000L, 0x8005_0000L, 0x1_0000L, Attributes.kernelData());
            assertThat(u32(l1(t, 0x0012_0000L)) & 0x3FF).as("page-table entry, domain 0").isEqualTo(0b01);
            assertThat(t.frames.stats().liveBytes()).as("16 KiB root + one 1 KiB second-level table")
                    .isEqualTo(16384 + 1024);
            for (int i = 0; i < 16; i++) {
                assertThat(l2(t, 0x0012_0000L + i * 0x1000L)).isEqualTo(0x8005_0000L | LARGE_KERNEL_DATA);
            }
            t.space.protect(0x0012_3000L, 0x1000, Attributes.kernelReadOnly());
            for (int i = 0; i < 16; i++) {
                long expected = (0x8005_0000L + i * 0x1000L) | SMALL_KERNEL_DATA | (i == 3 ? 1L << 9 /* AP[2] */ : 0);
                assertThat(l2(t, 0x0012_0000L + i * 0x1000L)).as("small page %d", i).isEqualTo(expected);
            }
            assertThat(t.space.lookup(0x0012_3abcL).orElseThrow().translate(0x0012_3abcL)).isEqualTo(0x8005_3abcL);
        }
    }

    @Test
    void aSectionSplitsIntoLargePages() {
        try (TableFixture t = new TableFixture(SHORT)) {
            t.space.map(0x0030_0000L, 0x0070_0000L, 1L << 20, Attributes.kernelData());
            assertThat(u32(l1(t, 0x0030_0000L))).isEqualTo(0x0070_0000L | SECTION_KERNEL_DATA);
            t.space.unmap(0x0030_0000L, 0x1000);
            assertThat(l2(t, 0x0030_0000L)).isZero();
            assertThat(l2(t, 0x0030_1000L)).isEqualTo(0x0070_1000L | SMALL_KERNEL_DATA);
            assertThat(l2(t, 0x0031_0000L)).as("runs of 16 stay large pages").isEqualTo(0x0071_0000L | LARGE_KERNEL_DATA);
            assertThat(l2(t, 0x003F_F000L)).isEqualTo(0x007F_0000L | LARGE_KERNEL_DATA);
        }
    }

    @Test
    void aDomainKeepsSectionsSingle() {
        try (TableFixture t = new TableFixture(SHORT)) {
            t.space.map(0x0100_0000L, 0x0100_0000L, 16L << 20, Attributes.kernelData().withDomain(3));
            assertThat(u32(l1(t, 0x0100_0000L))).isEqualTo(0x0100_0000L | SECTION_KERNEL_DATA | (3L << 5));
            assertThat(u32(l1(t, 0x01F0_0000L))).isEqualTo(0x01F0_0000L | SECTION_KERNEL_DATA | (3L << 5));
        }
    }

    @Test
    void aboveFourGigabytesOnlySupersectionsReach() {
        try (TableFixture t = new TableFixture(SHORT)) {
            t.space.map(0x2000_0000L, 0xAB_C000_0000L, 16L << 20, Attributes.kernelData());
            assertThat(u32(l1(t, 0x2000_0000L))).isEqualTo(0xC000_0000L | (0xBL << 20) | (0xAL << 5) | SUPERSECTION
                    | SECTION_KERNEL_DATA);
            SparseMemory.Snapshot before = t.memory.snapshot();
            assertThatThrownBy(() -> t.space.unmap(0x2000_0000L, 1L << 20)).isInstanceOf(PageTableException.class)
                    .hasMessageContaining("supersections reach").hasMessageContaining("unchanged");
            assertThat(t.memory.snapshot()).isEqualTo(before);
            assertThatThrownBy(() -> t.space.map(0x3000_0000L, 1L << 32, 1L << 20, Attributes.kernelData()))
                    .isInstanceOf(PageTableException.class).hasMessageContaining("32-bit addresses");
            assertThat(t.memory.snapshot()).isEqualTo(before);
        }
    }

    @Test
    void pagesCannotHoldPxnButSectionsCan() {
        try (TableFixture t = new TableFixture(SHORT)) {
            t.space.map(0x0040_0000L, 0x0040_0000L, 1L << 20, Attributes.userText());
            assertThat(u32(l1(t, 0x0040_0000L)) & 0b11).as("section with PXN: type 0b11").isEqualTo(0b11);
            assertThatThrownBy(() -> t.space.map(0x0050_0000L, 0x0050_0000L, 0x1000, Attributes.userText()))
                    .isInstanceOf(PageTableException.class).hasMessageContaining("no PXN");
            assertThat(t.space.mappings()).hasSize(1);
        }
    }

    @Test
    void ttbr1WithTtbcrNTwoUsesASixteenKilobyteTableIndexedByVa31To20() {
        Geometry n2 = Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 30, 32);
        try (TableFixture t = new TableFixture(n2, VaRange.UPPER)) {
            assertThat(t.space.walker().firstVa()).isEqualTo(0x4000_0000L);
            assertThat(t.space.walker().lastVa()).isEqualTo(0xFFFF_FFFFL);
            t.space.map(0xC000_0000L, 0x0020_0000L, 1L << 20, Attributes.kernelData());
            assertThat(u32(t.memory.readInt(t.space.root() + 0xC00 * 4))).isEqualTo(0x0020_0000L | SECTION_KERNEL_DATA);
            assertThat(t.space.root() % 16384).isZero();
        }
        try (TableFixture t = new TableFixture(n2)) {
            // TTBR0 with N=2 covers [0, 1 GiB) with a 4 KiB first-level table.
            t.space.map(0x3FF0_0000L, 0x0020_0000L, 1L << 20, Attributes.kernelData());
            assertThat(u32(t.memory.readInt(t.space.root() + 0x3FF * 4))).isEqualTo(0x0020_0000L | SECTION_KERNEL_DATA);
            assertThat(t.frames.stats().liveBytes()).isEqualTo(4096);
        }
        assertThatThrownBy(() -> new TableFixture(SHORT, VaRange.UPPER)).hasMessageContaining("TTBCR.N = 0");
    }

    @Test
    void tablesMustLieWhereThirtyTwoBitDescriptorsReach() {
        try (SparseMemory memory = SparseMemory.ofPaBits(40)) {
            FrameAllocator frames = FrameAllocator.over(memory, 1024, new MemoryRange(1L << 32, 1L << 20));
            assertThatThrownBy(() -> AddressSpace.create(SHORT, memory, frames, VaRange.LOWER))
                    .hasMessageContaining("32-bit addresses");
            FrameAllocator pages = FrameAllocator.over(memory, 4096, new MemoryRange(1L << 31, 1L << 20));
            assertThatThrownBy(() -> AddressSpace.create(SHORT, memory, pages, VaRange.LOWER))
                    .hasMessageContaining("need 1024-byte frames");
        }
    }
}
