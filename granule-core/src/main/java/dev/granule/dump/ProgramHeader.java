package dev.granule.dump;

/**
 * One ELF64 program header (Elf64_Phdr) as stored, with the file offset it was read from.
 *
 * @param index     position in the program header table
 * @param at        file offset of this header
 */
public record ProgramHeader(int index, long at, int type, int flags, long offset, long vaddr, long paddr,
                            long filesz, long memsz, long align) {

    public static final int PT_NULL = 0;
    public static final int PT_LOAD = 1;
    public static final int PT_NOTE = 4;

    public String typeName() {
        return switch (type) {
            case PT_NULL -> "NULL";
            case PT_LOAD -> "LOAD";
            case 2 -> "DYNAMIC";
            case 3 -> "INTERP";
            case PT_NOTE -> "NOTE";
            case 6 -> "PHDR";
            default -> String.format("%#x", type);
        };
    }
}
