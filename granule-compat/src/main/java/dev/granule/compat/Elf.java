package dev.granule.compat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A lazy, read-only view of an ELF file (ELF32 and ELF64, either byte order) over a memory segment —
 * a mapped file or an in-memory archive member. Only the ELF header is read up front; program headers
 * are read on request, and every read is checked against the segment, so a truncated or hostile file
 * is a {@link BrokenInputException} naming the field and offset, never an out-of-bounds access.
 */
public final class Elf {

    public static final int ELFCLASS32 = 1;
    public static final int ELFCLASS64 = 2;
    public static final int ELFDATA2LSB = 1;
    public static final int ELFDATA2MSB = 2;
    public static final int ET_EXEC = 2;
    public static final int ET_DYN = 3;
    /** e_phnum value that says the real count is in section header 0's sh_info (gABI, "Extended Program Header Numbering"). */
    static final int PN_XNUM = 0xffff;

    private final MemorySegment data;
    private final int elfClass;
    private final ByteOrder order;
    private final int type;
    private final int machine;
    private final long phoff;
    private final int phentsize;
    private final int phnum;
    private List<ProgramHeader> programHeaders;

    private Elf(MemorySegment data) {
        this.data = data;
        if (data.byteSize() < 16) throw new BrokenInputException("ELF: truncated e_ident (" + data.byteSize() + " bytes)");
        if (!isElf(data)) throw new BrokenInputException("ELF: bad magic");
        elfClass = u8(4);
        if (elfClass != ELFCLASS32 && elfClass != ELFCLASS64) throw new BrokenInputException("ELF: bad EI_CLASS " + elfClass);
        int encoding = u8(5);
        order = switch (encoding) {
            case ELFDATA2LSB -> ByteOrder.LITTLE_ENDIAN;
            case ELFDATA2MSB -> ByteOrder.BIG_ENDIAN;
            default -> throw new BrokenInputException("ELF: bad EI_DATA " + encoding);
        };
        boolean is64 = elfClass == ELFCLASS64;
        long headerSize = is64 ? 64 : 52;
        if (data.byteSize() < headerSize) {
            throw new BrokenInputException("ELF: truncated header (" + data.byteSize() + " of " + headerSize + " bytes)");
        }
        type = u16(16);
        machine = u16(18);
        phoff = is64 ? u64(32, "e_phoff") : u32(28);
        phentsize = u16(is64 ? 54 : 42);
        int count = u16(is64 ? 56 : 44);
        if (count == PN_XNUM) count = extendedPhnum(is64);
        phnum = count;
    }

    /** Reads the ELF header of {@code data}; the rest is read when asked. */
    public static Elf read(MemorySegment data) {
        return new Elf(data);
    }

    public static boolean isElf(MemorySegment data) {
        return data.byteSize() >= 4 && data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 0) == 0x7f454c46;
    }

    public int elfClass() { return elfClass; }
    public boolean is64() { return elfClass == ELFCLASS64; }
    public ByteOrder byteOrder() { return order; }
    public int e_type() { return type; }
    public int e_machine() { return machine; }
    public int e_phnum() { return phnum; }
    public long byteSize() { return data.byteSize(); }
    MemorySegment data() { return data; }

    /** The program header table, read and checked on first use. */
    public List<ProgramHeader> programHeaders() {
        if (programHeaders == null) programHeaders = readProgramHeaders();
        return programHeaders;
    }

    private List<ProgramHeader> readProgramHeaders() {
        if (phnum == 0) return List.of();
        int expected = is64() ? 56 : 32;
        if (phentsize < expected) throw new BrokenInputException("ELF: e_phentsize " + phentsize + " is smaller than " + expected);
        long tableSize = (long) phnum * phentsize;   // at most 0xffffffff * 0xffff: no overflow in a long
        if (phoff < 0 || phoff > data.byteSize() || tableSize > data.byteSize() - phoff) {
            throw new BrokenInputException("ELF: program header table at e_phoff 0x" + Long.toHexString(phoff) + " ("
                    + phnum + " x " + phentsize + " bytes) runs past the end of the file (0x" + Long.toHexString(data.byteSize()) + ")");
        }
        List<ProgramHeader> list = new ArrayList<>(phnum);
        for (int i = 0; i < phnum; i++) {
            long at = phoff + (long) i * phentsize;
            list.add(is64()
                    ? new ProgramHeader(i, (int) u32(at), (int) u32(at + 4), u64(at + 8, "p_offset"), u64(at + 16, "p_vaddr"),
                            u64(at + 32, "p_filesz"), u64(at + 40, "p_memsz"), u64(at + 48, "p_align"))
                    : new ProgramHeader(i, (int) u32(at), (int) u32(at + 24), u32(at + 4), u32(at + 8),
                            u32(at + 16), u32(at + 20), u32(at + 28)));
        }
        return List.copyOf(list);
    }

    /** PT_NOTE: auxiliary information such as the ABI note a toolchain's start files add. */
    public static final int PT_NOTE = 4;
    /** Notes read per segment at most: identification notes are tens of bytes; a hostile size costs nothing. */
    private static final long NOTE_SCAN_LIMIT = 64 * 1024;

    /**
     * Whether a PT_NOTE segment holds a note of this owner and type (gABI "Note Section": namesz, descsz,
     * type, then the name and the descriptor, each padded to the segment's 4- or 8-byte alignment). A note
     * table that runs past the file or past its segment ends the search: no loader reads notes to map a file,
     * so a broken one is not a reason to refuse the file.
     */
    public boolean hasNote(String owner, int noteType) {
        byte[] wanted = (owner + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (ProgramHeader h : programHeaders()) {
            if (h.p_type() != PT_NOTE) continue;
            long align = h.p_align() == 8 ? 8 : 4;
            long end = Math.min(h.p_filesz(), NOTE_SCAN_LIMIT);
            if (h.p_offset() < 0 || h.p_offset() > data.byteSize() || end > data.byteSize() - h.p_offset()) continue;
            long at = 0;
            while (end - at >= 12) {
                long base = h.p_offset() + at;
                long namesz = u32(base), descsz = u32(base + 4), type = u32(base + 8);
                long descAt = 12 + align(namesz, align);
                long next = descAt + align(descsz, align);
                if (next > end - at) break;
                if (type == noteType && namesz == wanted.length
                        && data.asSlice(base + 12, namesz).mismatch(MemorySegment.ofArray(wanted)) == -1) return true;
                at += next;
            }
        }
        return false;
    }

    private static long align(long size, long alignment) {
        return (size + alignment - 1) & -alignment;
    }

    /** With e_phnum = PN_XNUM the count is sh_info of section header 0. */
    private int extendedPhnum(boolean is64) {
        long shoff = is64 ? u64(40, "e_shoff") : u32(32);
        long shInfoAt = shoff + (is64 ? 44 : 28);
        if (shoff == 0 || shoff < 0 || shInfoAt < 0 || shInfoAt + 4 > data.byteSize()) {
            throw new BrokenInputException("ELF: e_phnum is PN_XNUM but section header 0 at e_shoff 0x" + Long.toHexString(shoff) + " is outside the file");
        }
        long n = u32(shInfoAt);
        if (n > Integer.MAX_VALUE) throw new BrokenInputException("ELF: extended program header count " + n + " is too large");
        return (int) n;
    }

    private int u8(long at) {
        return Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, at));
    }

    private int u16(long at) {
        check(at, 2);
        return Short.toUnsignedInt(data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order), at));
    }

    long u32(long at) {
        check(at, 4);
        return Integer.toUnsignedLong(data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(order), at));
    }

    /** A 64-bit field; values with bit 63 set are refused, since no file offset or size can reach them. */
    private long u64(long at, String field) {
        check(at, 8);
        long v = data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order), at);
        if (v < 0 && !field.equals("p_vaddr") && !field.equals("p_align")) {
            throw new BrokenInputException("ELF: " + field + " at offset 0x" + Long.toHexString(at) + " is 0x" + Long.toHexString(v) + ", beyond any file");
        }
        return v;
    }

    private void check(long at, int size) {
        if (at < 0 || at > data.byteSize() - size) {
            throw new BrokenInputException("ELF: read of " + size + " bytes at offset 0x" + Long.toHexString(at) + " is past the end of the file (0x"
                    + Long.toHexString(data.byteSize()) + ")");
        }
    }
}
