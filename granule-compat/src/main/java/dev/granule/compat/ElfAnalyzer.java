package dev.granule.compat;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Applies {@link LoadRules} at every page size of an ELF's architecture and adds the static probes. */
public final class ElfAnalyzer {

    private ElfAnalyzer() {}

    public static ElfReport analyze(String path, MemorySegment data) {
        return analyze(path, data, Optional.empty());
    }

    /** With {@code placement}, the library sits in an APK and its zip alignment is judged too. */
    public static ElfReport analyze(String path, MemorySegment data, Optional<ZipPlacement> placement) {
        Elf elf = Elf.read(data);
        Architecture arch = Architecture.of(elf.e_machine());
        String type = switch (elf.e_type()) {
            case 1 -> "REL";
            case Elf.ET_EXEC -> "EXEC";
            case Elf.ET_DYN -> "DYN";
            case 4 -> "CORE";
            default -> "type " + elf.e_type();
        };
        List<String> notes = new ArrayList<>();
        if (arch == Architecture.OTHER) notes.add("e_machine " + elf.e_machine() + ": page sizes unknown to granule, judged at 4K only");
        List<PageVerdict> verdicts = new ArrayList<>();
        Optional<LoadRules.Loader> loader = Optional.empty();
        boolean loadable = elf.e_type() == Elf.ET_EXEC || elf.e_type() == Elf.ET_DYN;
        if (loadable) {
            loader = Optional.of(LoadRules.loaderOf(elf));
            for (long p : arch.pageSizes()) {
                PageVerdict v = LoadRules.check(elf, p);
                verdicts.add(placement.map(z -> z.apply(v)).orElse(v));
            }
        } else {
            notes.add("not mapped by a loader (" + type + ")");
        }
        long largest = 0;
        for (PageVerdict v : verdicts) if (v.loads()) largest = v.pageSize();
        Optional<String> fix = Optional.empty();
        if (verdicts.stream().anyMatch(v -> !v.loads())) {
            fix = Optional.of("relink with -Wl,-z,max-page-size=" + arch.largestPageSize());
        } else if (verdicts.stream().anyMatch(v -> v.warnings().stream().anyMatch(w -> w.startsWith("PT_GNU_RELRO")))) {
            fix = Optional.of("relink with -Wl,-z,common-page-size=" + arch.largestPageSize() + " to end RELRO on a page boundary");
        }
        List<ElfReport.MayFail> mayFail = new ArrayList<>();
        for (ElfReport.MayFail m : JemallocProbe.probe(elf).stream().toList()) {
            // Built for the architecture's largest page: it cannot meet a larger one, so it is a fact, not a risk.
            if (m.upTo() != 0 && m.upTo() >= arch.largestPageSize()) notes.add(m.what().replace(" aborts on larger pages", "") + ": fine at every "
                    + arch.displayName() + " page size [" + m.evidence() + "]");
            else mayFail.add(m);
        }
        return new ElfReport(path, elf.is64() ? "ELF64" : "ELF32",
                elf.byteOrder() == java.nio.ByteOrder.LITTLE_ENDIAN ? "LSB" : "MSB", arch, elf.e_machine(), type, loader,
                verdicts, largest, fix, mayFail, notes);
    }
}
