package dev.granule.dump;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Hand-assembled ELF64 files for tests, written field by field at the offsets the ELF
 * specification gives (Elf64_Ehdr: e_type at 16, e_machine 18, e_phoff 32, e_ehsize 52,
 * e_phentsize 54, e_phnum 56; Elf64_Phdr: p_type 0, p_flags 4, p_offset 8, p_vaddr 16, p_paddr 24,
 * p_filesz 32, p_memsz 40, p_align 48), independent of granule's writer.
 */
final class ElfBytes {

    final ByteBuffer b;

    ElfBytes(int size) {
        b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A valid arm64 ET_CORE header with {@code phnum} program headers at offset 64. */
    static ElfBytes core(int size, int phnum) {
        ElfBytes e = new ElfBytes(size);
        e.b.put(0, new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        e.u16(16, 4).u16(18, 183).u32(20, 1).u64(32, 64).u16(52, 64).u16(54, 56).u16(56, phnum);
        return e;
    }

    ElfBytes u8(int at, int v) { b.put(at, (byte) v); return this; }

    ElfBytes u16(int at, int v) { b.putShort(at, (short) v); return this; }

    ElfBytes u32(int at, int v) { b.putInt(at, v); return this; }

    ElfBytes u64(int at, long v) { b.putLong(at, v); return this; }

    ElfBytes bytes(int at, byte[] v) { b.put(at, v); return this; }

    /** Program header {@code i} (at 64 + 56 i). */
    ElfBytes phdr(int i, int type, long offset, long paddr, long filesz, long memsz, long align) {
        int at = 64 + 56 * i;
        return u32(at, type).u32(at + 4, 4).u64(at + 8, offset).u64(at + 16, 0).u64(at + 24, paddr)
                .u64(at + 32, filesz).u64(at + 40, memsz).u64(at + 48, align);
    }

    /** A note at {@code at}: namesz, descsz, type, name + NUL padded to 4, desc padded to 4; returns the end. */
    int note(int at, String name, int type, byte[] desc) {
        byte[] n = name.getBytes(StandardCharsets.ISO_8859_1);
        u32(at, n.length + 1).u32(at + 4, desc.length).u32(at + 8, type);
        bytes(at + 12, n);
        int descAt = at + 12 + ((n.length + 1 + 3) & -4);
        bytes(descAt, desc);
        return descAt + ((desc.length + 3) & -4);
    }

    byte[] array() { return b.array(); }
}
