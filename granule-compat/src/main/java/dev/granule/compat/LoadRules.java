package dev.granule.compat;

import java.util.ArrayList;
import java.util.List;

/**
 * The loaders' rules for mapping PT_LOAD segments at a page size P, as the loaders themselves apply them.
 *
 * <ul>
 * <li><b>glibc's ld.so</b> (elf/dl-load.c, {@code _dl_map_object_from_fd}) maps shared objects and refuses a
 * PT_LOAD with {@code (p_align & (pagesize - 1)) != 0} ("ELF load command alignment not page-aligned") or
 * {@code ((p_vaddr - p_offset) & (p_align - 1)) != 0} ("ELF load command address/offset not properly
 * aligned"). The second check does not depend on P, but the first makes it imply p_offset ≡ p_vaddr mod P.</li>
 * <li><b>The kernel</b> (fs/binfmt_elf.c, {@code elf_map}) maps the program and its interpreter with
 * {@code vm_mmap(..., p_offset - ELF_PAGEOFFSET(p_vaddr))}; mmap refuses an offset that is not a multiple of
 * P, so p_offset ≡ p_vaddr mod P for every segment with file contents. It does not look at p_align for this.</li>
 * </ul>
 *
 * Which loader maps a file: one with PT_INTERP, or ET_EXEC, is mapped by the kernel; any other ET_DYN by ld.so
 * (ld.so itself is ET_DYN without PT_INTERP and mapped by the kernel, but meets both rules in practice).
 * Bionic's linker (Android) applies the same two conditions to shared libraries.
 *
 * <p>What loads but is weakened: a loader maps whole pages, so two PT_LOADs with different p_flags in one
 * P-sized page end up with one protection for both (W^X lost, or code writable); and glibc's
 * {@code _dl_protect_relro} makes read-only only up to ALIGN_DOWN(end of PT_GNU_RELRO, P), so a RELRO region
 * not ending on a P boundary keeps its tail writable.
 */
public final class LoadRules {

    private LoadRules() {}

    public enum Loader { KERNEL, LD_SO }

    public static Loader loaderOf(Elf elf) {
        boolean interp = elf.programHeaders().stream().anyMatch(h -> h.p_type() == ProgramHeader.PT_INTERP);
        return interp || elf.e_type() == Elf.ET_EXEC ? Loader.KERNEL : Loader.LD_SO;
    }

    public static PageVerdict check(Elf elf, long pageSize) {
        List<ProgramHeader> headers = elf.programHeaders();
        Loader loader = loaderOf(elf);
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        long mask = pageSize - 1;
        List<ProgramHeader> loads = headers.stream().filter(ProgramHeader::isLoad).toList();
        for (ProgramHeader h : loads) {
            if (loader == Loader.LD_SO) {
                if ((h.p_align() & mask) != 0) {
                    problems.add("LOAD[" + h.index() + "] p_align 0x" + Long.toHexString(h.p_align()) + " is not a multiple of "
                            + PageSizes.name(pageSize) + " (ld.so: ELF load command alignment not page-aligned)");
                } else if (((h.p_vaddr() - h.p_offset()) & (h.p_align() - 1)) != 0) {
                    problems.add("LOAD[" + h.index() + "] p_vaddr 0x" + Long.toHexString(h.p_vaddr()) + " - p_offset 0x"
                            + Long.toHexString(h.p_offset()) + " is not a multiple of p_align 0x" + Long.toHexString(h.p_align())
                            + " (ld.so: ELF load command address/offset not properly aligned)");
                }
            } else if (h.p_filesz() != 0 && ((h.p_vaddr() - h.p_offset()) & mask) != 0) {
                problems.add("LOAD[" + h.index() + "] p_offset 0x" + Long.toHexString(h.p_offset()) + " and p_vaddr 0x"
                        + Long.toHexString(h.p_vaddr()) + " differ modulo " + PageSizes.name(pageSize) + " (kernel: mmap of the segment fails)");
            }
        }
        sharedPages(loads, pageSize, warnings);
        for (ProgramHeader h : headers) {
            if (h.p_type() != ProgramHeader.PT_GNU_RELRO || h.p_memsz() == 0) continue;
            long end = h.p_vaddr() + h.p_memsz();
            if ((end & mask) != 0) {
                long unprotected = end & mask;
                warnings.add("PT_GNU_RELRO ends at 0x" + Long.toHexString(end) + ", not on a " + PageSizes.name(pageSize)
                        + " boundary: its last 0x" + Long.toHexString(unprotected) + " bytes stay writable");
            }
        }
        return new PageVerdict(pageSize, problems, warnings);
    }

    /** Pairs of PT_LOADs with different protections whose memory images touch one P-sized page. */
    private static void sharedPages(List<ProgramHeader> loads, long pageSize, List<String> warnings) {
        for (int i = 0; i < loads.size(); i++) {
            for (int j = i + 1; j < loads.size(); j++) {
                ProgramHeader a = loads.get(i);
                ProgramHeader b = loads.get(j);
                if (a.protection() == b.protection() || a.p_memsz() == 0 || b.p_memsz() == 0) continue;
                long aFirst = Long.divideUnsigned(a.p_vaddr(), pageSize);
                long aLast = Long.divideUnsigned(a.p_vaddr() + a.p_memsz() - 1, pageSize);
                long bFirst = Long.divideUnsigned(b.p_vaddr(), pageSize);
                long bLast = Long.divideUnsigned(b.p_vaddr() + b.p_memsz() - 1, pageSize);
                if (Long.compareUnsigned(aFirst, bLast) <= 0 && Long.compareUnsigned(bFirst, aLast) <= 0) {
                    String what = ((a.p_flags() | b.p_flags()) & ProgramHeader.PF_X) != 0
                            && ((a.p_flags() | b.p_flags()) & ProgramHeader.PF_W) != 0 ? "W^X lost" : "permissions merged";
                    warnings.add("LOAD[" + a.index() + "] (" + a.flagText().strip() + ") and LOAD[" + b.index() + "] ("
                            + b.flagText().strip() + ") share a " + PageSizes.name(pageSize) + " page: " + what);
                }
            }
        }
    }
}
