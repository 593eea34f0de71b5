package dev.granule.cli;

import dev.granule.dump.ElfCore;
import dev.granule.dump.ElfNote;
import dev.granule.dump.GeometrySearch;
import dev.granule.dump.KdumpFile;
import dev.granule.dump.KdumpHeaders;
import dev.granule.dump.KdumpMemory;
import dev.granule.dump.KernelDump;
import dev.granule.dump.PrStatus;
import dev.granule.dump.ProgramHeader;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MappedMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code granule dump info FILE}: segments, notes, VMCOREINFO and the detected geometry. */
@Command(name = "info",
        footerHeading = "%nExamples:%n",
        footer = {"  granule dump info vmcore.elf", "  granule dump info --raw 0x40000000 --root 0x41234000 memory.bin"}, mixinStandardHelpOptions = true,
        description = "Show a dump's memory segments, notes, VMCOREINFO and the translation geometry detected from it.")
final class DumpInfoCommand implements Callable<Integer> {

    /** The VMCOREINFO entries that matter for translation, shown unless --all asks for every one. */
    private static final Set<String> KEY_ENTRIES = Set.of("OSRELEASE", "BUILD-ID", "PAGESIZE", "KERNELOFFSET", "CRASHTIME",
            "SYMBOL(swapper_pg_dir)", "SYMBOL(_stext)", "SYMBOL(init_uts_ns)", "SYMBOL(vmemmap)", "NUMBER(VA_BITS)",
            "NUMBER(TCR_EL1_T1SZ)", "NUMBER(kimage_voffset)", "NUMBER(PHYS_OFFSET)", "NUMBER(MAX_PHYSMEM_BITS)",
            "NUMBER(MODULES_VADDR)", "NUMBER(MODULES_END)", "NUMBER(VMALLOC_START)", "NUMBER(VMALLOC_END)",
            "NUMBER(VMEMMAP_START)", "NUMBER(VMEMMAP_END)", "NUMBER(KERNELPACMASK)");

    @Mixin
    DumpSourceOptions source = new DumpSourceOptions();

    @Option(names = "--all", description = "Print every VMCOREINFO entry, not only those that describe the address space.")
    boolean all;

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (KernelDump dump = source.open()) {
            long size = Files.size(dump.path());
            out.printf("file        %s (%s, %s)%n", dump.path(), Units.approx(size),
                    dump.format() == KernelDump.Format.RAW ? "raw image at PA " + Units.hex(source.rawBase) : dump.format().description());
            if (dump.elf().isPresent()) printElf(out, dump.elf().get(), dump.mappedMemory().orElseThrow());
            else if (dump.kdump().isPresent()) printKdump(out, dump);
            else printSegments(out, dump.mappedMemory().orElseThrow().segments());
            out.printf("vmcoreinfo  %s%n", dump.vmcoreInfoSource());
            dump.vmcoreInfo().ifPresent(info -> {
                for (Map.Entry<String, String> e : info.entries().entrySet()) {
                    if (all || KEY_ENTRIES.contains(e.getKey())) out.printf("  %s=%s%n", e.getKey(), e.getValue());
                }
                if (!all) out.printf("  (%d entries in all; --all prints them)%n", info.entries().size());
            });
            Geometry g = dump.geometry();
            out.printf("geometry    %s: %d levels from level %d, %d-entry root, leaves %s%n", g.label(), g.levels(),
                    g.startLevel(), g.ptrsPerPgd(), leafSizes(g));
            for (String e : dump.tables().evidence()) out.printf("  %s%n", e);
            out.printf("root        %s (TTBR1 translation table base)%n", Units.hex(dump.tables().rootPa()));
            dump.search().ifPresent(r -> printSearch(out, r));
            for (String w : dump.warnings()) out.printf("warning     %s%n", w);
        }
        out.flush();
        return 0;
    }

    private static String leafSizes(Geometry g) {
        StringBuilder b = new StringBuilder();
        for (long s : g.leafSizes()) b.append(b.isEmpty() ? "" : " ").append(Units.bytes(s));
        return b.toString();
    }

    private static void printElf(PrintWriter out, ElfCore core, MappedMemory memory) {
        long loads = core.programHeaders().stream().filter(p -> p.type() == ProgramHeader.PT_LOAD).count();
        out.printf("headers     %d program headers (%d PT_LOAD), %d notes%n", core.programHeaderCount(), loads, core.notes().size());
        printSegments(out, memory.segments());
        printNotes(out, core.notes());
    }

    private static void printKdump(PrintWriter out, KernelDump dump) {
        KdumpFile k = dump.kdump().orElseThrow();
        KdumpHeaders.DiskDumpHeader h = k.header();
        KdumpHeaders.KdumpSubHeader sub = k.subHeader();
        dump.flattened().ifPresent(f -> out.printf("flattened   %d records, %s logical file (read in place)%n", f.records(),
                Units.approx(f.size())));
        out.printf("header      disk_dump_header version %d, block_size %d, codecs %s, %d CPUs%s%s%n", h.headerVersion(),
                h.blockSize(), h.codecs(), h.nrCpus(), h.release().isEmpty() ? "" : ", release " + h.release(),
                h.incomplete() ? ", INCOMPLETE" : "");
        out.printf("sub-header  dump_level %d, phys_base %s, max_mapnr %d (%s of PA)%n", sub.dumpLevel(), Units.hex(sub.physBase()),
                k.pages(), Units.approx(k.pages() * h.blockSize()));
        out.printf("bitmaps     at %#x, %d bytes each; page_desc array at %#x%n", k.bitmapOffset(), k.bitmapBytes(), k.pageDescOffset());
        KdumpMemory m = (KdumpMemory) dump.memory();
        long ram = 0;
        for (var r : m.ranges()) ram += r.size();
        out.printf("memory      %d pages in the dump (%s) in %d ranges%n", m.dumpedPages(), Units.approx(ram), m.ranges().size());
        int shown = 0;
        for (var r : m.ranges()) {
            if (shown++ == 16) {
                out.printf("  ... %d more%n", m.ranges().size() - 16);
                break;
            }
            out.printf("  PA 0x%016x-0x%016x %8s%n", r.base(), r.end(), Units.approx(r.size()));
        }
        printNotes(out, k.notes());
    }

    private static void printNotes(PrintWriter out, List<ElfNote> notes) {
        out.printf("notes%n");
        int cpu = 0;
        for (ElfNote n : notes) {
            String extra = "";
            if (n.type() == ElfNote.NT_PRSTATUS && ElfNote.CORE.equals(n.name())) {
                PrStatus s = PrStatus.parse(n);
                extra = String.format("  cpu %d: pid %d pc %#x sp %#x %s", cpu++, s.pid(), s.pc(), s.sp(),
                        s.aarch64() ? "EL" + s.exceptionLevel() : "AArch32");
            }
            out.printf("  %-11s %-16s %6d bytes at %#x%s%n", n.name(), n.typeName(), n.descSize(), n.at(), extra);
        }
    }

    private static void printSegments(PrintWriter out, List<MappedMemory.Segment> segments) {
        long ram = 0;
        for (MappedMemory.Segment s : segments) ram += s.memorySize();
        out.printf("memory      %d segments, %s of RAM%n", segments.size(), Units.approx(ram));
        int shown = 0;
        for (MappedMemory.Segment s : segments) {
            if (shown++ == 32) {
                out.printf("  ... %d more%n", segments.size() - 32);
                break;
            }
            out.printf("  PA 0x%016x-0x%016x %8s  file %#x%s%n", s.pa(), s.end(), Units.approx(s.memorySize()), s.fileOffset(),
                    s.fileSize() < s.memorySize() ? " (" + Units.approx(s.memorySize() - s.fileSize()) + " zero-filled)" : "");
        }
    }

    private static void printSearch(PrintWriter out, GeometrySearch.Result r) {
        out.printf("candidates  (no VMCOREINFO: every page size and VA size tried on the root)%n");
        for (GeometrySearch.Candidate c : r.candidates()) {
            out.printf("  %-7s %-36s %s%n", c.valid() ? "valid" : "invalid", c.geometry() == null ? "-" : c.geometry().label(),
                    String.join("; ", c.reasons()));
        }
    }
}
