package dev.granule.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The test's own reading of a kdump-compressed file's second (dumpable) bitmap, written from
 * makedumpfile's diskdump_mgmt.h and kept apart from granule's reader so that "this page is not in
 * the dump" is checked against the file, not against granule: disk_dump_header.status at byte
 * 424, block_size 428, sub_hdr_size 432, bitmap_blocks 436 (after the 8-byte signature, the
 * header_version, the 390-byte utsname and the 16-byte timeval at 408); the bitmaps follow the
 * header block and the sub-header blocks, the second one in the second half of bitmap_blocks;
 * bit {@code pfn & 7} of byte {@code pfn >> 3} is set for a page in the dump.
 */
record DiskDumpBitmap(int status, int blockSize, byte[] dumpable) {

    static DiskDumpBitmap read(Path kdump) throws IOException {
        try (FileChannel ch = FileChannel.open(kdump, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(448).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            String signature = new String(h.array(), 0, 8, java.nio.charset.StandardCharsets.US_ASCII);
            if (!signature.equals("KDUMP   ")) throw new IOException(kdump + " is not a KDUMP file: " + signature);
            int status = h.getInt(424);
            int blockSize = h.getInt(428);
            int subHeaderBlocks = h.getInt(432);
            long bitmapBlocks = Integer.toUnsignedLong(h.getInt(436));
            long half = bitmapBlocks * blockSize / 2;
            ByteBuffer bitmap = ByteBuffer.allocate(Math.toIntExact(half));
            ch.read(bitmap, (long) blockSize * (1 + subHeaderBlocks) + half);
            return new DiskDumpBitmap(status, blockSize, bitmap.array());
        }
    }

    boolean dumpable(long pa) {
        long pfn = pa / blockSize;
        return pfn >> 3 < dumpable.length && (dumpable[(int) (pfn >> 3)] >> (pfn & 7) & 1) != 0;
    }

    long dumpablePages() {
        long n = 0;
        for (byte b : dumpable) n += Integer.bitCount(b & 0xff);
        return n;
    }
}
