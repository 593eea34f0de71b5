package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tables laid out as hardware reads them. Indices and descriptor words are worked out by hand in
 * the comments from the Arm ARM layouts and the kernel's shift values (pgtable-hwdef.h), then read
 * back straight from physical memory.
 */
class AddressSpaceTest {

    // Arm ARM fields used to build expected words by hand.
    private static final long TABLE = 0b11;
    private static final long PAGE = 0b11;
    private static final long BLOCK = 0b01;
    private static final long KERNEL_DATA = (0b11L << 8) | (1L << 10) | (1L << 53) | (1L << 54); // SH=ISH AF PXN UXN
    private static final long CONT = 1L << 52;
    private static final long ADDR_48 = 0x0000_FFFF_FFFF_F000L;

    private static long next(long tableDescriptor) { return tableDescriptor & ADDR_48; }

    @Test
    void fourKPageWalksFourLevelsAtTheIndicesTheShiftsGive() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            // VA 0x80_4020_3000: [47:39]=1 (0x80_0000_0000 is 2^39), [38:30]=1, [29:21]=1, [20:12]=3.
            t.space.map(0x80_4020_3000L, 0x8000_5000L, 0x1000, Attributes.kernelData());
            long l0 = t.read(t.space.root() + 1 * 8);
            assertThat(l0 & 3).isEqualTo(TABLE);
            long l1 = t.read(next(l0) + 1 * 8);
            assertThat(l1 & 3).isEqualTo(TABLE);
            long l2 = t.read(next(l1) + 1 * 8);
            assertThat(l2 & 3).isEqualTo(TABLE);
            long pte = t.read(next(l2) + 3 * 8);
            assertThat(pte).isEqualTo(0x8000_5000L | PAGE | KERNEL_DATA);
            assertThat(t.frames.stats().live()).as("root + three tables").isEqualTo(4);
            assertThat(t.space.lookup(0x80_4020_3abcL).orElseThrow().translate(0x80_4020_3abcL)).isEqualTo(0x8000_5abcL);
        }
    }

    @Test
    void fourKChoosesPagesBlocksAndContiguousRuns() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            // [0x1ff000, 0x410000): one page, one 2 MiB block at 0x200000, then 64 KiB = 16 PTEs,
            // 64 KiB aligned in VA and PA: one CONT_PTES run.
            t.space.map(0x1f_f000L, 0x1f_f000L, 0x41_0000L - 0x1f_f000L, Attributes.kernelData());
            List<Mapping> m = t.space.mappings();
            assertThat(m).hasSize(1 + 1 + 16);
            assertThat(m.get(0)).extracting(Mapping::va, Mapping::size, Mapping::level, Mapping::contiguous)
                    .containsExactly(0x1f_f000L, 0x1000L, 3, false);
            assertThat(m.get(1)).extracting(Mapping::va, Mapping::size, Mapping::level, Mapping::contiguous)
                    .containsExactly(0x20_0000L, 0x20_0000L, 2, false);
            assertThat(m.subList(2, 18)).allSatisfy(x -> assertThat(x.contiguous()).isTrue());
            // The 2 MiB block is entry 1 of the level-2 table: 0x200000 | block | attributes.
            long l1 = t.read(t.space.root());
            long l2 = t.read(next(l1));
            assertThat(t.read(next(l2) + 8)).isEqualTo(0x20_0000L | BLOCK | KERNEL_DATA);
            long l3b = t.read(next(l2) + 2 * 8); // table for 0x400000
            assertThat(t.read(next(l3b) + 5 * 8)).isEqualTo(0x40_5000L | PAGE | KERNEL_DATA | CONT);
        }
    }

    @Test
    void fourKGigabyteBlockAtLevelOne() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            t.space.map(0xC000_0000L, 0x1_4000_0000L, 1L << 30, Attributes.kernelData());
            // VA 0xC000_0000: level 0 index 0, level 1 index 3.
            long l1 = next(t.read(t.space.root()));
            assertThat(t.read(l1 + 3 * 8)).isEqualTo(0x1_4000_0000L | BLOCK | KERNEL_DATA);
        }
    }

    @Test
    void sixteenKThirtyTwoMegabyteBlockAndTwoMegabyteRun() {
        try (TableFixture t = new TableFixture(Geometry.SIXTEEN_K_47)) {
            // 16K/47: 3 levels, level 2 entries map 32 MiB; CONT_PTES = 128 pages = 2 MiB.
            t.space.map(0x200_0000L, 0x400_0000L, (32L << 20) + (2L << 20), Attributes.kernelData());
            List<Mapping> m = t.space.mappings();
            assertThat(m).hasSize(1 + 128);
            assertThat(m.get(0).size()).isEqualTo(32L << 20);
            assertThat(m.get(1).contiguous()).isTrue();
            assertThat(m.get(128).pa()).isEqualTo(0x600_0000L + 127 * 16384L);
        }
    }

    @Test
    void sixtyFourKTwoLevelsAndItsRuns() {
        try (TableFixture t = new TableFixture(Geometry.of(Granule.SIXTY_FOUR_K, 42, 48))) {
            // 64K/42: the start level is 2 (8192 entries of 512 MiB); CONT_PTES = 32 pages = 2 MiB.
            t.space.map(0x2000_0000L, 0x2000_0000L, (512L << 20) + (2L << 20), Attributes.kernelData());
            // Entry 1 of the root is the 512 MiB block.
            assertThat(t.read(t.space.root() + 8)).isEqualTo(0x2000_0000L | BLOCK | KERNEL_DATA);
            long pte = t.read((t.read(t.space.root() + 2 * 8) & 0xFFFF_FFFF_0000L) + 31 * 8);
            assertThat(pte).isEqualTo(0x4000_0000L + 31 * 0x1_0000L | PAGE | KERNEL_DATA | CONT);
        }
    }

    @Test
    void sixtyFourKFiftyTwoBitFourTerabyteBlock() {
        try (TableFixture t = new TableFixture(Geometry.SIXTY_FOUR_K_52)) {
            // 64K/52: level 1 blocks of 4 TiB exist with a 52-bit PA; OA[51:48] goes to bits [15:12].
            long va = 4L << 40;
            t.space.map(va, 0x000F_0000_0000_0000L, 4L << 40, Attributes.kernelData());
            assertThat(t.read(t.space.root() + 1 * 8)).isEqualTo((0xFL << 12) | BLOCK | KERNEL_DATA);
        }
    }

    @Test
    void fourKLpa2StartsAtLevelMinusOne() {
        Geometry g = Geometry.of(Granule.FOUR_K, 52, 52);
        try (TableFixture t = new TableFixture(g)) {
            // Top page of the 52-bit lower range: index 15 at level -1 (bits [51:48]), 511 below.
            long va = 0x000F_FFFF_FFFF_F000L;
            long pa = 0x000C_0000_0000_1000L; // OA[51:50] = 0b11 -> descriptor bits [9:8]
            t.space.map(va, pa, 0x1000, Attributes.kernelData());
            long mask = 0x0003_FFFF_FFFF_F000L; // table addresses [49:12] ...
            long d = t.read(t.space.root() + 15 * 8);
            for (int level = 0; level <= 2; level++) {
                long base = (d & mask) | ((d >>> 8 & 3) << 50); // ... and [51:50] from bits [9:8]
                d = t.read(base + 511 * 8);
            }
            long base = (d & mask) | ((d >>> 8 & 3) << 50);
            // No SH field with DS=1: AF, PXN, UXN and the split address only.
            assertThat(t.read(base + 511 * 8)).isEqualTo(0x1000L | (0b11L << 8) | PAGE | (1L << 10) | (1L << 53) | (1L << 54));
        }
    }

    @Test
    void sixteenKLpa2ThirtyTwoEntryStartTable() {
        Geometry g = Geometry.of(Granule.SIXTEEN_K, 52, 52);
        try (TableFixture t = new TableFixture(g)) {
            // 16K/52: level 0 resolves bits [51:47], 32 entries; VA 0xF_8000_0000_0000 is index 31.
            t.space.map(0x000F_8000_0000_0000L, 0x4000, 0x4000, Attributes.kernelData());
            assertThat(t.read(t.space.root() + 31 * 8) & 3).isEqualTo(TABLE);
            assertThat(t.space.lookup(0x000F_8000_0000_0000L).orElseThrow().level()).isEqualTo(3);
        }
    }

    @Test
    void upperHalfUsesTheSameIndexBits() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48, VaRange.UPPER)) {
            // 0xffff_8000_0000_0000: bits [47:39] = 256.
            t.space.map(0xFFFF_8000_0000_0000L, 0x4000_0000L, 0x20_0000L, Attributes.kernelData());
            assertThat(t.read(t.space.root() + 256 * 8) & 3).isEqualTo(TABLE);
            assertThatThrownBy(() -> t.space.map(0x1000, 0, 0x1000, Attributes.kernelData()))
                    .hasMessageContaining("outside the TTBR1 VA range 0xffff000000000000-0xffffffffffffffff");
        }
    }

    @Test
    void lpaeUpperHalfIsTheTopOfThirtyTwoBits() {
        Geometry g = Geometry.of(Granule.FOUR_K, dev.granule.geometry.TranslationFormat.LPAE, 30, 40);
        try (TableFixture t = new TableFixture(g, VaRange.UPPER)) {
            // TTBCR.T1SZ = 2: TTBR1 covers [0xC000_0000, 0xFFFF_FFFF]; the walk starts at level 2,
            // index VA[29:21]: 0xC020_3000 -> 1, then VA[20:12] -> 3.
            t.space.map(0xC020_3000L, 0xF0_0000_3000L, 0x1000, Attributes.kernelData());
            long l2 = t.read(t.space.root() + 1 * 8);
            assertThat(l2 & 3).isEqualTo(TABLE);
            assertThat(t.read((l2 & 0xFF_FFFF_F000L) + 3 * 8)).isEqualTo(0xF0_0000_3000L | PAGE | KERNEL_DATA);
            assertThatThrownBy(() -> t.space.map(0xBFFF_F000L, 0, 0x1000, Attributes.kernelData()))
                    .hasMessageContaining("outside the TTBR1 VA range 0xc0000000-0xffffffff");
        }
    }

    @Test
    void noBlockMappingsForcesPages() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            t.space.map(0, 0, 0x40_0000L, Attributes.kernelData(),
                    EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
            assertThat(t.space.mappings()).hasSize(1024).allSatisfy(m -> {
                assertThat(m.level()).isEqualTo(3);
                assertThat(m.contiguous()).isFalse();
            });
        }
    }

    @Test
    void unmappingAPageOfABlockSplitsItAndBreaksOnlyThatRun() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            t.space.map(0x20_0000L, 0x20_0000L, 0x20_0000L, Attributes.kernelData());
            t.space.unmap(0x21_0000L, 0x1000);
            List<Mapping> m = t.space.mappings();
            assertThat(m).hasSize(511);
            // The run holding 0x210000 (0x210000-0x21ffff) lost its Contiguous bit; the others kept it.
            assertThat(m).filteredOn(x -> x.va() >= 0x21_0000L && x.va() < 0x22_0000L)
                    .hasSize(15).allSatisfy(x -> assertThat(x.contiguous()).isFalse());
            assertThat(m).filteredOn(x -> x.va() < 0x21_0000L || x.va() >= 0x22_0000L)
                    .hasSize(496).allSatisfy(x -> assertThat(x.contiguous()).isTrue());
            // Mapping the page back and collapsing restores the single block descriptor.
            t.space.map(0x21_0000L, 0x21_0000L, 0x1000, Attributes.kernelData());
            t.space.collapse(0, 0x40_0000L);
            assertThat(t.space.mappings()).singleElement().extracting(Mapping::size).isEqualTo(0x20_0000L);
            assertThat(t.frames.stats().live()).as("the split table was freed").isEqualTo(3);
        }
    }

    @Test
    void protectingAWholeRunKeepsItContiguous() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            t.space.map(0x1_0000L, 0x1_0000L, 0x2_0000L, Attributes.kernelData());
            t.space.protect(0x1_0000L, 0x1_0000L, Attributes.kernelReadOnly());
            t.space.protect(0x2_1000L, 0x1000, Attributes.kernelReadOnly());
            List<Mapping> m = t.space.mappings();
            assertThat(m.subList(0, 16)).allSatisfy(x -> {
                assertThat(x.contiguous()).isTrue();
                assertThat(x.attributes()).isEqualTo(Attributes.kernelReadOnly());
            });
            assertThat(m.subList(16, 32)).allSatisfy(x -> assertThat(x.contiguous()).isFalse());
            assertThat(m.get(17).attributes()).isEqualTo(Attributes.kernelReadOnly());
            assertThat(m.get(18).attributes()).isEqualTo(Attributes.kernelData());
        }
    }

    @Test
    void emptyTablesAreFreed() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            t.space.map(0x80_0000_0000L, 0, 0x1000, Attributes.kernelData());
            assertThat(t.frames.stats().live()).isEqualTo(4);
            t.space.unmap(0x80_0000_0000L, 0x1000);
            assertThat(t.frames.stats().live()).isEqualTo(1);
            assertThat(t.read(t.space.root() + 8)).isZero();
        }
    }

    @Test
    void badRequestsAreRefusedWithTheReason() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            t.space.map(0x20_0000L, 0x20_0000L, 0x20_0000L, Attributes.kernelData());
            var before = t.memory.snapshot();
            assertThatThrownBy(() -> t.space.map(0x3f_f000L, 0, 0x2000, Attributes.kernelData()))
                    .isInstanceOf(PageTableException.class)
                    .hasMessageContaining("0x3ff000 is already mapped (level 2 block at 0x200000 -> PA 0x200000)");
            assertThatThrownBy(() -> t.space.map(0x1000, 0x800, 0x1000, Attributes.kernelData()))
                    .hasMessageContaining("PA 0x800 is not aligned to the 4K page size");
            assertThatThrownBy(() -> t.space.map(0x1001, 0, 0x1000, Attributes.kernelData()))
                    .hasMessageContaining("multiples of the 4K page size");
            assertThatThrownBy(() -> t.space.map(1L << 48, 0, 0x1000, Attributes.kernelData()))
                    .hasMessageContaining("outside the TTBR0 VA range");
            assertThatThrownBy(() -> t.space.map(0, 0xFFFF_FFFF_F000L, 0x2000, Attributes.kernelData()))
                    .hasMessageContaining("exceeds the 48-bit PA size");
            assertThatThrownBy(() -> t.space.protect(0x1f_f000L, 0x2000, Attributes.kernelData()))
                    .hasMessageContaining("0x1ff000 is not mapped");
            assertThatThrownBy(() -> t.space.unmap(0, 0)).hasMessageContaining("size must not be zero");
            assertThat(t.memory.snapshot()).isEqualTo(before);
        }
    }

    @Test
    void exhaustedFramesLeaveTablesByteIdentical() {
        try (TableFixture t = new TableFixture(Geometry.FOUR_K_48)) {
            t.space.map(0, 0, 0x1000, Attributes.kernelData());
            var before = t.memory.snapshot();
            var stats = t.frames.stats();
            t.frames.setLimit(stats.live() + 2);
            // Needs three new tables under a fresh level-0 entry; the third allocation fails.
            assertThatThrownBy(() -> t.space.map(0x80_0000_0000L, 0, 0x1000, Attributes.kernelData()))
                    .isInstanceOf(FrameExhaustedException.class);
            assertThat(t.memory.snapshot()).isEqualTo(before);
            assertThat(t.frames.stats().live()).isEqualTo(stats.live());
            // Splitting a block needs a frame too.
            t.frames.setLimit(Long.MAX_VALUE);
            t.space.map(0x4000_0000L, 0x4000_0000L, 1L << 30, Attributes.kernelData());
            var before2 = t.memory.snapshot();
            t.frames.setLimit(t.frames.stats().live() + 1);
            assertThatThrownBy(() -> t.space.unmap(0x4000_0000L, 0x1000)).isInstanceOf(FrameExhaustedException.class);
            assertThat(t.memory.snapshot()).isEqualTo(before2);
        }
    }

    @Test
    void sixtyFourGigabytesOfFourKPagesFitAndWalk() {
        Geometry g = Geometry.FOUR_K_48;
        try (TableFixture t = new TableFixture(g)) {
            long size = 64L << 30;
            t.space.map(0x100_0000_0000L, 0x40_0000_0000L, size, Attributes.userData(),
                    EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
            // 16 Mi PTEs in 32768 PTE tables, 64 PMD tables, 1 PUD table, plus the root.
            assertThat(t.frames.stats().live()).isEqualTo(32768 + 64 + 1 + 1);
            long[] count = {0};
            t.space.walk(0, -1L, (va, level, d) -> {
                count[0]++;
                return true;
            });
            assertThat(count[0]).isEqualTo(size / 4096);
            assertThat(t.space.lookup(0x100_0000_0000L + size - 1).orElseThrow().pa()).isEqualTo(0x40_0000_0000L + size - 4096);
            t.space.unmap(0x100_0000_0000L, size);
            assertThat(t.frames.stats().live()).isEqualTo(1);
        }
    }
}
