package dev.granule.memory;

import dev.granule.memory.MappedMemory.Segment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MappedMemoryTest {

    @TempDir
    Path dir;

    /** A file whose byte at offset i is (i * 7 + 3) mod 256, so every read can be checked by hand. */
    private Path patterned(int size) throws IOException {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 7 + 3);
        Path f = dir.resolve("dump.bin");
        Files.write(f, b);
        return f;
    }

    private static int pattern(long offset) { return (int) ((offset * 7 + 3) & 0xFF); }

    private static long expectedLong(long offset) {
        long v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | pattern(offset + i);
        return v;
    }

    @Test
    void readsSegmentsAtTheirPhysicalAddressesLittleEndian() throws IOException {
        Path f = patterned(0x3000);
        try (MappedMemory m = MappedMemory.open(f, List.of(
                new Segment(0x4000_0000L, 0x1000, 0x1000, 0x1000),
                new Segment(0x8000_0000L, 0x2000, 0x1000, 0x1000)))) {
            assertThat(m.readLong(0x4000_0000L)).isEqualTo(expectedLong(0x1000));
            assertThat(m.readLong(0x4000_0FF8L)).isEqualTo(expectedLong(0x1FF8));
            assertThat(m.readLong(0x8000_0010L)).isEqualTo(expectedLong(0x2010));
            assertThat(m.readInt(0x8000_0004L)).isEqualTo((int) (expectedLong(0x2004)));
            assertThat(m.ranges()).containsExactly(new MemoryRange(0x4000_0000L, 0x1000), new MemoryRange(0x8000_0000L, 0x1000));
            assertThat(m.isReadOnly()).isTrue();
        }
    }

    @Test
    void bytesPastTheFilePartOfASegmentReadAsZero() throws IOException {
        Path f = patterned(0x1000);
        // p_filesz 0x804 < p_memsz 0x2000: the tail is zero, and one long straddles the boundary.
        try (MappedMemory m = MappedMemory.open(f, List.of(new Segment(0x1_0000, 0, 0x804, 0x2000)))) {
            assertThat(m.readLong(0x1_07F8)).isEqualTo(expectedLong(0x7F8));
            long straddling = m.readLong(0x1_0800);
            assertThat(straddling).isEqualTo(expectedLong(0x800) & 0xFFFF_FFFFL);
            assertThat(m.readLong(0x1_0808)).isZero();
            assertThat(m.readLong(0x1_1FF8)).isZero();
            byte[] b = new byte[16];
            m.read(0x1_07FC, b, 0, 16);
            for (int i = 0; i < 8; i++) assertThat(b[i] & 0xFF).isEqualTo(pattern(0x7FC + i));
            for (int i = 8; i < 16; i++) assertThat(b[i]).isZero();
        }
    }

    @Test
    void adjacentSegmentsFormOneRangeAndAReadMayCrossThem() throws IOException {
        Path f = patterned(0x3000);
        // PA order is the reverse of file order; the boundary at PA 0x1004 is not 8-aligned.
        try (MappedMemory m = MappedMemory.open(f, List.of(
                new Segment(0x1004, 0x0000, 0x0FFC, 0x0FFC),
                new Segment(0x0000, 0x1000, 0x1004, 0x1004)))) {
            assertThat(m.ranges()).containsExactly(new MemoryRange(0, 0x2000));
            // Bytes 0x1000..0x1003 come from file 0x2000..0x2003 (segment 2), 0x1004.. from file 0x0000...
            long v = m.readLong(0x1000);
            long expected = 0;
            for (int i = 7; i >= 4; i--) expected = (expected << 8) | pattern(i - 4);
            for (int i = 3; i >= 0; i--) expected = (expected << 8) | pattern(0x2000 + i);
            assertThat(v).isEqualTo(expected);
            assertThat(m.contains(0xFF8, 0x10)).isTrue();
            assertThat(m.contains(0x1FF8, 0x10)).isFalse();
        }
    }

    @Test
    void readsOutsideTheSegmentsAndMisalignedReadsThrowNamingTheAddress() throws IOException {
        Path f = patterned(0x1000);
        try (MappedMemory m = MappedMemory.open(f, List.of(new Segment(0x4000, 0, 0x1000, 0x1000)))) {
            assertThatThrownBy(() -> m.readLong(0x5000)).isInstanceOf(MemoryAccessException.class)
                    .hasMessageContaining("0x5000").hasMessageContaining("not in the dump");
            assertThatThrownBy(() -> m.readLong(0x4004)).isInstanceOf(MemoryAccessException.class)
                    .hasMessageContaining("misaligned");
            assertThatThrownBy(() -> m.read(0x4FF0, new byte[32], 0, 32)).isInstanceOf(MemoryAccessException.class);
            assertThat(m.contains(0x3FFF, 1)).isFalse();
            assertThat(m.contains(0x4000, 0x1000)).isTrue();
            assertThat(m.contains(Long.MAX_VALUE, 2)).isFalse();
        }
    }

    @Test
    void everyWriteThrowsAndLeavesTheFileUnchanged() throws IOException {
        Path f = patterned(0x1000);
        byte[] before = Files.readAllBytes(f);
        try (MappedMemory m = MappedMemory.open(f, List.of(new Segment(0, 0, 0x1000, 0x1000)))) {
            assertThatThrownBy(() -> m.writeLong(0, 1)).isInstanceOf(MemoryAccessException.class).hasMessageContaining("read-only");
            assertThatThrownBy(() -> m.writeInt(0, 1)).isInstanceOf(MemoryAccessException.class);
            assertThatThrownBy(() -> m.write(0, new byte[4], 0, 4)).isInstanceOf(MemoryAccessException.class);
            assertThatThrownBy(() -> m.fill(0, 8, (byte) 1)).isInstanceOf(MemoryAccessException.class);
        }
        assertThat(Files.readAllBytes(f)).isEqualTo(before);
    }

    @Test
    void segmentsThatOverlapOrLeaveTheFileAreRefused() throws IOException {
        Path f = patterned(0x1000);
        assertThatThrownBy(() -> MappedMemory.open(f, List.of(new Segment(0, 0, 0x800, 0x800), new Segment(0x400, 0, 0x100, 0x800))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlap");
        assertThatThrownBy(() -> MappedMemory.open(f, List.of(new Segment(0, 0xF00, 0x200, 0x200))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the file has 0x1000 bytes");
        assertThatThrownBy(() -> new Segment(0, 0, 0x200, 0x100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Segment(Long.MAX_VALUE - 8, 0, 0, 0x100)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rawDumpIsTheWholeFileAtABase() throws IOException {
        Path f = patterned(0x2000);
        try (MappedMemory m = MappedMemory.raw(f, 0x4000_0000L)) {
            assertThat(m.ranges()).containsExactly(new MemoryRange(0x4000_0000L, 0x2000));
            assertThat(m.readLong(0x4000_1FF8L)).isEqualTo(expectedLong(0x1FF8));
        }
    }

    /** A sparse 6 GiB file: the mapping must address past 4 GiB without copying anything to the heap. */
    @Test
    void mapsFilesLargerThanFourGibibytes() throws IOException {
        Path f = dir.resolve("big.bin");
        long size = 6L << 30;
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(size);
            raf.seek(size - 8);
            raf.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            raf.seek(5L << 30);
            raf.write(new byte[] {(byte) 0xAA, 0, 0, 0, 0, 0, 0, (byte) 0x80});
        }
        try (MappedMemory m = MappedMemory.raw(f, 0x40_0000_0000L)) {
            assertThat(m.readLong(0x40_0000_0000L + size - 8)).isEqualTo(0x0807_0605_0403_0201L);
            assertThat(m.readLong(0x40_0000_0000L + (5L << 30))).isEqualTo(0x8000_0000_0000_00AAL);
            assertThat(m.ramBytes()).isEqualTo(size);
        }
    }
}
