package dev.granule.dump;

import dev.granule.memory.MappedMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An ELF64 core file of an arm64 machine, as written by the kdump kernel ({@code /proc/vmcore}),
 * {@code makedumpfile -E} or QEMU's {@code dump-guest-memory}: the header and program headers
 * validated, the PT_LOAD headers turned into physical-memory segments, the PT_NOTE segments split
 * into notes.
 *
 * <p>The parser reads from a {@link MemorySegment} (a mapped file, or bytes) and trusts nothing:
 * every count and offset is checked against the file size before it is used, counts are capped so
 * that no input can make it allocate without bound, and every defect is a
 * {@link DumpFormatException} naming the field and its file offset. Overlapping PT_LOADs (kdump
 * cores describe the kernel image twice) are resolved in favour of the earlier header, with a
 * warning.
 */
public final class ElfCore {

    public static final int EM_AARCH64 = 183;
    public static final int ET_CORE = 4;
    public static final int EHDR_SIZE = 64;
    public static final int PHDR_SIZE = 56;
    /** e_phnum value meaning "the count is in section header 0's sh_info" (more than 65534 headers). */
    static final int PN_XNUM = 0xFFFF;
    /** More program headers or notes than any real machine's dump has; a bound on what one input can cost. */
    public static final int MAX_PROGRAM_HEADERS = 1 << 18;
    public static final int MAX_NOTES = 1 << 16;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment image;
    private final int ehsize;
    private final int phnum;
    private final List<ProgramHeader> programHeaders;
    private final List<ElfNote> notes;
    private final List<MappedMemory.Segment> segments;
    private final List<String> warnings;

    private ElfCore(MemorySegment image, int ehsize, int phnum, List<ProgramHeader> programHeaders,
                    List<ElfNote> notes, List<MappedMemory.Segment> segments, List<String> warnings) {
        this.image = image;
        this.ehsize = ehsize;
        this.phnum = phnum;
        this.programHeaders = List.copyOf(programHeaders);
        this.notes = List.copyOf(notes);
        this.segments = List.copyOf(segments);
        this.warnings = List.copyOf(warnings);
    }

    /** Whether {@code image} starts with the ELF magic (cheap check before choosing a reader). */
    public static boolean looksLikeElf(MemorySegment image) {
        return image.byteSize() >= 4 && image.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 0) == 0x7F454C46;
    }

    /** Parses and validates the core in {@code image}. */
    public static ElfCore parse(MemorySegment image) {
        long size = image.byteSize();
        List<String> warnings = new ArrayList<>();
        if (size < EHDR_SIZE) {
            throw new DumpFormatException(0, "file is " + size + " bytes, shorter than an ELF64 header (64 bytes)");
        }
        if (!looksLikeElf(image)) throw new DumpFormatException(0, "no ELF magic (7f 45 4c 46); not an ELF core");
        int elfClass = image.get(ValueLayout.JAVA_BYTE, 4);
        if (elfClass != 2) {
            throw new DumpFormatException(4, "EI_CLASS is " + elfClass + ", not ELFCLASS64 (2): a 32-bit core cannot hold an arm64 machine");
        }
        int data = image.get(ValueLayout.JAVA_BYTE, 5);
        if (data != 1) {
            throw new DumpFormatException(5, "EI_DATA is " + data + ", not ELFDATA2LSB (1): granule reads little-endian arm64 cores");
        }
        int type = u16(image, 16);
        if (type != ET_CORE) {
            throw new DumpFormatException(16, "e_type is " + type + ", not ET_CORE (4): this is an "
                    + switch (type) { case 1 -> "object file"; case 2 -> "executable"; case 3 -> "shared object"; default -> "unknown ELF type"; }
                    + ", not a memory dump");
        }
        int machine = u16(image, 18);
        if (machine != EM_AARCH64) {
            throw new DumpFormatException(18, "e_machine is " + machine + ", not EM_AARCH64 (183): a dump of another architecture");
        }
        int ehsize = u16(image, 52);
        if (ehsize != EHDR_SIZE) {
            // QEMU 7.2 writes e_ehsize = 8; nothing depends on it, so it is reported, not refused.
            warnings.add("e_ehsize is " + ehsize + ", not 64 (ignored)");
        }
        long phoff = image.get(U64, 32);
        int phentsize = u16(image, 54);
        long phnum = u16(image, 56);
        if (phnum == PN_XNUM) phnum = extendedPhnum(image);
        if (phnum == 0) throw new DumpFormatException(56, "e_phnum is 0: a core without program headers holds no memory");
        if (phentsize != PHDR_SIZE) {
            throw new DumpFormatException(54, "e_phentsize is " + phentsize + ", not 56 (sizeof(Elf64_Phdr))");
        }
        if (phnum > MAX_PROGRAM_HEADERS) {
            throw new DumpFormatException(56, "e_phnum claims " + phnum + " program headers; granule reads at most "
                    + MAX_PROGRAM_HEADERS);
        }
        if (phoff < EHDR_SIZE || phoff > size || phnum * PHDR_SIZE > size - phoff) {
            throw new DumpFormatException(32, String.format("program header table [%#x, +%d x 56) lies outside the %d-byte file",
                    phoff, phnum, size));
        }
        List<ProgramHeader> phdrs = new ArrayList<>((int) phnum);
        for (int i = 0; i < phnum; i++) {
            long at = phoff + (long) i * PHDR_SIZE;
            phdrs.add(new ProgramHeader(i, at, image.get(U32, at), image.get(U32, at + 4), image.get(U64, at + 8),
                    image.get(U64, at + 16), image.get(U64, at + 24), image.get(U64, at + 32), image.get(U64, at + 40),
                    image.get(U64, at + 48)));
        }
        List<ElfNote> notes = new ArrayList<>();
        List<MappedMemory.Segment> segments = new ArrayList<>();
        TreeMap<Long, long[]> taken = new TreeMap<>(); // pa -> {end, phdr index}
        for (ProgramHeader p : phdrs) {
            switch (p.type()) {
                case ProgramHeader.PT_LOAD -> load(image, p, segments, taken, warnings);
                case ProgramHeader.PT_NOTE -> readNotes(image, p, notes);
                default -> { }
            }
        }
        if (segments.isEmpty()) warnings.add("no PT_LOAD holds memory: the dump has no RAM to read");
        return new ElfCore(image, ehsize, (int) phnum, phdrs, notes, segments, warnings);
    }

    /** With PN_XNUM, the real count is sh_info of section header 0 (as Linux and QEMU write it). */
    private static long extendedPhnum(MemorySegment image) {
        long shoff = image.get(U64, 40);
        long size = image.byteSize();
        if (shoff < EHDR_SIZE || shoff > size || size - shoff < 64) {
            throw new DumpFormatException(40, String.format(
                    "e_phnum is PN_XNUM (0xffff) but section header 0 at e_shoff %#x is outside the %d-byte file", shoff, size));
        }
        return Integer.toUnsignedLong(image.get(U32, shoff + 44));
    }

    private static void load(MemorySegment image, ProgramHeader p, List<MappedMemory.Segment> out,
                             TreeMap<Long, long[]> taken, List<String> warnings) {
        String which = "PT_LOAD #" + p.index();
        long size = image.byteSize();
        if (p.filesz() < 0 || p.memsz() < 0 || Long.compareUnsigned(p.filesz(), p.memsz()) > 0) {
            throw new DumpFormatException(p.at() + 32, String.format("%s: p_filesz %#x exceeds p_memsz %#x", which,
                    p.filesz(), p.memsz()));
        }
        if (p.offset() < 0 || p.offset() > size || p.filesz() > size - p.offset()) {
            throw new DumpFormatException(p.at() + 8, String.format(
                    "%s: file bytes [%#x, +%#x) run past the end of the %d-byte file (truncated dump?)", which,
                    p.offset(), p.filesz(), size));
        }
        if (p.memsz() == 0) return;
        if (p.paddr() < 0 || p.paddr() + p.memsz() < 0) {
            throw new DumpFormatException(p.at() + 24, String.format(
                    "%s: physical range [%#x, +%#x) is beyond the 63-bit physical space", which, p.paddr(), p.memsz()));
        }
        // Clip against earlier segments: the first header to describe a physical byte wins.
        long pa = p.paddr();
        long end = pa + p.memsz();
        long cursor = pa;
        long overlapped = -1;
        Map.Entry<Long, long[]> before = taken.floorEntry(cursor);
        if (before != null && before.getValue()[0] > cursor) {
            overlapped = before.getValue()[1];
            cursor = Math.min(end, before.getValue()[0]);
        }
        while (cursor < end) {
            Map.Entry<Long, long[]> next = taken.ceilingEntry(cursor);
            if (next == null || next.getKey() >= end) {
                piece(p, cursor, end, out, taken);
                break;
            }
            piece(p, cursor, next.getKey(), out, taken);
            if (overlapped < 0) overlapped = next.getValue()[1];
            cursor = Math.min(end, next.getValue()[0]);
        }
        if (overlapped >= 0) {
            warnings.add(String.format("%s [%#x-%#x) overlaps PT_LOAD #%d in physical address; the earlier header's bytes are used",
                    which, pa, end, overlapped));
        }
    }

    private static void piece(ProgramHeader p, long from, long to, List<MappedMemory.Segment> out, TreeMap<Long, long[]> taken) {
        if (to <= from) return;
        long skip = from - p.paddr();
        long fileLeft = Math.max(0, p.filesz() - skip);
        long fileSize = Math.min(fileLeft, to - from);
        out.add(new MappedMemory.Segment(from, fileSize == 0 ? 0 : p.offset() + skip, fileSize, to - from));
        taken.put(from, new long[] {to, p.index()});
    }

    /**
     * Splits a PT_NOTE segment into notes: a 12-byte header (namesz, descsz, type), the name, the
     * descriptor at the next aligned offset, the next note at the aligned offset after it. Cores use 4-byte alignment (as
     * Linux and QEMU write them, whatever the gABI says for ELF64); a segment with p_align 8 uses 8.
     * An all-zero header ends the list (the kernel's final_note).
     */
    private static void readNotes(MemorySegment image, ProgramHeader p, List<ElfNote> out) {
        long size = image.byteSize();
        String which = "PT_NOTE #" + p.index();
        if (p.offset() < 0 || p.offset() > size || p.filesz() < 0 || p.filesz() > size - p.offset()) {
            throw new DumpFormatException(p.at() + 8, String.format(
                    "%s: notes [%#x, +%#x) run past the end of the %d-byte file", which, p.offset(), p.filesz(), size));
        }
        readNotes(image, p.offset(), p.filesz(), p.align() == 8 ? 8 : 4, 0, which, out);
    }

    /**
     * Splits {@code [offset, offset + length)} of {@code image} into notes (see above); {@code shift}
     * is added to every reported offset, for notes read from a copy (a kdump file's note area).
     */
    static void readNotes(MemorySegment image, long offset, long length, long align, long shift, String which, List<ElfNote> out) {
        long at = offset;
        long end = offset + length;
        while (end - at >= 12) {
            long namesz = Integer.toUnsignedLong(image.get(U32, at));
            long descsz = Integer.toUnsignedLong(image.get(U32, at + 4));
            int type = image.get(U32, at + 8);
            if (namesz == 0 && descsz == 0 && type == 0) return;
            long nameAt = at + 12;
            // Offsets are aligned relative to the segment start, as readelf and the gABI do.
            long descAt = alignUp(nameAt + namesz, offset, align);
            long next = alignUp(descAt + descsz, offset, align);
            if (namesz > end - nameAt) {
                throw new DumpFormatException(at + shift, String.format("%s: note name of %d bytes runs past the segment end %#x",
                        which, namesz, end + shift));
            }
            if (descAt > end || descsz > end - descAt) {
                throw new DumpFormatException(at + 4 + shift, String.format(
                        "%s: note descriptor of %d bytes at %#x runs past the segment end %#x", which, descsz, descAt + shift, end + shift));
            }
            if (out.size() >= MAX_NOTES) {
                throw new DumpFormatException(at + shift, "more than " + MAX_NOTES + " notes; granule reads at most that many");
            }
            out.add(new ElfNote(name(image, nameAt, namesz), type, at + shift, image.asSlice(descAt, descsz).asReadOnly()));
            // The last note's descriptor padding may be cut off by the segment end; that is tolerated.
            at = Math.min(next, end);
        }
        if (at != end) {
            throw new DumpFormatException(at + shift, String.format("%s: %d trailing bytes are too short for a note header",
                    which, end - at));
        }
    }

    private static long alignUp(long offset, long base, long align) {
        return base + ((offset - base + align - 1) & -align);
    }

    private static String name(MemorySegment image, long at, long namesz) {
        byte[] b = image.asSlice(at, namesz).toArray(ValueLayout.JAVA_BYTE);
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) n--;
        return new String(b, 0, n, StandardCharsets.ISO_8859_1);
    }

    private static int u16(MemorySegment image, long at) { return image.get(U16, at) & 0xFFFF; }

    // ---- results --------------------------------------------------------------------------------

    public List<ProgramHeader> programHeaders() { return programHeaders; }

    public List<ElfNote> notes() { return notes; }

    /** The PT_LOAD data as non-overlapping physical segments, in header order. */
    public List<MappedMemory.Segment> segments() { return segments; }

    /** Oddities that do not stop reading (overlaps resolved, a wrong e_ehsize). */
    public List<String> warnings() { return warnings; }

    public int programHeaderCount() { return phnum; }

    public int headerSize() { return ehsize; }

    public MemorySegment image() { return image; }

    /** The first note with this owner and type. */
    public Optional<ElfNote> note(String name, int type) {
        return notes.stream().filter(n -> n.name().equals(name) && n.type() == type).findFirst();
    }

    /** The VMCOREINFO note's text (name "VMCOREINFO", type 0), if the core has one. */
    public Optional<String> vmcoreInfoText() {
        return note(ElfNote.VMCOREINFO, 0).map(n -> n.descText(VmcoreInfo.MAX_BYTES));
    }

    /** The register state of each CPU (NT_PRSTATUS notes, in order). */
    public List<PrStatus> prStatus() {
        List<PrStatus> out = new ArrayList<>();
        for (ElfNote n : notes) {
            if (n.type() == ElfNote.NT_PRSTATUS && ElfNote.CORE.equals(n.name())) out.add(PrStatus.parse(n));
        }
        return out;
    }

    /** Physical memory over this core's segments (the image must stay mapped while it is used). */
    public MappedMemory memory() { return MappedMemory.over(image, segments); }
}
