package dev.granule.compat;

import java.util.ArrayList;
import java.util.List;

/**
 * The loaders' rules for mapping PT_LOAD segments at a page size P, as the loaders themselves apply them.
 *
 * <ul>
 * <li><b>glibc's ld.so</b> (elf/dl-load.c, {@code _dl_map_object_from_fd}, glibc 2.35 and later) maps shared
 * objects and refuses a PT_LOAD with {@code ((p_vaddr - p_offset) & (pagesize - 1)) != 0} ("ELF load command
 * address/offset not page-aligned"); p_align only chooses the load address's alignment. Its
 * {@code _dl_map_segments} (elf/dl-map-segments.h, Debian bookworm's 2.36; not in 2.35's source) refuses, with
 * the same message, a file whose PT_LOADs leave a hole between their page-rounded extents while the last one
 * starts below the page-rounded end of the first: the mapping of the first would be cut away under it.
 * Checked against the loader itself: LoaderOracleTest runs Debian's ld-linux-aarch64.so.1 under Debian's 4K and
 * 16K kernels.</li>
 * <li><b>glibc before 2.35</b> also refused {@code (p_align & (pagesize - 1)) != 0} ("ELF load command
 * alignment not page-aligned") and {@code ((p_vaddr - p_offset) & (p_align - 1)) != 0} ("ELF load command
 * address/offset not properly aligned"); a file that only those checks refuse loads today and gets a warning.</li>
 *
 * <li><b>Android's linker</b> (bionic, linker/linker_phdr.cpp, {@code ElfReader}, Android 15 and later) refuses a
 * shared library whose smallest PT_LOAD p_align is below the page size ("program alignment (4096) cannot be
 * smaller than system page size (16384)"); Android 16 can instead load such an app in a 16 KiB back-compat mode
 * that the app or the device turns on (android:pageSizeCompat), which is not a load at the page size. Like every
 * loader it maps file pages at ALIGN_DOWN(p_offset, P) to ALIGN_DOWN(p_vaddr, P), so the segment's bytes land
 * where they belong only when p_offset ≡ p_vaddr mod P.</li>
 * </ul>
 *
 * Which loader maps a file: one with PT_INTERP, or ET_EXEC, is mapped by the kernel; an ET_DYN carrying the NDK's
 * ABI note (owner "Android", type 1, in .note.android.ident) by Android's linker; any other ET_DYN by ld.so
 * (ld.so itself is ET_DYN without PT_INTERP and mapped by the kernel, but meets both rules in practice).
 *
 * <p>What loads but is weakened: a loader maps whole pages, so two PT_LOADs with different p_flags in one
 * P-sized page end up with one protection for both (W^X lost, or code writable); and glibc's
 * {@code _dl_protect_relro} makes read-only only up to ALIGN_DOWN(end of PT_GNU_RELRO, P), so a RELRO region
 * not ending on a P boundary keeps its tail writable.
 */
public final class LoadRules {

    private LoadRules() {}

    public enum Loader { KERNEL, LD_SO, BIONIC }

    /** NT_ANDROID_TYPE_IDENT: the NDK's crtbegin puts the target API level and NDK version in it. */
    static final int NT_ANDROID_IDENT = 1;

    public static Loader loaderOf(Elf elf) {
        boolean interp = elf.programHeaders().stream().anyMatch(h -> h.p_type() == ProgramHeader.PT_INTERP);
        if (interp || elf.e_type() == Elf.ET_EXEC) return Loader.KERNEL;
        return elf.hasNote("Android", NT_ANDROID_IDENT) ? Loader.BIONIC : Loader.LD_SO;
    }

    public static PageVerdict check(Elf elf, long pageSize) {
        List<ProgramHeader> headers = elf.programHeaders();
        Loader loader = loaderOf(elf);
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        long mask = pageSize - 1;
        List<ProgramHeader> loads = headers.stream().filter(ProgramHeader::isLoad).toList();
        if (loader == Loader.BIONIC) bionicAlignment(loads, pageSize, problems);
        for (ProgramHeader h : loads) {
            boolean congruent = ((h.p_vaddr() - h.p_offset()) & mask) == 0;
            if (loader == Loader.LD_SO) {
                if (!congruent) {
                    problems.add("LOAD[" + h.index() + "] p_vaddr 0x" + Long.toHexString(h.p_vaddr()) + " - p_offset 0x"
                            + Long.toHexString(h.p_offset()) + " is not a multiple of " + PageSizes.name(pageSize)
                            + " (ld.so: ELF load command address/offset not page-aligned)");
                } else if ((h.p_align() & mask) != 0) {
                    warnings.add("LOAD[" + h.index() + "] p_align 0x" + Long.toHexString(h.p_align()) + " is not a multiple of "
                            + PageSizes.name(pageSize) + ": glibc before 2.35 refuses it (ELF load command alignment not page-aligned)");
                } else if (((h.p_vaddr() - h.p_offset()) & (h.p_align() - 1)) != 0) {
                    warnings.add("LOAD[" + h.index() + "] p_vaddr - p_offset is not a multiple of p_align 0x" + Long.toHexString(h.p_align())
                            + ": glibc before 2.35 refuses it (ELF load command address/offset not properly aligned)");
                }
            } else if (loader == Loader.BIONIC) {
                if (h.p_filesz() != 0 && !congruent) {
                    problems.add("LOAD[" + h.index() + "] p_offset 0x" + Long.toHexString(h.p_offset()) + " and p_vaddr 0x"
                            + Long.toHexString(h.p_vaddr()) + " differ modulo " + PageSizes.name(pageSize)
                            + " (Android's linker maps whole pages: the segment's bytes would land at the wrong addresses)");
                }
            } else if (h.p_filesz() != 0 && !congruent) {
                problems.add("LOAD[" + h.index() + "] p_offset 0x" + Long.toHexString(h.p_offset()) + " and p_vaddr 0x"
                        + Long.toHexString(h.p_vaddr()) + " differ modulo " + PageSizes.name(pageSize) + " (kernel: mmap of the segment fails)");
            }
        }
        if (loader == Loader.LD_SO && problems.isEmpty()) holeCheck(loads, pageSize, problems);
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

    /** Android's linker: the smallest PT_LOAD p_align must be at least the page size (one message, as bionic gives). */
    private static void bionicAlignment(List<ProgramHeader> loads, long pageSize, List<String> problems) {
        ProgramHeader smallest = null;
        for (ProgramHeader h : loads) {
            if (smallest == null || Long.compareUnsigned(h.p_align(), smallest.p_align()) < 0) smallest = h;
        }
        if (smallest != null && Long.compareUnsigned(smallest.p_align(), pageSize) < 0) {
            problems.add("LOAD[" + smallest.index() + "] p_align 0x" + Long.toHexString(smallest.p_align()) + " is below " + PageSizes.name(pageSize)
                    + " (Android's linker: program alignment (" + Long.toUnsignedString(smallest.p_align())
                    + ") cannot be smaller than system page size (" + pageSize + "))");
        }
    }

    /**
     * glibc's {@code _dl_map_segments}: the first PT_LOAD is mapped over the whole extent, a hole between
     * consecutive page-rounded segments (mapend of one != mapstart of the next) is made inaccessible from the
     * first's end to the last's start, and that is refused when the last starts below the first's end.
     */
    private static void holeCheck(List<ProgramHeader> loads, long pageSize, List<String> problems) {
        if (loads.size() < 2) return;
        long mask = pageSize - 1;
        boolean holes = false;
        for (int i = 1; i < loads.size(); i++) {
            if (mapEnd(loads.get(i - 1), mask) != (loads.get(i).p_vaddr() & ~mask)) holes = true;
        }
        ProgramHeader first = loads.getFirst();
        ProgramHeader last = loads.getLast();
        long firstEnd = mapEnd(first, mask);
        long lastStart = last.p_vaddr() & ~mask;
        if (holes && Long.compareUnsigned(lastStart, firstEnd) < 0) {
            problems.add("LOAD[" + last.index() + "] starts in the " + PageSizes.name(pageSize) + " page at 0x" + Long.toHexString(lastStart)
                    + ", below the end 0x" + Long.toHexString(firstEnd) + " of LOAD[" + first.index() + "]'s pages, with a hole between"
                    + " (ld.so: ELF load command address/offset not page-aligned)");
        }
    }

    /** ALIGN_UP(p_vaddr + p_filesz, P), as glibc's loadcmd.mapend. */
    private static long mapEnd(ProgramHeader h, long mask) {
        return (h.p_vaddr() + h.p_filesz() + mask) & ~mask;
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
