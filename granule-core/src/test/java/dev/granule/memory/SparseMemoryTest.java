package dev.granule.memory;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SparseMemoryTest {

    @Test
    void unwrittenRamReadsAsZeroAndCostsNothing() {
        try (SparseMemory m = SparseMemory.ofPaBits(52)) {
            assertThat(m.readLong(0xF_FFFF_FFFF_FFF8L)).isZero();
            assertThat(m.readInt(0x1234_5670L)).isZero();
            assertThat(m.touchedChunks()).isZero();
        }
    }

    @Test
    void storesLittleEndianAsTheArchitectureReadsDescriptors() {
        try (SparseMemory m = SparseMemory.ofPaBits(48)) {
            m.writeLong(0x4000_0000L, 0x0102_0304_0506_0708L);
            byte[] bytes = new byte[8];
            m.read(0x4000_0000L, bytes, 0, 8);
            assertThat(bytes).containsExactly(8, 7, 6, 5, 4, 3, 2, 1);
            assertThat(m.readInt(0x4000_0000L)).isEqualTo(0x0506_0708);
            assertThat(m.readInt(0x4000_0004L)).isEqualTo(0x0102_0304);
        }
    }

    @Test
    void aTerabyteSpaceWithScatteredWritesUsesOneChunkPerTouchedRegion() {
        try (SparseMemory m = SparseMemory.ofPaBits(40)) {
            for (long pa = 0; pa < (1L << 40); pa += 1L << 34) m.writeLong(pa + 8, pa);
            assertThat(m.touchedChunks()).isEqualTo(64);
            for (long pa = 0; pa < (1L << 40); pa += 1L << 34) assertThat(m.readLong(pa + 8)).isEqualTo(pa);
        }
    }

    @Test
    void accessOutsideRamNamesTheAddress() {
        try (SparseMemory m = SparseMemory.of(new MemoryRange(0x4000_0000L, 0x1000_0000L))) {
            assertThatThrownBy(() -> m.readLong(0x3FFF_FFF8L))
                    .isInstanceOf(MemoryAccessException.class).hasMessageContaining("0x3ffffff8");
            assertThatThrownBy(() -> m.writeLong(0x5000_0000L, 1))
                    .isInstanceOf(MemoryAccessException.class).hasMessageContaining("0x50000000");
            assertThat(m.contains(0x4FFF_FFF8L, 8)).isTrue();
            assertThat(m.contains(0x4FFF_FFF8L, 16)).isFalse();
        }
    }

    @Test
    void misalignedDescriptorAccessIsRefused() {
        try (SparseMemory m = SparseMemory.ofPaBits(32)) {
            assertThatThrownBy(() -> m.readLong(4)).isInstanceOf(MemoryAccessException.class).hasMessageContaining("misaligned");
            assertThatThrownBy(() -> m.writeInt(2, 1)).isInstanceOf(MemoryAccessException.class);
        }
    }

    @Test
    void rangesMustBeChunkAlignedAndDisjoint() {
        assertThatThrownBy(() -> SparseMemory.of(new MemoryRange(0x1000, 0x10000)))
                .hasMessageContaining("64 KiB aligned");
        assertThatThrownBy(() -> SparseMemory.of(new MemoryRange(0, 0x20000), new MemoryRange(0x10000, 0x10000)))
                .hasMessageContaining("overlap");
    }

    @Test
    void snapshotsDetectASingleChangedByteAndIgnoreZeroWrites() {
        try (SparseMemory m = SparseMemory.ofPaBits(48)) {
            m.writeLong(0x8000, 42);
            SparseMemory.Snapshot before = m.snapshot();
            m.writeLong(0x9_0000_0000L, 0); // allocates a chunk but changes no byte
            assertThat(m.snapshot()).isEqualTo(before);
            m.write(0x8003, new byte[]{1}, 0, 1);
            SparseMemory.Snapshot after = m.snapshot();
            assertThat(after).isNotEqualTo(before);
            assertThat(before.firstDifference(after)).isEqualTo(0x8003);
        }
    }

    @Test
    void fillZeroesAcrossChunkBoundaries() {
        try (SparseMemory m = SparseMemory.ofPaBits(32)) {
            for (long pa = 0xF000; pa < 0x21000; pa += 8) m.writeLong(pa, -1);
            m.fill(0xF008, 0x11FF0, (byte) 0);
            assertThat(m.readLong(0xF000)).isEqualTo(-1);
            assertThat(m.readLong(0xF008)).isZero();
            assertThat(m.readLong(0x20FF0)).isZero();
            assertThat(m.readLong(0x20FF8)).isEqualTo(-1);
        }
    }
}
