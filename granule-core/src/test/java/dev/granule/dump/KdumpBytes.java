package dev.granule.dump;

import io.airlift.compress.lzo.LzoCompressor;
import io.airlift.compress.snappy.SnappyCompressor;
import io.airlift.compress.zstd.ZstdCompressor;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.Deflater;

/**
 * Hand-assembled kdump-compressed files for tests, laid out field by field as makedumpfile's
 * diskdump_mod.h gives them (disk_dump_header: signature 0, header_version 8, utsname 12 (6 x 65),
 * timestamp 408, status 424, block_size 428, sub_hdr_size 432, bitmap_blocks 436, max_mapnr 440,
 * nr_cpus 460; kdump_sub_header in block 1: phys_base 0, dump_level 8, split 12,
 * offset/size_vmcoreinfo 32/40, offset/size_note 48/56, max_mapnr_64 96; bitmaps after the
 * sub-header, 1st then 2nd, bit (pfn % 8) of byte pfn / 8; page_desc {offset, size, flags,
 * page_flags} = 24 bytes per dumped page in pfn order), independent of granule's reader.
 */
final class KdumpBytes {

    static final int ZLIB = 1, LZO = 2, SNAPPY = 4, ZSTD = 0x20;

    final int blockSize;
    final long maxMapnr;
    /** pfn -> page contents, for the pages in the dump (the 2nd bitmap). */
    final TreeMap<Long, byte[]> pages = new TreeMap<>();
    /** pfn -> codec flag (0: stored as is). */
    final TreeMap<Long, Integer> codec = new TreeMap<>();
    /** RAM pages left out of the dump (in the 1st bitmap only). */
    final List<Long> excluded = new ArrayList<>();
    String vmcoreInfo = "";
    int headerVersion = 6;

    KdumpBytes(int blockSize, long maxMapnr) {
        this.blockSize = blockSize;
        this.maxMapnr = maxMapnr;
    }

    KdumpBytes page(long pfn, byte[] contents, int codecFlag) {
        pages.put(pfn, contents);
        codec.put(pfn, codecFlag);
        return this;
    }

    /** A page whose every 8-byte word is its own physical address plus {@code salt}. */
    byte[] pattern(long pfn, long salt) {
        ByteBuffer b = ByteBuffer.allocate(blockSize).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < blockSize; i += 8) b.putLong(i, pfn * blockSize + i + salt);
        return b.array();
    }

    static byte[] compress(int codecFlag, byte[] page) {
        return switch (codecFlag) {
            case 0 -> page;
            case ZLIB -> {
                Deflater d = new Deflater();
                d.setInput(page);
                d.finish();
                byte[] out = new byte[page.length * 2 + 64];
                int n = d.deflate(out);
                d.end();
                yield Arrays.copyOf(out, n);
            }
            case LZO -> run(new LzoCompressor(), page);
            case SNAPPY -> run(new SnappyCompressor(), page);
            case ZSTD -> run(new ZstdCompressor(), page);
            default -> throw new IllegalArgumentException("codec " + codecFlag);
        };
    }

    private static byte[] run(io.airlift.compress.Compressor c, byte[] page) {
        byte[] out = new byte[c.maxCompressedLength(page.length)];
        int n = c.compress(page, 0, page.length, out, 0, out.length);
        return Arrays.copyOf(out, n);
    }

    /** Bytes of each bitmap: a whole number of blocks, at least one. */
    long bitmapHalf() { return Math.max(blockSize, ((maxMapnr + 7) / 8 + blockSize - 1) / blockSize * blockSize); }

    /** File offset of the 1st bitmap: after the header block and one sub-header block. */
    long bitmapAt() { return 2L * blockSize; }

    /** File offset of page_desc 0. */
    long descAt() { return bitmapAt() + 2 * bitmapHalf(); }

    /** The KDUMP file. */
    byte[] build() {
        long bitmapHalf = bitmapHalf();
        long bitmapAt = bitmapAt();
        long descAt = descAt();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        long dataAt = descAt + 24L * pages.size();
        ByteBuffer desc = ByteBuffer.allocate(24 * pages.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (var e : pages.entrySet()) {
            int flag = codec.get(e.getKey());
            byte[] stored = compress(flag, e.getValue());
            desc.putLong(dataAt + data.size()).putInt(stored.length).putInt(flag).putLong(0);
            data.writeBytes(stored);
        }
        ByteBuffer f = ByteBuffer.allocate((int) (dataAt + data.size())).order(ByteOrder.LITTLE_ENDIAN);
        f.put(0, headerBlocks());
        for (long pfn : pages.keySet()) setBit(f, bitmapAt, pfn, bitmapHalf);
        for (long pfn : excluded) setBit(f, bitmapAt, pfn, 0);
        f.put((int) descAt, desc.array());
        f.put((int) dataAt, data.toByteArray());
        return f.array();
    }

    /** The header block and the sub-header block (with the VMCOREINFO text) of {@link #build()}'s file. */
    byte[] headerBlocks() {
        int bs = blockSize;
        byte[] info = vmcoreInfo.getBytes(StandardCharsets.US_ASCII);
        long infoAt = bs + 104;
        ByteBuffer f = ByteBuffer.allocate(2 * bs).order(ByteOrder.LITTLE_ENDIAN);
        f.put(0, "KDUMP   ".getBytes(StandardCharsets.US_ASCII)).putInt(8, headerVersion);
        f.put(12 + 2 * 65, "6.1.0-test".getBytes(StandardCharsets.US_ASCII));
        f.put(12 + 4 * 65, "aarch64".getBytes(StandardCharsets.US_ASCII));
        int status = 0;
        for (int c : codec.values()) status |= c;
        f.putInt(424, status).putInt(428, bs).putInt(432, 1).putInt(436, (int) (2 * bitmapHalf() / bs))
                .putInt(440, (int) Math.min(maxMapnr, 0xFFFF_FFFFL)).putInt(460, 1);
        f.putLong(bs, 0x4000_0000L).putInt(bs + 8, 31).putLong(bs + 32, info.length == 0 ? 0 : infoAt).putLong(bs + 40, info.length)
                .putLong(bs + 96, maxMapnr);
        f.put((int) infoAt, info);
        return f.array();
    }

    /**
     * {@link #build()}'s file as a flattened stream that writes only what is not zero, as a record
     * each: the header blocks, every bitmap byte with a bit set, the page_desc array, the pages
     * (stored as they are: codec 0); everything else is a hole. A last record of one zero byte ends
     * the logical file after the bitmaps when no page is dumped. The stream stays a few KiB however
     * many pages max_mapnr claims.
     */
    byte[] flattenedSparse() {
        TreeMap<Long, Integer> bitmapBytes = new TreeMap<>(); // offset -> byte value
        for (long pfn : pages.keySet()) {
            bitmapBytes.merge(bitmapAt() + pfn / 8, 1 << (pfn % 8), (a, b) -> a | b);
            bitmapBytes.merge(bitmapAt() + bitmapHalf() + pfn / 8, 1 << (pfn % 8), (a, b) -> a | b);
        }
        for (long pfn : excluded) bitmapBytes.merge(bitmapAt() + pfn / 8, 1 << (pfn % 8), (a, b) -> a | b);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(4096).order(ByteOrder.BIG_ENDIAN);
        head.put(0, "makedumpfile".getBytes(StandardCharsets.US_ASCII)).putLong(16, 1).putLong(24, 1);
        out.writeBytes(head.array());
        record(out, 0, headerBlocks());
        bitmapBytes.forEach((at, value) -> record(out, at, new byte[] {(byte) (int) value}));
        long dataAt = descAt() + 24L * pages.size();
        ByteBuffer desc = ByteBuffer.allocate(24 * pages.size()).order(ByteOrder.LITTLE_ENDIAN);
        int k = 0;
        for (var e : pages.entrySet()) {
            desc.putLong(dataAt + (long) k++ * blockSize).putInt(blockSize).putInt(0).putLong(0);
        }
        if (pages.isEmpty()) {
            record(out, descAt() - 1, new byte[1]);
        } else {
            record(out, descAt(), desc.array());
            k = 0;
            for (byte[] page : pages.values()) record(out, dataAt + (long) k++ * blockSize, page);
        }
        out.writeBytes(ByteBuffer.allocate(16).putLong(-1).putLong(-1).array());
        return out.toByteArray();
    }

    /** Sets pfn's bit in the 1st bitmap and, with {@code second} = the bitmap size, in the 2nd too. */
    private static void setBit(ByteBuffer f, long bitmapAt, long pfn, long second) {
        int at = (int) (bitmapAt + pfn / 8);
        f.put(at, (byte) (f.get(at) | 1 << (pfn % 8)));
        if (second > 0) f.put((int) (at + second), (byte) (f.get((int) (at + second)) | 1 << (pfn % 8)));
    }

    /**
     * The same file as makedumpfile's flattened stream: the 4096-byte makedumpfile_header, then
     * big-endian {offset, buf_size} records of {@code chunk} bytes in shuffled order, one stale
     * record that a later one overwrites, and the end marker.
     */
    static byte[] flatten(byte[] file, int chunk, long seed) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(4096).order(ByteOrder.BIG_ENDIAN);
        head.put(0, "makedumpfile".getBytes(StandardCharsets.US_ASCII)).putLong(16, 1).putLong(24, 1);
        out.writeBytes(head.array());
        List<Integer> starts = new ArrayList<>();
        for (int at = 0; at < file.length; at += chunk) starts.add(at);
        Collections.shuffle(starts, new Random(seed));
        // A stale copy of the first chunk, garbage, written first: the real one later must win.
        byte[] stale = new byte[Math.min(chunk + 7, file.length)];
        Arrays.fill(stale, (byte) 0x5A);
        record(out, 0, stale);
        for (int at : starts) record(out, at, Arrays.copyOfRange(file, at, Math.min(file.length, at + chunk)));
        // ...and the 7 bytes the stale record put after the first chunk are rewritten too.
        if (file.length > chunk) record(out, chunk, Arrays.copyOfRange(file, chunk, Math.min(file.length, chunk + 7)));
        out.writeBytes(ByteBuffer.allocate(16).putLong(-1).putLong(-1).array());
        return out.toByteArray();
    }

    private static void record(ByteArrayOutputStream out, long offset, byte[] data) {
        out.writeBytes(ByteBuffer.allocate(16).putLong(offset).putLong(data.length).array());
        out.writeBytes(data);
    }
}
