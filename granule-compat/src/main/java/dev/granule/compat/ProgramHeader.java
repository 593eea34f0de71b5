package dev.granule.compat;

/**
 * One entry of the program header table (Elf32_Phdr / Elf64_Phdr), field names as in the gABI.
 * Values are unsigned in the file; 64-bit ones are kept in a long and compared unsigned where it matters.
 */
public record ProgramHeader(int index, int p_type, int p_flags, long p_offset, long p_vaddr,
                            long p_filesz, long p_memsz, long p_align) {

    public static final int PT_LOAD = 1;
    public static final int PT_INTERP = 3;
    public static final int PT_GNU_RELRO = 0x6474e552;

    public static final int PF_X = 1;
    public static final int PF_W = 2;
    public static final int PF_R = 4;

    public boolean isLoad() {
        return p_type == PT_LOAD;
    }

    /** "R E", "RW ", as readelf prints p_flags. */
    public String flagText() {
        return ((p_flags & PF_R) != 0 ? "R" : " ") + ((p_flags & PF_W) != 0 ? "W" : " ") + ((p_flags & PF_X) != 0 ? "E" : " ");
    }

    /** The protection bits a loader maps the segment with (PF_R|PF_W|PF_X only). */
    public int protection() {
        return p_flags & (PF_R | PF_W | PF_X);
    }
}
