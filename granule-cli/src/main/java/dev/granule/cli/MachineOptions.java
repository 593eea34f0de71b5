package dev.granule.cli;

import dev.granule.geometry.Geometry;
import dev.granule.impact.MachineCost;
import dev.granule.impact.PageCacheScan;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The geometries {@code granule impact} compares (boot command lines) and the whole machine's costs. */
final class MachineOptions {

    static final List<String> DEFAULT_BOOT = List.of("arm64.pagesize=4k", "arm64.pagesize=16k", "arm64.pagesize=64k");

    @Option(names = "--boot", paramLabel = "CMDLINE",
            description = "A kernel command line whose geometry to compare, e.g. \"arm64.pagesize=64k granule.va_bits=52\";"
                    + " repeatable (default: arm64.pagesize=4k, =16k and =64k, each with a 48-bit VA).")
    List<String> boot = new ArrayList<>();

    @Option(names = "--ram", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "RAM for the whole-machine costs (default with no --pid/--smaps: MemTotal from /proc/meminfo).")
    Long ram;

    @Option(names = "--struct-page", paramLabel = "BYTES", description = "sizeof(struct page) (default 64, the kernel's on arm64).")
    Integer structPage;

    @Option(names = "--vmcoreinfo", paramLabel = "FILE", description = "VMCOREINFO text whose SIZE(page) gives sizeof(struct page).")
    Path vmcoreinfo;

    @Option(names = "--page-cache", paramLabel = "DIR",
            description = "Files under DIR (repeatable) counted as if cached: the page cache rounds each up to whole pages.")
    List<Path> pageCache = new ArrayList<>();

    List<String> bootLines() {
        return boot.isEmpty() ? DEFAULT_BOOT : boot;
    }

    List<Geometry> geometries() {
        List<Geometry> out = new ArrayList<>();
        for (String line : bootLines()) {
            try {
                out.add(Geometry.boot(line));
            } catch (IllegalArgumentException e) {
                throw new UserException("--boot \"" + line + "\": " + e.getMessage());
            }
        }
        return out;
    }

    /** Where the struct page size comes from, and the size. */
    record StructPage(int bytes, String source) {}

    StructPage structPage() throws IOException {
        if (structPage != null && vmcoreinfo != null) throw new UserException("--struct-page and --vmcoreinfo exclude each other");
        if (structPage != null) {
            if (structPage < 1 || structPage > 4096) throw new UserException("--struct-page must be 1..4096 bytes, not " + structPage);
            return new StructPage(structPage, "--struct-page");
        }
        if (vmcoreinfo != null) {
            if (!Files.isReadable(vmcoreinfo)) throw new UserException("--vmcoreinfo " + vmcoreinfo + ": no readable file");
            int n = MachineCost.structPageFromVmcoreinfo(vmcoreinfo);
            if (n < 0) throw new UserException("--vmcoreinfo " + vmcoreinfo + ": no SIZE(page)= line");
            return new StructPage(n, "SIZE(page) in " + vmcoreinfo);
        }
        return new StructPage(MachineCost.DEFAULT_STRUCT_PAGE, "the kernel's definition on arm64, the default");
    }

    /** RAM and where it comes from, or null when the machine section does not apply. */
    record Ram(long bytes, String source) {}

    Ram ram(boolean system) throws IOException {
        if (ram != null) {
            if (ram <= 0) throw new UserException("--ram must be positive");
            return new Ram(ram, "--ram");
        }
        if (!system) return null;
        Path meminfo = Path.of("/proc/meminfo");
        if (!Files.isReadable(meminfo)) return null;
        for (String line : Files.readAllLines(meminfo)) {
            if (line.startsWith("MemTotal:")) {
                String kb = line.substring("MemTotal:".length()).replace("kB", "").strip();
                try {
                    return new Ram(Long.parseLong(kb) * 1024, "MemTotal in /proc/meminfo");
                } catch (NumberFormatException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** The machine's costs per geometry, or null when the RAM is not known. */
    List<MachineCost> machine(boolean system, List<Geometry> geometries) throws IOException {
        Ram r = ram(system);
        if (r == null && pageCache.isEmpty()) return null;
        StructPage sp = structPage();
        PageCacheScan.Result files = null;
        if (!pageCache.isEmpty()) {
            for (Path p : pageCache) if (!Files.isDirectory(p)) throw new UserException("--page-cache " + p + ": not a directory");
            files = PageCacheScan.scan(pageCache);
        }
        List<MachineCost> out = new ArrayList<>();
        for (Geometry g : geometries) out.add(MachineCost.of(g, r == null ? 0 : r.bytes(), sp.bytes(), files));
        return out;
    }

    void printGeometries(PrintWriter out, List<Geometry> geometries) {
        out.printf("geometries%s:%n", boot.isEmpty() ? " (defaults; --boot CMDLINE to choose)" : "");
        for (int i = 0; i < geometries.size(); i++) {
            out.printf("  %-28s %s%n", geometries.get(i).label(), bootLines().get(i));
        }
        out.println();
    }

    void printMachine(PrintWriter out, boolean system, List<MachineCost> machine) throws IOException {
        Ram r = ram(system);
        StructPage sp = structPage();
        out.printf("%nwhole machine: RAM %s (%s); struct page %d bytes (%s)%n",
                r == null ? "not given" : Units.approx(r.bytes()), r == null ? "--ram" : r.source(), sp.bytes(), sp.source());
        out.printf("%-28s %12s %14s %14s %14s%n", "geometry", "memmap", "linear map", "rodata=full", "page cache");
        for (MachineCost m : machine) {
            out.printf("%-28s %12s %14s %14s %14s%n", m.geometry(), Units.approx(m.memmapBytes()), Units.approx(m.linearMapBytes()),
                    Units.approx(m.linearMapRodataFullBytes()), pageCache.isEmpty() ? "-" : Units.approx(m.pageCacheBytes()));
        }
        out.printf("memmap: one struct page per page frame; linear map: its tables below swapper_pg_dir with block"
                + " mappings, and with pages only (rodata=full);%npage cache: the files under --page-cache rounded up to"
                + " whole pages%s.%n", pageCache.isEmpty() ? " (none given)" : " (" + Units.approx(machine.getFirst().pageCacheFileBytes())
                + " of file data)");
    }
}
