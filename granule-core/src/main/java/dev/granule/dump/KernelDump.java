package dev.granule.dump;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.GeometryException;
import dev.granule.geometry.Granule;
import dev.granule.memory.MappedMemory;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.Mapping;
import dev.granule.table.TableWalker;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A kernel memory dump opened for translation: the file mapped (never copied), its memory, its
 * VMCOREINFO (from the ELF note, or found in RAM), and the kernel's translation geometry and TTBR1
 * root as the dump itself says, as options say, or as {@link GeometrySearch} finds them.
 *
 * <p>Not thread-safe (the walker reuses its scratch state). Close it to unmap the file.
 */
public final class KernelDump implements AutoCloseable {

    /** The file formats a dump is read from. */
    public enum Format {
        /** An ELF64 core (kdump's /proc/vmcore, makedumpfile -E, QEMU's elf). */
        ELF("ELF64 core, EM_AARCH64"),
        /** makedumpfile's kdump-compressed file ("KDUMP   "). */
        KDUMP("kdump-compressed (KDUMP)"),
        /** A kdump-compressed file in makedumpfile's flattened form (makedumpfile -F, QEMU's kdump-*). */
        FLATTENED_KDUMP("kdump-compressed, flattened (makedumpfile -F / QEMU kdump-*)"),
        /** A raw physical memory image at a given base. */
        RAW("raw image");

        private final String description;

        Format(String description) { this.description = description; }

        public String description() { return description; }
    }

    private final Path path;
    private final Arena arena;
    private final Format format;
    private final Optional<ElfCore> elf;
    private final Optional<KdumpFile> kdump;
    private final Optional<FlattenedFile> flattened;
    private final PhysicalMemory memory;
    private final Optional<VmcoreInfo> vmcoreInfo;
    private final String vmcoreInfoSource;
    private final KernelTables tables;
    private final Optional<GeometrySearch.Result> search;
    private final List<String> warnings;
    private TableWalker walker;

    private KernelDump(Path path, Arena arena, Format format, Optional<ElfCore> elf, Optional<KdumpFile> kdump,
                       Optional<FlattenedFile> flattened, PhysicalMemory memory, Optional<VmcoreInfo> vmcoreInfo,
                       String vmcoreInfoSource, KernelTables tables, Optional<GeometrySearch.Result> search, List<String> warnings) {
        this.path = path;
        this.arena = arena;
        this.format = format;
        this.elf = elf;
        this.kdump = kdump;
        this.flattened = flattened;
        this.memory = memory;
        this.vmcoreInfo = vmcoreInfo;
        this.vmcoreInfoSource = vmcoreInfoSource;
        this.tables = tables;
        this.search = search;
        this.warnings = List.copyOf(warnings);
    }

    public static KernelDump open(Path path) throws IOException {
        return open(path, DumpOptions.defaults());
    }

    /**
     * Opens {@code path} as whichever dump it is (ELF core, kdump-compressed, flattened kdump; with
     * {@link DumpOptions#rawBase()}, a raw physical image) and determines how to translate its
     * kernel addresses.
     *
     * @throws DumpFormatException   the file is not a readable arm64 core
     * @throws VmcoreInfoException   the geometry cannot be determined; the message says which option to give
     */
    public static KernelDump open(Path path, DumpOptions options) throws IOException {
        if (!Files.isRegularFile(path)) throw new NoSuchFileException(path.toString(), null, "no such dump file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment image;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size == 0) throw new DumpFormatException(0, "dump file " + path + " is empty");
                image = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            List<String> warnings = new ArrayList<>();
            Optional<ElfCore> elf = Optional.empty();
            Optional<KdumpFile> kdump = Optional.empty();
            Optional<FlattenedFile> flattened = Optional.empty();
            Format format;
            PhysicalMemory memory;
            if (options.rawBase() >= 0) {
                format = Format.RAW;
                memory = MappedMemory.over(image, List.of(new MappedMemory.Segment(options.rawBase(), 0, image.byteSize(), image.byteSize())));
            } else if (KdumpFile.looksLikeKdump(image) || FlattenedFile.looksFlattened(image)) {
                DumpBytes bytes;
                if (FlattenedFile.looksFlattened(image)) {
                    FlattenedFile flat = FlattenedFile.index(image);
                    warnings.addAll(flat.warnings());
                    flattened = Optional.of(flat);
                    bytes = flat;
                    format = Format.FLATTENED_KDUMP;
                    if (!KdumpFile.looksLikeKdump(flat.slice(0, Math.min(8, flat.size())))) {
                        throw new DumpFormatException(FlattenedFile.HEADER_SIZE, path + " is a flattened stream that does not hold a "
                                + "kdump-compressed file (no \"KDUMP   \" at its offset 0); rewrite it with makedumpfile -R");
                    }
                } else {
                    bytes = new DumpBytes.Mapped(image);
                    format = Format.KDUMP;
                }
                KdumpFile k = KdumpFile.parse(bytes);
                warnings.addAll(k.warnings());
                kdump = Optional.of(k);
                memory = k.memory();
            } else {
                if (!ElfCore.looksLikeElf(image)) {
                    throw new DumpFormatException(0, path + " is not an ELF core, a kdump-compressed \"KDUMP   \" file or a flattened "
                            + "\"makedumpfile\" stream; for a raw memory image give its physical base (--raw BASE)");
                }
                format = Format.ELF;
                ElfCore core = ElfCore.parse(image);
                warnings.addAll(core.warnings());
                elf = Optional.of(core);
                if (core.segments().isEmpty()) throw new DumpFormatException(-1, path + " has no PT_LOAD memory to translate into");
                memory = core.memory();
            }
            Optional<VmcoreInfo> info = Optional.empty();
            String source = "none";
            if (options.useVmcoreInfo()) {
                if (kdump.isPresent() && kdump.get().vmcoreInfo().isPresent()) {
                    info = Optional.of(VmcoreInfo.parse(kdump.get().vmcoreInfo().get()));
                    source = String.format("kdump_sub_header: %d bytes at offset %#x", kdump.get().subHeader().sizeVmcoreinfo(),
                            kdump.get().subHeader().offsetVmcoreinfo());
                }
                if (info.isEmpty() && elf.isPresent()) {
                    Optional<ElfNote> note = elf.get().note(ElfNote.VMCOREINFO, 0);
                    if (note.isPresent()) {
                        info = Optional.of(VmcoreInfo.parse(note.get().descBytes(VmcoreInfo.MAX_BYTES)));
                        source = String.format("ELF note at file offset %#x", note.get().at());
                    }
                }
                if (info.isEmpty() && memory instanceof MappedMemory mapped) {
                    Optional<VmcoreInfoScanner.Found> found = VmcoreInfoScanner.scan(mapped);
                    if (found.isPresent()) {
                        info = Optional.of(found.get().info());
                        source = String.format("found in RAM at PA %#x (%s)", found.get().pa(),
                                found.get().asNote() ? "the kernel's vmcoreinfo_note" : "the kernel's vmcoreinfo_data");
                    }
                }
                info.ifPresent(i -> warnings.addAll(i.warnings()));
            }
            Optional<GeometrySearch.Result> search = Optional.empty();
            KernelTables tables;
            KernelTables fromInfo = null;
            if (info.isPresent()) {
                try {
                    fromInfo = VmcoreInfoGeometry.detect(info.get());
                } catch (VmcoreInfoException e) {
                    // An incomplete VMCOREINFO is no reason to refuse a dump the options describe.
                    if (options.rootPa() < 0 && options.ttbr1() == -1) throw e;
                    warnings.add("VMCOREINFO does not describe the tables (" + e.getMessage() + "); using the options");
                }
            }
            if (fromInfo != null) {
                tables = override(fromInfo, options);
            } else if (options.pageSize() != 0 && options.vaBits() != 0 && (options.rootPa() >= 0 || options.ttbr1() != -1)) {
                tables = fromOptions(options);
            } else {
                if (options.rootPa() < 0 && options.ttbr1() == -1) {
                    throw new VmcoreInfoException("the dump has no VMCOREINFO (neither a note nor a copy in RAM); give the TTBR1 root "
                            + "(--root PA or --ttbr1 VALUE), and the page size and VA size if known");
                }
                GeometrySearch.Result r = GeometrySearch.search(memory, new GeometrySearch.Options(options.pageSize(),
                        options.vaBits(), options.rootPa(), options.ttbr1(), options.expect()));
                search = Optional.of(r);
                tables = r.chosen().orElseThrow(() -> new VmcoreInfoException(
                        "no candidate geometry validates on this root; see the candidate report (dump info) and check --root/--ttbr1"));
                if (r.ambiguous()) {
                    warnings.add("several geometries validate alike; chose " + tables.geometry().label()
                            + " (the smallest VA); give --va-bits or --expect VA[=PA] to decide");
                }
            }
            return new KernelDump(path, arena, format, elf, kdump, flattened, memory, info, source, tables, search, warnings);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static KernelTables fromOptions(DumpOptions o) {
        Geometry g = geometry(Granule.ofPageSize(o.pageSize()), o.vaBits());
        long root = o.rootPa() >= 0 ? o.rootPa() : KernelTables.rootFromTtbr(g, o.ttbr1());
        return new KernelTables(g, root, List.of("geometry " + g.label() + " and root " + String.format("%#x", root)
                + " from options"));
    }

    private static Geometry geometry(Granule granule, int vaBits) {
        if (vaBits < Geometry.MIN_VA_BITS) {
            throw new VmcoreInfoException("options give a " + vaBits + "-bit kernel VA; Linux arm64 kernels use 36 to 52 bits");
        }
        int pa = vaBits > 48 ? 52 : 48;
        try {
            return Geometry.of(granule, vaBits, pa);
        } catch (GeometryException e) {
            throw new VmcoreInfoException("options give no valid geometry: " + e.getMessage());
        }
    }

    private static KernelTables override(KernelTables detected, DumpOptions o) {
        if (o.pageSize() == 0 && o.vaBits() == 0 && o.rootPa() < 0 && o.ttbr1() == -1) return detected;
        List<String> evidence = new ArrayList<>(detected.evidence());
        Geometry g = detected.geometry();
        if (o.pageSize() != 0 || o.vaBits() != 0) {
            g = geometry(o.pageSize() != 0 ? Granule.ofPageSize(o.pageSize()) : g.granule(),
                    o.vaBits() != 0 ? o.vaBits() : g.vaBits());
            evidence.add("geometry " + g.label() + " set by option, overriding VMCOREINFO");
        }
        long root = detected.rootPa();
        if (o.rootPa() >= 0 || o.ttbr1() != -1) {
            root = o.rootPa() >= 0 ? o.rootPa() : KernelTables.rootFromTtbr(g, o.ttbr1());
            evidence.add(String.format("root %#x set by option, overriding VMCOREINFO", root));
        }
        return new KernelTables(g, root, evidence);
    }

    public Path path() { return path; }

    public Format format() { return format; }

    public Optional<ElfCore> elf() { return elf; }

    /** The kdump-compressed file's headers, for {@link Format#KDUMP} and {@link Format#FLATTENED_KDUMP}. */
    public Optional<KdumpFile> kdump() { return kdump; }

    /** The flattened stream's index, for {@link Format#FLATTENED_KDUMP}. */
    public Optional<FlattenedFile> flattened() { return flattened; }

    /** The dumped physical memory (for kdump files, pages may be {@link dev.granule.memory.PageState#EXCLUDED}). */
    public PhysicalMemory memory() { return memory; }

    /** The file-mapped memory of an ELF core or raw image, with its segments. */
    public Optional<MappedMemory> mappedMemory() {
        return memory instanceof MappedMemory m ? Optional.of(m) : Optional.empty();
    }

    public Optional<VmcoreInfo> vmcoreInfo() { return vmcoreInfo; }

    /** Where the VMCOREINFO came from ("ELF note at ...", "found in RAM at ...", or "none"). */
    public String vmcoreInfoSource() { return vmcoreInfoSource; }

    public KernelTables tables() { return tables; }

    public Geometry geometry() { return tables.geometry(); }

    /** The candidate report, when the geometry was searched for rather than read. */
    public Optional<GeometrySearch.Result> search() { return search; }

    public List<String> warnings() { return warnings; }

    /** The walker over the kernel's TTBR1 tables (shared; not thread-safe). */
    public TableWalker kernelWalker() {
        if (walker == null) walker = tables.walker(memory);
        return walker;
    }

    /**
     * What the dump says about kernel address {@code va}: mapped (and whether the target page is in
     * the dump), unmapped, or not known because a table page is not in the dump or not RAM.
     */
    public Translation resolve(long va) {
        TableWalker w = kernelWalker();
        if (!w.covers(va)) return new Translation.NotKernelAddress(va);
        Translation[] out = {null};
        w.walk(va, va, new dev.granule.table.LeafVisitor() {
            @Override
            public boolean leaf(long leafVa, int level, dev.granule.format.Descriptor d) {
                long pa = w.format().translate(d, level, va);
                Mapping m = w.toMapping(leafVa, level, d);
                out[0] = new Translation.Mapped(va, pa, m, memory.pageState(pa));
                return false;
            }

            @Override
            public void unreadableTable(long at, int level, long table) {
                out[0] = memory.pageState(table) == dev.granule.memory.PageState.EXCLUDED
                        ? new Translation.NotInDump(va, level + 1, table) : new Translation.TableOutsideRam(va, level + 1, table);
            }
        });
        return out[0] != null ? out[0] : new Translation.Unmapped(va);
    }

    /**
     * Reads {@code length} bytes of kernel virtual memory at {@code va}; each page crossed is
     * translated on its own, as the CPU would.
     *
     * @throws UnreadableAddressException at the first page that is unmapped or not in the dump, naming it
     */
    public void readVirtual(long va, byte[] dst, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, dst.length);
        long page = geometry().pageSize();
        while (length > 0) {
            Translation t = resolve(va);
            int n = (int) Math.min(length, page - (va & (page - 1)));
            if (!(t instanceof Translation.Mapped m) || !m.targetInDump()) {
                throw new UnreadableAddressException(t, String.format("cannot read %#x: %s", va, describe(t)));
            }
            // Bytes of a leaf are contiguous in PA; the page is one read.
            memory.read(m.pa(), dst, offset, n);
            va += n;
            offset += n;
            length -= n;
        }
    }

    /** Why {@code t} cannot be read, in words. */
    public String describe(Translation t) {
        TranslationText text = new TranslationText(geometry());
        return switch (t) {
            case Translation.Mapped m -> switch (m.target()) {
                case PRESENT -> String.format("mapped to PA %#x", m.pa());
                case EXCLUDED -> String.format("mapped to PA %#x, but the page %#x is not in the dump", m.pa(), m.pa() & -geometry().pageSize());
                case NOT_RAM -> String.format("mapped to PA %#x, which is not RAM in the dump (device memory?)", m.pa());
            };
            case Translation.Unmapped u -> "the kernel's tables do not map it";
            default -> {
                String line = text.append(new StringBuilder(), t, null).toString();
                yield line.substring(line.indexOf("  ") + 2);
            }
        };
    }

    /** The leaf that maps kernel address {@code va}, if the kernel's tables map it. */
    public Optional<Mapping> translate(long va) {
        return kernelWalker().lookup(va);
    }

    @Override
    public void close() {
        memory.close();
        if (arena.scope().isAlive()) arena.close();
    }
}
