package dev.granule.dump;

import java.nio.charset.StandardCharsets;

/**
 * The two headers at the start of a kdump-compressed ("KDUMP   ") file, as makedumpfile's
 * diskdump_mod.h lays them out for a 64-bit machine (little-endian, LP64): {@code disk_dump_header}
 * in block 0, {@code kdump_sub_header} in block 1.
 */
public final class KdumpHeaders {

    public static final String KDUMP_SIGNATURE = "KDUMP   ";
    public static final String DISKDUMP_SIGNATURE = "DISKDUMP";

    /** disk_dump_header field offsets: signature[8], header_version, new_utsname (6 x 65 bytes), timeval (8-aligned). */
    static final int OFF_VERSION = 8;
    static final int OFF_UTSNAME = 12;
    static final int UTS_FIELD = 65;
    static final int OFF_TIMESTAMP = 408;
    static final int OFF_STATUS = 424;
    static final int OFF_BLOCK_SIZE = 428;
    static final int OFF_SUB_HDR_SIZE = 432;
    static final int OFF_BITMAP_BLOCKS = 436;
    static final int OFF_MAX_MAPNR = 440;
    static final int OFF_NR_CPUS = 460;
    static final int DISK_DUMP_HEADER_SIZE = 464;

    /** Compression flags, in disk_dump_header.status and in page_desc.flags. */
    public static final int COMPRESSED_ZLIB = 0x1;
    public static final int COMPRESSED_LZO = 0x2;
    public static final int COMPRESSED_SNAPPY = 0x4;
    public static final int COMPRESSED_INCOMPLETE = 0x8;
    public static final int EXCLUDED_VMEMMAP = 0x10;
    public static final int COMPRESSED_ZSTD = 0x20;

    private KdumpHeaders() {}

    /**
     * disk_dump_header.
     *
     * @param release   utsname.release (QEMU writes none; makedumpfile copies the kernel's)
     * @param machine   utsname.machine
     * @param status    DUMP_DH_* flags: the codecs used, an incomplete dump
     * @param blockSize bytes per block and per page of the bitmaps and page descriptors
     * @param subHeaderBlocks kdump_sub_header's size in blocks
     * @param bitmapBlocks    both bitmaps' size in blocks
     * @param maxMapnr  the 32-bit max_mapnr (header_version 6 moves the full value to the sub-header)
     */
    public record DiskDumpHeader(int headerVersion, String release, String machine, long timestampSeconds, int status,
                                 int blockSize, int subHeaderBlocks, long bitmapBlocks, long maxMapnr, int nrCpus) {

        static DiskDumpHeader read(DumpBytes f) {
            f.check(0, DISK_DUMP_HEADER_SIZE, "disk_dump_header");
            byte[] sig = new byte[8];
            f.copy(0, sig, 0, 8, "disk_dump_header.signature");
            String signature = new String(sig, StandardCharsets.ISO_8859_1);
            if (DISKDUMP_SIGNATURE.equals(signature)) {
                throw new DumpFormatException(0, "a diskdump (\"DISKDUMP\") file from the old diskdump driver; granule reads "
                        + "makedumpfile's \"KDUMP   \" files");
            }
            if (!KDUMP_SIGNATURE.equals(signature)) throw new DumpFormatException(0, "disk_dump_header.signature is not \"KDUMP   \"");
            int version = f.u32(OFF_VERSION, "disk_dump_header.header_version");
            if (version < 1) throw new DumpFormatException(OFF_VERSION, "disk_dump_header.header_version is " + version + ", not 1 or later");
            int blockSize = f.u32(OFF_BLOCK_SIZE, "disk_dump_header.block_size");
            if (blockSize < 1024 || blockSize > (1 << 20) || Integer.bitCount(blockSize) != 1) {
                throw new DumpFormatException(OFF_BLOCK_SIZE, "disk_dump_header.block_size is " + blockSize
                        + ", not a power of two from 1 KiB to 1 MiB");
            }
            int sub = f.u32(OFF_SUB_HDR_SIZE, "disk_dump_header.sub_hdr_size");
            if (sub < 1 || sub > 1024) {
                throw new DumpFormatException(OFF_SUB_HDR_SIZE, "disk_dump_header.sub_hdr_size is " + sub + " blocks, not 1 to 1024");
            }
            long bitmapBlocks = Integer.toUnsignedLong(f.u32(OFF_BITMAP_BLOCKS, "disk_dump_header.bitmap_blocks"));
            if (bitmapBlocks == 0) throw new DumpFormatException(OFF_BITMAP_BLOCKS, "disk_dump_header.bitmap_blocks is 0: no page is described");
            return new DiskDumpHeader(version, uts(f, 2), uts(f, 4), f.u64(OFF_TIMESTAMP, "disk_dump_header.timestamp"),
                    f.u32(OFF_STATUS, "disk_dump_header.status"), blockSize, sub, bitmapBlocks,
                    Integer.toUnsignedLong(f.u32(OFF_MAX_MAPNR, "disk_dump_header.max_mapnr")), f.u32(OFF_NR_CPUS, "disk_dump_header.nr_cpus"));
        }

        private static String uts(DumpBytes f, int field) {
            byte[] b = new byte[UTS_FIELD];
            f.copy(OFF_UTSNAME + (long) field * UTS_FIELD, b, 0, b.length, "disk_dump_header.utsname");
            int n = 0;
            while (n < b.length && b[n] != 0) n++;
            return new String(b, 0, n, StandardCharsets.ISO_8859_1);
        }

        /** The codec names {@link #status()} announces. */
        public String codecs() {
            StringBuilder b = new StringBuilder();
            if ((status & COMPRESSED_ZLIB) != 0) b.append("zlib ");
            if ((status & COMPRESSED_LZO) != 0) b.append("lzo ");
            if ((status & COMPRESSED_SNAPPY) != 0) b.append("snappy ");
            if ((status & COMPRESSED_ZSTD) != 0) b.append("zstd ");
            return b.isEmpty() ? "none" : b.toString().strip();
        }

        public boolean incomplete() { return (status & COMPRESSED_INCOMPLETE) != 0; }
    }

    /**
     * kdump_sub_header (fields by header_version: start/end_pfn from 2, VMCOREINFO from 3, notes
     * from 4, erase info from 5, the 64-bit pfn fields from 6); absent fields are 0.
     */
    public record KdumpSubHeader(long at, long physBase, int dumpLevel, int split, long offsetVmcoreinfo, long sizeVmcoreinfo,
                                 long offsetNote, long sizeNote, long maxMapnr64) {

        static KdumpSubHeader read(DumpBytes f, DiskDumpHeader h) {
            long at = h.blockSize();
            int v = h.headerVersion();
            f.check(at, 104, "kdump_sub_header");
            return new KdumpSubHeader(at, f.u64(at, "kdump_sub_header.phys_base"), f.u32(at + 8, "kdump_sub_header.dump_level"),
                    f.u32(at + 12, "kdump_sub_header.split"),
                    v >= 3 ? f.u64(at + 32, "kdump_sub_header.offset_vmcoreinfo") : 0,
                    v >= 3 ? f.u64(at + 40, "kdump_sub_header.size_vmcoreinfo") : 0,
                    v >= 4 ? f.u64(at + 48, "kdump_sub_header.offset_note") : 0,
                    v >= 4 ? f.u64(at + 56, "kdump_sub_header.size_note") : 0,
                    v >= 6 ? f.u64(at + 96, "kdump_sub_header.max_mapnr_64") : 0);
        }
    }
}
