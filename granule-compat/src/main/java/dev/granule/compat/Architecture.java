package dev.granule.compat;

import java.util.List;

/**
 * The machines whose page sizes we know, by e_machine (gABI / elf.h EM_*), and the base page sizes
 * their Linux kernels can run with (CONFIG_ARM64_{4K,16K,64K}_PAGES, LoongArch's CONFIG_{4K,16K,64K}_PAGES,
 * PowerPC's CONFIG_PPC_{4K,64K}_PAGES; x86, 32-bit Arm, RISC-V and s390 only 4K).
 */
public enum Architecture {
    AARCH64("AArch64", List.of(4096L, 16384L, 65536L)),
    LOONGARCH("LoongArch", List.of(4096L, 16384L, 65536L)),
    PPC("PowerPC", List.of(4096L, 65536L)),
    PPC64("PowerPC64", List.of(4096L, 65536L)),
    X86("x86", List.of(4096L)),
    X86_64("x86-64", List.of(4096L)),
    ARM("ARM", List.of(4096L)),
    RISCV("RISC-V", List.of(4096L)),
    S390("s390", List.of(4096L)),
    /** A machine we have no page-size facts for: judged at 4K only, and said so. */
    OTHER("other", List.of(4096L));

    static final int EM_386 = 3;
    static final int EM_PPC = 20;
    static final int EM_PPC64 = 21;
    static final int EM_ARM = 40;
    static final int EM_X86_64 = 62;
    static final int EM_AARCH64 = 183;
    static final int EM_LOONGARCH = 258;
    static final int EM_S390 = 22;
    static final int EM_RISCV = 243;

    private final String displayName;
    private final List<Long> pageSizes;

    Architecture(String displayName, List<Long> pageSizes) {
        this.displayName = displayName;
        this.pageSizes = pageSizes;
    }

    public static Architecture of(int eMachine) {
        return switch (eMachine) {
            case EM_AARCH64 -> AARCH64;
            case EM_LOONGARCH -> LOONGARCH;
            case EM_PPC -> PPC;
            case EM_PPC64 -> PPC64;
            case EM_386 -> X86;
            case EM_X86_64 -> X86_64;
            case EM_ARM -> ARM;
            case EM_RISCV -> RISCV;
            case EM_S390 -> S390;
            default -> OTHER;
        };
    }

    public String displayName() { return displayName; }

    /** Ascending. */
    public List<Long> pageSizes() { return pageSizes; }

    public long largestPageSize() { return pageSizes.getLast(); }
}
