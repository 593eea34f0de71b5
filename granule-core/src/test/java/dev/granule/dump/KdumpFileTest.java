package dev.granule.dump;

import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.PageNotInDumpException;
import dev.granule.memory.PageState;
import dev.granule.memory.PhysicalMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** kdump-compressed and flattened files assembled by hand ({@link KdumpBytes}), read back. */
class KdumpFileTest {

    private static final int BS = 4096;

    /** pfn 0x40000.. is PA 0x4000_0000..: one page per codec, one excluded page, then a hole that is not RAM. */
    private static KdumpBytes sample() {
        KdumpBytes k = new KdumpBytes(BS, 0x40010);
        long base = 0x40000;
        k.page(base, k.pattern(base, 0), 0);
        k.page(base + 1, k.pattern(base + 1, 0), KdumpBytes.ZLIB);
        k.page(base + 2, k.pattern(base + 2, 0), KdumpBytes.LZO);
        k.page(base + 3, k.pattern(base + 3, 0), KdumpBytes.SNAPPY);
        k.page(base + 4, k.pattern(base + 4, 0), KdumpBytes.ZSTD);
        k.page(base + 5, new byte[BS], KdumpBytes.ZLIB);
        k.excluded.add(base + 6);
        k.page(base + 7, k.pattern(base + 7, 0), KdumpBytes.ZLIB);
        k.vmcoreInfo = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n";
        return k;
    }

    private static KdumpFile open(byte[] file) {
        MemorySegment image = MemorySegment.ofArray(file);
        return KdumpFile.parse(FlattenedFile.looksFlattened(image) ? FlattenedFile.index(image) : new DumpBytes.Mapped(image));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void everyCodecsPageReadsBackAsItsOwnAddresses(boolean flattened) {
        byte[] file = sample().build();
        if (flattened) file = KdumpBytes.flatten(file, 1000, 7);
        KdumpFile k = open(file);
        assertThat(k.header().blockSize()).isEqualTo(BS);
        assertThat(k.header().release()).isEqualTo("6.1.0-test");
        assertThat(k.header().codecs()).isEqualTo("zlib lzo snappy zstd");
        assertThat(k.subHeader().dumpLevel()).isEqualTo(31);
        assertThat(new String(k.vmcoreInfo().orElseThrow())).startsWith("OSRELEASE=6.1.0-test");
        try (PhysicalMemory m = k.memory()) {
            for (int p : new int[] {0, 1, 2, 3, 4, 7}) {
                long pa = 0x4000_0000L + (long) p * BS;
                // Each word of the hand-made page is its own PA (KdumpBytes.pattern).
                assertThat(m.readLong(pa)).isEqualTo(pa);
                assertThat(m.readLong(pa + BS - 8)).isEqualTo(pa + BS - 8);
                assertThat(m.readInt(pa + 12)).isEqualTo((int) ((pa + 8) >>> 32));
            }
            assertThat(m.readLong(0x4000_5000L + 0x800)).isZero();
            // A read that crosses from a zlib page into an LZO page.
            byte[] across = new byte[16];
            m.read(0x4000_2000L - 8, across, 0, 16);
            ByteBuffer b = ByteBuffer.wrap(across).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(b.getLong(0)).isEqualTo(0x4000_2000L - 8);
            assertThat(b.getLong(8)).isEqualTo(0x4000_2000L);
            assertThat(m.ranges()).containsExactly(new MemoryRange(0x4000_0000L, 6 * BS), new MemoryRange(0x4000_7000L, BS));
        }
    }

    @Test
    void anExcludedPageIsNotInTheDumpAndAHoleIsNotRam() {
        try (PhysicalMemory m = open(sample().build()).memory()) {
            assertThat(m.pageState(0x4000_6008L)).isEqualTo(PageState.EXCLUDED);
            assertThat(m.pageState(0x4000_8000L)).isEqualTo(PageState.NOT_RAM);
            assertThat(m.pageState(0x1000L)).isEqualTo(PageState.NOT_RAM);
            assertThat(m.pageState(0x4000_7000L)).isEqualTo(PageState.PRESENT);
            assertThat(m.contains(0x4000_6000L, 8)).isFalse();
            assertThatThrownBy(() -> m.readLong(0x4000_6010L)).isInstanceOf(PageNotInDumpException.class)
                    .hasMessageContaining("0x40006000-0x40007000").hasMessageContaining("dump level 31");
            assertThatThrownBy(() -> m.readLong(0x4000_8000L)).isInstanceOf(MemoryAccessException.class)
                    .isNotInstanceOf(PageNotInDumpException.class);
            assertThatThrownBy(() -> m.read(0x4000_5ff8L, new byte[16], 0, 16)).isInstanceOf(PageNotInDumpException.class);
        }
    }

    @Test
    void theFlattenedIndexResolvesOverlapsAsMakedumpfileRDoes() {
        byte[] file = sample().build();
        FlattenedFile f = FlattenedFile.index(MemorySegment.ofArray(KdumpBytes.flatten(file, 333, 3)));
        assertThat(f.size()).isEqualTo(file.length);
        byte[] back = new byte[file.length];
        f.copy(0, back, 0, back.length, "all");
        assertThat(back).isEqualTo(file);
        assertThat(f.warnings()).anyMatch(w -> w.contains("overlap"));
    }

    @Test
    void brokenHeadersAreOneLineErrorsNamingFieldAndOffset() {
        byte[] good = sample().build();
        assertThatThrownBy(() -> open(patch(good, 428, 3000))).isInstanceOf(DumpFormatException.class)
                .hasMessageContaining("block_size").hasMessageContaining("offset 0x1ac");
        assertThatThrownBy(() -> open(patch(good, 436, 0x7fff_0000))).isInstanceOf(DumpFormatException.class)
                .hasMessageContaining("bitmap_blocks");
        // max_mapnr_64 beyond what the bitmaps hold
        assertThatThrownBy(() -> open(patch64(good, BS + 96, 1L << 29))).isInstanceOf(DumpFormatException.class)
                .hasMessageContaining("max_mapnr");
        assertThatThrownBy(() -> open(patch64(good, BS + 40, 1 << 20))).isInstanceOf(DumpFormatException.class)
                .hasMessageContaining("size_vmcoreinfo");
        byte[] diskdump = good.clone();
        System.arraycopy("DISKDUMP".getBytes(), 0, diskdump, 0, 8);
        assertThatThrownBy(() -> open(diskdump)).hasMessageContaining("DISKDUMP");
    }

    /**
     * A header claiming more pages than the in-memory bitmaps may hold (2^30; 2^37 + 1 pages would wrap the
     * int word count): refused before anything is allocated or read, naming the field, its offset and the
     * limit. Only the header makes the claim; the file stays a few blocks long.
     */
    @Test
    void aMaxMapnrBeyondTheBitmapBoundIsRefusedFromTheHeaderAlone() {
        byte[] good = sample().build();
        // header_version 6: the 64-bit max_mapnr_64 at kdump_sub_header + 96 (block 1, so file offset 0x1060)
        byte[] wide = patch64(good, BS + 96, (1L << 37) + 1);
        assertThatThrownBy(() -> open(wide)).isInstanceOf(DumpFormatException.class)
                .hasMessage("kdump_sub_header.max_mapnr_64 is 137438953473 pages; granule reads 1 to 1073741824 (2^30) (at file offset 0x1060)");
        assertThatThrownBy(() -> open(KdumpBytes.flatten(wide, 1000, 5))).isInstanceOf(DumpFormatException.class)
                .hasMessageContaining("max_mapnr_64").hasMessageContaining("0x1060");
        // header_version 5: the 32-bit disk_dump_header.max_mapnr at 440 (0x1b8), one past the bound
        byte[] v5 = patch(patch(good, 8, 5), 440, (1 << 30) + 1);
        assertThatThrownBy(() -> open(v5)).isInstanceOf(DumpFormatException.class)
                .hasMessage("disk_dump_header.max_mapnr is 1073741825 pages; granule reads 1 to 1073741824 (2^30) (at file offset 0x1b8)");
        // the 32-bit field's largest value too (as unsigned: 2^32 - 1 pages)
        assertThatThrownBy(() -> open(patch(patch(good, 8, 5), 440, -1))).hasMessageContaining("4294967295 pages");
    }

    @Test
    void brokenPageDescriptorsAndDataFailTheReadNotTheProcess() {
        KdumpBytes k = sample();
        byte[] good = k.build();
        // header and sub-header blocks, then two bitmaps of 0x40010 bits = 0x8002 bytes, 9 blocks each
        long descAt = 2L * BS + 2 * 9L * BS;
        // page_desc #1 (pfn 0x40001, zlib): data offset past the end of the file
        byte[] far = patch64(good, descAt + 24, good.length + 100L);
        try (PhysicalMemory m = open(far).memory()) {
            assertThatThrownBy(() -> m.readLong(0x4000_1000L)).isInstanceOf(DumpFormatException.class)
                    .hasMessageContaining("page_desc #1 (pfn 0x40001)").hasMessageContaining("outside");
        }
        // ...its size larger than a block
        try (PhysicalMemory m = open(patch(good, descAt + 24 + 8, BS + 1)).memory()) {
            assertThatThrownBy(() -> m.readLong(0x4000_1000L)).hasMessageContaining("size is 4097");
        }
        // ...its zlib data damaged
        long dataAt = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong((int) descAt + 24);
        byte[] bad = good.clone();
        for (int i = 0; i < 8; i++) bad[(int) dataAt + 2 + i] ^= (byte) 0xA5;
        try (PhysicalMemory m = open(bad).memory()) {
            assertThatThrownBy(() -> m.readLong(0x4000_1000L)).isInstanceOf(DumpFormatException.class)
                    .hasMessageContaining("zlib data");
            assertThat(m.readLong(0x4000_2000L)).as("other pages still read").isEqualTo(0x4000_2000L);
        }
        // ...an unknown codec flag
        try (PhysicalMemory m = open(patch(good, descAt + 24 + 12, 0x40)).memory()) {
            assertThatThrownBy(() -> m.readLong(0x4000_1000L)).hasMessageContaining("flags 0x40");
        }
    }

    /** Every prefix of a file, KDUMP and flattened: a DumpFormatException or a dump whose reads fail cleanly. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void everyTruncationIsAFormatErrorOrACleanReadError(boolean flattened) {
        byte[] whole = sample().build();
        if (flattened) whole = KdumpBytes.flatten(whole, 1000, 11);
        for (int n = 0; n < whole.length; n += 37) {
            byte[] cut = java.util.Arrays.copyOf(whole, n);
            try {
                KdumpFile k = open(cut);
                try (PhysicalMemory m = k.memory()) {
                    for (MemoryRange r : m.ranges()) {
                        for (long pa = r.base(); pa < r.end(); pa += BS) {
                            try {
                                m.readLong(pa);
                            } catch (DumpFormatException expected) {
                                assertThat(expected.getMessage()).contains("offset");
                            }
                        }
                    }
                }
            } catch (DumpFormatException expected) {
                assertThat(expected.getMessage()).doesNotContain("\n");
            }
        }
    }

    private static byte[] patch(byte[] f, long at, int v) {
        byte[] c = f.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt((int) at, v);
        return c;
    }

    private static byte[] patch64(byte[] f, long at, long v) {
        byte[] c = f.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong((int) at, v);
        return c;
    }
}
