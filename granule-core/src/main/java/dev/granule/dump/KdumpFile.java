package dev.granule.dump;

import dev.granule.dump.KdumpHeaders.DiskDumpHeader;
import dev.granule.dump.KdumpHeaders.KdumpSubHeader;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A kdump-compressed dump (makedumpfile's "KDUMP   " format, also what QEMU's {@code kdump-*}
 * formats write), in its seekable form or read through a {@link FlattenedFile}. Layout, in blocks
 * of {@code block_size} bytes: the disk_dump_header (block 0), the kdump_sub_header
 * ({@code sub_hdr_size} blocks, with the offsets of the VMCOREINFO text and the ELF notes), the
 * bitmaps ({@code bitmap_blocks}: the 1st marks the RAM pages, the 2nd the pages in the dump),
 * then one 24-byte page_desc per page in the 2nd bitmap, in pfn order, then the page data.
 *
 * <p>Every offset is checked against the file before it is read; what is wrong is a
 * {@link DumpFormatException} naming the field and its offset.
 */
public final class KdumpFile {

    /** Bitmaps of more pages than this are refused: 2^30 pages are 4 TiB of 4K pages, 64 TiB of 64K. */
    public static final long MAX_PAGES = 1L << 30;

    private final DumpBytes bytes;
    private final DiskDumpHeader header;
    private final KdumpSubHeader subHeader;
    private final long pages;
    private final long bitmapAt;
    private final long bitmapHalf;
    private final long descAt;
    private final List<ElfNote> notes;
    private final Optional<byte[]> vmcoreInfo;
    private final List<String> warnings;

    private KdumpFile(DumpBytes bytes, DiskDumpHeader header, KdumpSubHeader subHeader, long pages, long bitmapAt, long bitmapHalf,
                      long descAt, List<ElfNote> notes, Optional<byte[]> vmcoreInfo, List<String> warnings) {
        this.bytes = bytes;
        this.header = header;
        this.subHeader = subHeader;
        this.pages = pages;
        this.bitmapAt = bitmapAt;
        this.bitmapHalf = bitmapHalf;
        this.descAt = descAt;
        this.notes = List.copyOf(notes);
        this.vmcoreInfo = vmcoreInfo;
        this.warnings = List.copyOf(warnings);
    }

    /** Whether {@code image} starts with the KDUMP signature. */
    public static boolean looksLikeKdump(MemorySegment image) {
        if (image.byteSize() < 8) return false;
        String sig = new String(image.asSlice(0, 8).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), java.nio.charset.StandardCharsets.ISO_8859_1);
        return KdumpHeaders.KDUMP_SIGNATURE.equals(sig) || KdumpHeaders.DISKDUMP_SIGNATURE.equals(sig);
    }

    /** Parses the headers of the kdump file {@code bytes} holds. */
    public static KdumpFile parse(DumpBytes bytes) {
        List<String> warnings = new ArrayList<>();
        DiskDumpHeader h = DiskDumpHeader.read(bytes);
        KdumpSubHeader sub = KdumpSubHeader.read(bytes, h);
        long block = h.blockSize();
        if (sub.split() != 0) {
            warnings.add("this is one part of a split dump (kdump_sub_header.split = " + sub.split() + "): pages of the other parts are missing");
        }
        if (h.incomplete()) warnings.add("disk_dump_header.status says the dump is incomplete (DUMP_DH_COMPRESSED_INCOMPLETE)");
        long pages = h.headerVersion() >= 6 && sub.maxMapnr64() != 0 ? sub.maxMapnr64() : h.maxMapnr();
        boolean wide = h.headerVersion() >= 6 && sub.maxMapnr64() != 0;
        long pagesAt = wide ? sub.at() + 96 : KdumpHeaders.OFF_MAX_MAPNR;
        // The bound keeps pfns in an int (KdumpMemory's runs) and a bitmap's chunk index at 2^17 entries (DumpBitmap).
        if (pages <= 0 || pages > MAX_PAGES) {
            throw new DumpFormatException(pagesAt, (wide ? "kdump_sub_header.max_mapnr_64" : "disk_dump_header.max_mapnr") + " is "
                    + Long.toUnsignedString(pages) + " pages; granule reads 1 to " + MAX_PAGES + " (2^30)");
        }
        long bitmapAt = block * (1 + (long) h.subHeaderBlocks());
        long bitmapBytes = h.bitmapBlocks() * block;
        bytes.check(bitmapAt, bitmapBytes, "bitmaps (disk_dump_header.bitmap_blocks)");
        long half = bitmapBytes / 2;
        if (half * 8 < pages) {
            throw new DumpFormatException(KdumpHeaders.OFF_BITMAP_BLOCKS, String.format(
                    "disk_dump_header.bitmap_blocks: %d blocks hold bitmaps of %d pages, max_mapnr is %d", h.bitmapBlocks(), half * 8, pages));
        }
        long descAt = bitmapAt + bitmapBytes;
        List<ElfNote> notes = new ArrayList<>();
        if (sub.sizeNote() != 0) {
            if (sub.sizeNote() < 0 || sub.sizeNote() > (16 << 20)) {
                throw new DumpFormatException(sub.at() + 56, "kdump_sub_header.size_note is " + sub.sizeNote() + " bytes, not 1 to 16 MiB");
            }
            bytes.check(sub.offsetNote(), sub.sizeNote(), "kdump_sub_header.offset_note/size_note");
            byte[] blob = new byte[(int) sub.sizeNote()];
            bytes.copy(sub.offsetNote(), blob, 0, blob.length, "notes");
            ElfCore.readNotes(MemorySegment.ofArray(blob), 0, blob.length, 4, sub.offsetNote(), "kdump notes", notes);
        }
        Optional<byte[]> info = Optional.empty();
        if (sub.sizeVmcoreinfo() != 0) {
            if (sub.sizeVmcoreinfo() < 0 || sub.sizeVmcoreinfo() > VmcoreInfo.MAX_BYTES) {
                throw new DumpFormatException(sub.at() + 40, "kdump_sub_header.size_vmcoreinfo is " + sub.sizeVmcoreinfo()
                        + " bytes, not 1 to " + VmcoreInfo.MAX_BYTES);
            }
            bytes.check(sub.offsetVmcoreinfo(), sub.sizeVmcoreinfo(), "kdump_sub_header.offset_vmcoreinfo/size_vmcoreinfo");
            byte[] text = new byte[(int) sub.sizeVmcoreinfo()];
            bytes.copy(sub.offsetVmcoreinfo(), text, 0, text.length, "VMCOREINFO");
            info = Optional.of(text);
        }
        return new KdumpFile(bytes, h, sub, pages, bitmapAt, half, descAt, notes, info, warnings);
    }

    public DumpBytes bytes() { return bytes; }

    public DiskDumpHeader header() { return header; }

    public KdumpSubHeader subHeader() { return subHeader; }

    /** Pages the bitmaps describe (max_mapnr): pfn 0 to pages - 1, each {@code block_size} bytes. */
    public long pages() { return pages; }

    /** File offset of the 1st bitmap (RAM pages); the 2nd (pages in the dump) follows it after {@link #bitmapBytes()}. */
    public long bitmapOffset() { return bitmapAt; }

    public long bitmapBytes() { return bitmapHalf; }

    /** File offset of page_desc 0. */
    public long pageDescOffset() { return descAt; }

    /** The ELF notes of the crashed kernel (NT_PRSTATUS per CPU, VMCOREINFO, ...). */
    public List<ElfNote> notes() { return notes; }

    /** The VMCOREINFO text the sub-header points at. */
    public Optional<byte[]> vmcoreInfo() { return vmcoreInfo; }

    public List<String> warnings() { return warnings; }

    /** The physical memory the dump holds (pages decompressed on demand). */
    public KdumpMemory memory() { return new KdumpMemory(this); }
}
