package dev.granule.compat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.granule.compat.ElfBuilder.R;
import static dev.granule.compat.ElfBuilder.W;
import static dev.granule.compat.ElfBuilder.X;

/**
 * Hand-written AArch64 shared objects, one per rule, that glibc's loader can really map when the rule
 * allows it: besides the PT_LOADs under test each has a PT_DYNAMIC inside file-backed data (ld.so refuses
 * an ET_DYN without one, "object file has no dynamic section") naming what {@code ld -shared} gives the
 * smallest library: DT_HASH (one bucket, one chain), DT_SYMTAB (the null symbol), DT_STRTAB (one NUL),
 * DT_STRSZ and DT_SYMENT, the tables placed in the text segment at offset 0x200 = address 0x200; and a
 * non-executable PT_GNU_STACK. The files are 64 KiB long, so every page a loader maps at 4K, 16K or 64K
 * lies inside the file (touching a mapped page past the end of a file would be SIGBUS, not a verdict).
 * The verdicts they should get are left to the oracle (glibc's loader under QEMU), not written here.
 */
final class LoadableFixtures {

    static final int PT_DYNAMIC = 2;
    static final int PT_GNU_STACK = 0x6474e551;
    static final int PT_GNU_RELRO = 0x6474e552;
    static final int SIZE = 0x10000;
    /** Where the hash table, symbol table and string table sit, in the text segment (offset = address). */
    static final int HASH = 0x200, SYMTAB = 0x220, STRTAB = 0x240;

    private LoadableFixtures() {}

    /** Name (saying the rule it exercises) to the file's bytes. */
    static Map<String, byte[]> all() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (long align : new long[] {0x1000, 0x4000, 0x10000}) {
            // text at 0, data one p_align further on: the layout of -z max-page-size=ALIGN.
            m.put("p_align-0x" + Long.toHexString(align), textAndData(0x1000, align, 0x1000 + align, align));
        }
        // p_align 4K, but every segment's offset ≡ vaddr mod 64K: only glibc's p_align check can refuse it.
        m.put("p_align-0x1000-offset-congruent-64k", textAndData(0x1000, 0x1000, 0x11000, 0x1000));
        // p_vaddr - p_offset = 0x12000 - 0x1800 = 0x10800: not a multiple of p_align 64K (nor of any page size).
        m.put("offset-not-congruent-vaddr", textAndData(0x1800, 0x10000, 0x12000, 0x10000));
        // text 64K-aligned, data only 4K-aligned: one segment decides.
        m.put("mixed-p_align-64k-text-4k-data", textAndData(0x1000, 0x10000, 0x11000, 0x1000));
        // p_align 0 (allowed by the gABI: no alignment) with offset == vaddr; and p_align 1.
        m.put("p_align-0-offset-equals-vaddr", textAndData(0x2000, 0, 0x2000, 0));
        m.put("p_align-1-offset-equals-vaddr", textAndData(0x2000, 1, 0x2000, 1));
        // Code and data in one page at every page size (offset == vaddr): loads, W^X lost (a warning only).
        m.put("text-and-data-share-a-page", textAndData(0x800, 0x10000, 0x800, 0x10000));
        // A RELRO region ending at 0x11100, on no page boundary: loads, tail writable (a warning only).
        m.put("relro-ends-mid-page", withTables(new ElfBuilder().size(SIZE)
                .load(R | X, 0, 0, 0x1000, 0x1000, 0x10000)
                .load(R | W, 0x1000, 0x11000, 0x200, 0x200, 0x10000)
                .phdr(PT_DYNAMIC, R | W, 0x1000, 0x11000, DYNAMIC.length, DYNAMIC.length, 8)
                .phdr(PT_GNU_RELRO, R, 0x1000, 0x11000, 0x100, 0x100, 1)
                .phdr(PT_GNU_STACK, R | W, 0, 0, 0, 0, 16), 0x1000)
                .build());
        return m;
    }

    /**
     * Static AArch64 programs (ET_EXEC, no PT_INTERP: the kernel's elf_map maps them) whose code exits with
     * status 42, so a program that ran is told apart from one the kernel refused (exec error, or a fatal
     * signal after the point of no return): text R X at offset 0 = address 0x400000 (entry at 0x400200),
     * data RW at offset 0x1000 and the address named, p_align 0x1000 throughout (the kernel does not look at it).
     */
    static Map<String, byte[]> programs() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        // 0x421000 - 0x1000 = 0x420000: a multiple of 64K.
        m.put("program-offset-congruent-64k", program(0x421000));
        // 0x405000 - 0x1000 = 0x404000: a multiple of 16K, not of 64K.
        m.put("program-offset-congruent-16k-only", program(0x405000));
        // 0x422000 - 0x1000 = 0x421000: a multiple of 4K only.
        m.put("program-offset-congruent-4k-only", program(0x422000));
        return m;
    }

    /** movz x0, #42; movz x8, #93 (exit); svc #0 — A64 encodings from the Arm ARM (MOVZ 0xd2800000 | imm16 << 5 | Rd). */
    static final int[] EXIT_42 = {0xd2800000 | 42 << 5, 0xd2800000 | 93 << 5 | 8, 0xd4000001};

    private static byte[] program(long dataVaddr) {
        ByteBuffer code = ByteBuffer.allocate(EXIT_42.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int insn : EXIT_42) code.putInt(insn);
        return new ElfBuilder().type(2).size(SIZE).entry(0x400200)
                .load(R | X, 0, 0x400000, 0x1000, 0x1000, 0x1000)
                .load(R | W, 0x1000, dataVaddr, 0x100, 0x200, 0x1000)
                .phdr(PT_GNU_STACK, R | W, 0, 0, 0, 0, 16)
                .put(0x200, code.array())
                .build();
    }

    /**
     * Text (R X) at offset 0, vaddr 0, 0x800 bytes; data (RW) at {@code dataOffset}/{@code dataVaddr},
     * 0x200 bytes of file and 0x400 of memory, starting with the dynamic array.
     */
    private static byte[] textAndData(long dataOffset, long textAlign, long dataVaddr, long dataAlign) {
        return withTables(new ElfBuilder().size(SIZE)
                .load(R | X, 0, 0, 0x800, 0x800, textAlign)
                .load(R | W, dataOffset, dataVaddr, 0x200, 0x400, dataAlign)
                .phdr(PT_DYNAMIC, R | W, dataOffset, dataVaddr, DYNAMIC.length, DYNAMIC.length, 8)
                .phdr(PT_GNU_STACK, R | W, 0, 0, 0, 0, 16), (int) dataOffset)
                .build();
    }

    /** The dynamic array (Elf64_Dyn: d_tag, d_val) pointing at the tables, ending with DT_NULL. */
    static final byte[] DYNAMIC = dynamic();

    private static byte[] dynamic() {
        long[][] entries = {{4, HASH}, {5, STRTAB}, {6, SYMTAB}, {10, 1}, {11, 24}, {0, 0}};
        ByteBuffer b = ByteBuffer.allocate(entries.length * 16).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] e : entries) b.putLong(e[0]).putLong(e[1]);
        return b.array();
    }

    /**
     * The SysV hash table {nbucket 1, nchain 1, bucket[0] 0, chain[0] 0} (32-bit words), the null symbol
     * (24 zero bytes: the file's zeros) and the string table "\0" (a zero byte), and the dynamic array at
     * {@code dynamicOffset}.
     */
    private static ElfBuilder withTables(ElfBuilder b, int dynamicOffset) {
        byte[] hash = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(1).putInt(0).putInt(0).array();
        return b.put(HASH, hash).put(dynamicOffset, DYNAMIC);
    }
}
