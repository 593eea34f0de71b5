package dev.granule.compat;

import java.util.List;
import java.util.Optional;

/**
 * What granule says about one ELF: its identity, a verdict for each page size its architecture supports,
 * the largest page size it loads at (0: none), the linker option that fixes it, and "may fail" evidence
 * found beyond the headers (e.g. a compiled-in page size).
 *
 * @param path       the ELF's name through the archives, e.g. {@code x.jar!/lib/arm64-v8a/libfoo.so}
 * @param loader     who maps it: the kernel (programs) or ld.so (shared objects); empty for ET_REL/ET_CORE
 * @param verdicts   one per page size, ascending; empty when the file is not something a loader maps
 * @param mayFail    static evidence that it may still fail at some page sizes, each naming its evidence
 */
public record ElfReport(String path, String elfClass, String byteOrder, Architecture architecture, int e_machine,
                        String type, Optional<LoadRules.Loader> loader, List<PageVerdict> verdicts,
                        long largestPageSize, Optional<String> fix, List<MayFail> mayFail, List<String> notes) {

    public ElfReport {
        verdicts = List.copyOf(verdicts);
        mayFail = List.copyOf(mayFail);
        notes = List.copyOf(notes);
    }

    /** A page-size assumption found statically: fails at page sizes above {@code upTo} (0: unknown). */
    public record MayFail(String what, long upTo, String evidence) {}

    public Optional<PageVerdict> verdict(long pageSize) {
        return verdicts.stream().filter(v -> v.pageSize() == pageSize).findFirst();
    }

    /** True when a loader would refuse it at one of {@code pageSizes} its architecture has (all of them if empty). */
    public boolean failsAt(List<Long> pageSizes) {
        return verdicts.stream().anyMatch(v -> !v.loads() && (pageSizes.isEmpty() || pageSizes.contains(v.pageSize())));
    }
}
