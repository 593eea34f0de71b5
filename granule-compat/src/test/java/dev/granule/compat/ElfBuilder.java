package dev.granule.compat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes ELF files byte by byte from the gABI's layouts (Elf64_Ehdr 64 bytes, Elf64_Phdr 56; Elf32_Ehdr 52,
 * Elf32_Phdr 32), independently of the reader under test.
 */
final class ElfBuilder {

    record Phdr(int type, int flags, long offset, long vaddr, long filesz, long memsz, long align) {}

    static final int R = 4, W = 2, X = 1;

    private boolean is64 = true;
    private ByteOrder order = ByteOrder.LITTLE_ENDIAN;
    private int machine = 183;   // EM_AARCH64
    private int type = 3;        // ET_DYN
    private final List<Phdr> phdrs = new ArrayList<>();
    private int size = 0x1000;
    private long entry = 0;
    private final List<Object[]> patches = new ArrayList<>();

    ElfBuilder elf32() { is64 = false; return this; }
    ElfBuilder bigEndian() { order = ByteOrder.BIG_ENDIAN; return this; }
    ElfBuilder machine(int m) { machine = m; return this; }
    ElfBuilder type(int t) { type = t; return this; }
    ElfBuilder size(int s) { size = s; return this; }
    ElfBuilder entry(long e) { entry = e; return this; }

    ElfBuilder load(int flags, long offset, long vaddr, long filesz, long memsz, long align) {
        phdrs.add(new Phdr(1, flags, offset, vaddr, filesz, memsz, align));
        return this;
    }

    ElfBuilder phdr(int type, int flags, long offset, long vaddr, long filesz, long memsz, long align) {
        phdrs.add(new Phdr(type, flags, offset, vaddr, filesz, memsz, align));
        return this;
    }

    /** Bytes to place at a file offset (e.g. a string or instructions). */
    ElfBuilder put(int offset, byte[] bytes) {
        patches.add(new Object[] {offset, bytes});
        return this;
    }

    byte[] build() {
        int ehsize = is64 ? 64 : 52;
        int phentsize = is64 ? 56 : 32;
        int total = Math.max(size, ehsize + phentsize * phdrs.size());
        ByteBuffer b = ByteBuffer.allocate(total).order(order);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), (byte) (order == ByteOrder.LITTLE_ENDIAN ? 1 : 2), 1});
        b.position(16);
        b.putShort((short) type).putShort((short) machine).putInt(1);   // e_type, e_machine, e_version
        if (is64) {
            b.putLong(entry).putLong(ehsize).putLong(0);                 // e_entry, e_phoff, e_shoff
        } else {
            b.putInt((int) entry).putInt(ehsize).putInt(0);
        }
        b.putInt(0).putShort((short) ehsize).putShort((short) phentsize).putShort((short) phdrs.size())
                .putShort((short) 0).putShort((short) 0).putShort((short) 0);   // e_flags .. e_shstrndx
        for (Phdr p : phdrs) {
            if (is64) {
                b.putInt(p.type).putInt(p.flags).putLong(p.offset).putLong(p.vaddr).putLong(p.vaddr)
                        .putLong(p.filesz).putLong(p.memsz).putLong(p.align);
            } else {
                b.putInt(p.type).putInt((int) p.offset).putInt((int) p.vaddr).putInt((int) p.vaddr)
                        .putInt((int) p.filesz).putInt((int) p.memsz).putInt(p.flags).putInt((int) p.align);
            }
        }
        byte[] out = b.array();
        for (Object[] patch : patches) {
            byte[] bytes = (byte[]) patch[1];
            System.arraycopy(bytes, 0, out, (int) patch[0], bytes.length);
        }
        return out;
    }

    /** A typical shared object linked with -z max-page-size=ALIGN: text at 0, data one ALIGN further on. */
    static ElfBuilder sharedObject(long align) {
        return new ElfBuilder()
                .load(R | X, 0, 0, 0x1800, 0x1800, align)
                .load(R | W, 0x1c00, align + 0x1c00, 0x200, 0x400, align);
    }
}
