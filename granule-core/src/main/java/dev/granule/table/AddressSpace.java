package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorEncodingException;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.DescriptorKind;
import dev.granule.format.TableAttributes;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.PhysicalMemory;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The translation tables behind one TTBR, edited the way an OS edits them: {@code map},
 * {@code unmap}, {@code protect} and {@code collapse} over page-aligned ranges, laid out in
 * {@link PhysicalMemory} exactly as the architecture reads them.
 *
 * <p>{@code map} picks the largest leaf the geometry allows at each point (a block where VA and PA
 * are aligned to a level's span) and sets the Contiguous bit on every aligned run of
 * CONT_PTES / CONT_PMDS entries. Edits that cover part of a block split it, and edits that cover
 * part of a contiguous run clear the bit on the whole run first, as the architecture requires of
 * a run whose entries differ. Tables left empty are freed. {@code collapse} merges back.
 *
 * <p>Every edit is atomic: it is validated first, and anything that still fails part-way
 * (frames exhausted, a memory write failing, an attribute or address the format cannot encode at
 * the level the edit needs) is undone from a journal, so the tables are byte-identical to before
 * and the error says why.
 *
 * <p>One engine serves every format: VMSAv8-64, VMSAv9-128 (16-byte descriptors, down to level -2),
 * Armv7 LPAE and Armv7 short descriptors (4-byte descriptors, a 16 KiB first-level table and 1 KiB
 * second-level tables, supersections and large pages as runs of 16 replicated entries). What
 * differs is asked of the {@link DescriptorFormat}: a table's size, each entry's output address
 * ({@link DescriptorFormat#translate}), whether a leaf may join a run.
 *
 * <p>Not thread-safe: one editor at a time, as with a kernel's page-table lock.
 */
public final class AddressSpace {

    private final Geometry geometry;
    private final DescriptorFormat format;
    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final VaRange range;
    private final long root;
    private final Journal journal = new Journal();
    private final TableWalker walker;
    private final Slot[] slots = new Slot[Geometry.MAX_LEVEL - Geometry.MIN_LEVEL + 1];
    /** One cursor per level over the entries an edit's range covers (null above the start level). */
    private final LevelSegments[] segments = new LevelSegments[slots.length];
    private final Slot runSlot;
    /** The leaf loop compiled for this geometry ({@link Vmsa64LeafWriter}), or null: other formats write through slots. */
    private final LeafWriter leafWriter;
    private final Descriptor[] scratch = new Descriptor[slots.length];
    private final Descriptor[] leafTemplate = new Descriptor[slots.length];
    /** Why the current map's attributes cannot be a leaf at a level, or null if they can. */
    private final String[] templateError = new String[slots.length];
    private final Descriptor work = new Descriptor();
    private final Descriptor other = new Descriptor();

    private AddressSpace(DescriptorFormat format, PhysicalMemory memory, FrameAllocator frames, VaRange range,
                         long root) {
        this.geometry = format.geometry();
        this.format = format;
        this.memory = memory;
        this.frames = frames;
        this.range = range;
        this.root = root;
        this.walker = new TableWalker(format, memory, root, range);
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(memory, format.descriptorShift(), journal);
            scratch[i] = new Descriptor();
            leafTemplate[i] = new Descriptor();
        }
        for (int level = geometry.startLevel(); level <= 3; level++) {
            int entries = level == geometry.startLevel() ? range.rootEntries(geometry) : geometry.entries(level);
            segments[slot(level)] = new LevelSegments(geometry, level, entries, slots[slot(level)], scratch[slot(level)]);
        }
        this.runSlot = new Slot(memory, format.descriptorShift(), journal);
        this.leafWriter = GeometryCopies.leafWriter(format, memory);
    }

    /** An empty address space for the lower half (TTBR0). */
    public static AddressSpace create(Geometry geometry, PhysicalMemory memory, FrameAllocator frames) {
        return create(DescriptorFormat.of(geometry), memory, frames, VaRange.LOWER);
    }

    public static AddressSpace create(Geometry geometry, PhysicalMemory memory, FrameAllocator frames, VaRange range) {
        return create(DescriptorFormat.of(geometry), memory, frames, range);
    }

    /**
     * An empty address space: allocates the start-level table, a frame or, for a larger one (the
     * short-descriptor first level), a block aligned to its size.
     */
    public static AddressSpace create(DescriptorFormat format, PhysicalMemory memory, FrameAllocator frames,
                                      VaRange range) {
        Geometry g = format.geometry();
        if (frames.memory() != memory) throw new IllegalArgumentException("the frame allocator serves other memory");
        if (frames.frameSize() != g.fullTableBytes()) {
            throw new IllegalArgumentException("tables of " + g.label() + " need " + g.fullTableBytes()
                    + "-byte frames; the allocator gives " + frames.frameSize());
        }
        if (range.isEmpty(g)) {
            throw new IllegalArgumentException("TTBR1 translates nothing in " + g.label() + ": with TTBCR.N = 0 every"
                    + " address goes through TTBR0; give granule.va_bits below 32 for a TTBR1 region");
        }
        int tableBits = format.tableAddressBits();
        for (var r : frames.pool()) {
            if (tableBits < 64 && Long.compareUnsigned(r.end(), 1L << tableBits) > 0) {
                throw new IllegalArgumentException("pool range " + r + " reaches above the " + tableBits
                        + "-bit addresses " + g.format().archName() + " table descriptors hold; give a pool below 0x"
                        + Long.toHexString(1L << tableBits));
            }
        }
        long rootBytes = Math.max((long) range.rootEntries(g) << format.descriptorShift(), frames.frameSize());
        return new AddressSpace(format, memory, frames, range, frames.allocate(rootBytes));
    }

    public Geometry geometry() { return geometry; }

    public DescriptorFormat format() { return format; }

    public PhysicalMemory memory() { return memory; }

    public FrameAllocator frames() { return frames; }

    public VaRange range() { return range; }

    /** Physical address of the start-level table: the TTBR's BADDR. */
    public long root() { return root; }

    /** A read-only walker over these tables. */
    public TableWalker walker() { return walker; }

    public Optional<Mapping> lookup(long va) { return walker.lookup(va); }

    public List<Mapping> mappings() { return walker.mappings(); }

    public void walk(long first, long last, LeafVisitor visitor) { walker.walk(first, last, visitor); }

    /** Bytes of table memory in use, the start-level table included. */
    public long tableBytes() { return frames.stats().liveBytes(); }

    // ---- map ------------------------------------------------------------------------------------

    /**
     * Maps {@code [va, va + size)} to {@code [pa, pa + size)}. The range must be page-aligned,
     * inside this half of the VA space and PA size, and entirely unmapped.
     */
    public void map(long va, long pa, long size, Attributes attributes) {
        map(va, pa, size, attributes, EnumSet.noneOf(MapFlag.class));
    }

    /** As {@link #map(long, long, long, Attributes)}, with Linux's restrictions on leaf choice. */
    public void map(long va, long pa, long size, Attributes attributes, Set<MapFlag> flags) {
        if (attributes == null) throw new PageTableException("map needs attributes");
        long last = checkRange("map", va, size);
        checkOutput(va, pa, size);
        Mapping existing = firstMapping(va, last);
        if (existing != null) {
            throw new PageTableException(String.format(
                    "cannot map 0x%x-0x%x: 0x%x is already mapped (%s at 0x%x -> PA 0x%x); unmap it first or use protect",
                    va, last, Math.max(va, existing.va()), describe(existing), existing.va(), existing.pa()));
        }
        prepareTemplates(va, attributes);
        boolean blocks = !flags.contains(MapFlag.NO_BLOCK_MAPPINGS);
        boolean runs = !flags.contains(MapFlag.NO_CONT_MAPPINGS);
        edit(() -> mapLevel(root, geometry.startLevel(), va, last, pa, false, blocks, runs));
    }

    /**
     * Encodes the attributes once per leaf level. A level whose leaves cannot hold them (a short
     * descriptor page has no PXN) is only an error if the map needs a leaf there.
     */
    private void prepareTemplates(long va, Attributes attributes) {
        for (int level = geometry.startLevel(); level <= 3; level++) {
            templateError[slot(level)] = null;
            if (level == 3 || geometry.blockAllowed(level)) {
                try {
                    format.encodeLeaf(leafTemplate[slot(level)], 0, level, attributes, false);
                } catch (DescriptorEncodingException e) {
                    templateError[slot(level)] = String.format("cannot map 0x%x as %s: %s", va,
                            level == 3 ? "pages" : geometry.architecturalLevelName(level) + " blocks", e.getMessage());
                }
            }
        }
    }

    private static int slot(int level) { return level - Geometry.MIN_LEVEL; }

    /** Index of {@code va} in the table at {@code level}; the start-level table may be larger than the geometry's. */
    private int index(long va, int level) {
        return segments[slot(level)].indexOf(va);
    }

    /** {@code fresh}: the table was allocated by this edit, so its writes need no undo record. */
    private void mapLevel(long table, int level, long va, long last, long pa, boolean fresh, boolean blocks,
                          boolean runs) {
        long span = geometry.entrySpan(level);
        boolean leafLevel = level == 3
                || (blocks && geometry.blockAllowed(level) && templateError[slot(level)] == null);
        int run = runs && leafLevel && format.contiguousAllowed(leafTemplate[slot(level)], level)
                ? geometry.contiguousEntries(level) : 1;
        long runSpan = span * run;
        long offset = pa - va; // the same for every segment: output minus input address
        LevelSegments s = segments[slot(level)].over(table, va, last);
        while (s.next()) {
            long at = s.va();
            long out = at + offset;
            if (leafLevel && s.whole() && (out & (span - 1)) == 0) {
                if (run > 1 && ((at | out) & (runSpan - 1)) == 0 && Long.compareUnsigned(last - at, runSpan - 1) >= 0) {
                    writeLeaves(table, level, at, out, run, true, fresh);
                    s.take(run);
                } else if (run == 1) {
                    // Every whole entry from here to the end of the range or of the table: one batch.
                    int count = (int) Math.min(Long.divideUnsigned(last - at + 1, span), s.entriesLeft());
                    writeLeaves(table, level, at, out, count, false, fresh);
                    s.take(count);
                } else {
                    writeLeaves(table, level, at, out, 1, false, fresh);
                }
            } else {
                Descriptor d = s.read();
                DescriptorKind kind = format.kind(d, level);
                if (kind.isLeaf()) {
                    throw new IllegalStateException(String.format(
                            "leaf at 0x%x level %d inside a range checked to be unmapped", at, level));
                }
                boolean existing = kind == DescriptorKind.TABLE;
                long next = existing ? format.tableAddress(d) : newTable(s.slot(), fresh);
                mapLevel(next, level + 1, at, s.last(), out, !existing, blocks, runs);
            }
        }
    }

    /**
     * Writes {@code count} leaves at consecutive indexes from {@code va}, from the level's template,
     * each with its own output address (a format whose run entries are replicated keeps only the
     * run's base of it).
     */
    private void writeLeaves(long table, int level, long va, long pa, int count, boolean contiguous, boolean fresh) {
        if (templateError[slot(level)] != null) throw new PageTableException(templateError[slot(level)]);
        Descriptor template = leafTemplate[slot(level)];
        if (fresh && leafWriter != null) {
            work.set(template);
            if (contiguous) format.setContiguous(work, true, level);
            leafWriter.writeFresh(table, index(va, level), work.lo(), pa, count, level);
            return;
        }
        Slot slot = slots[slot(level)].at(table, index(va, level));
        long span = geometry.entrySpan(level);
        for (int i = 0; i < count; i++) {
            work.set(template);
            // Run first, then address: a short-descriptor supersection holds addresses a section cannot.
            if (contiguous) format.setContiguous(work, true, level);
            format.setOutputAddress(work, pa, level);
            if (fresh) slot.writeFresh(work);
            else slot.write(work);
            slot.next();
            pa += span;
        }
    }

    /** Allocates a zeroed next-level table and points {@code slot} at it. */
    private long newTable(Slot slot, boolean fresh) {
        long table = frames.allocate(journal);
        format.encodeTable(work, table, TableAttributes.NONE);
        if (fresh) slot.writeFresh(work);
        else slot.write(work);
        return table;
    }

    // ---- unmap ----------------------------------------------------------------------------------

    /** Removes every mapping in {@code [va, va + size)}; holes are fine. Splits blocks it cuts. */
    public void unmap(long va, long size) {
        long last = checkRange("unmap", va, size);
        edit(() -> unmapLevel(root, geometry.startLevel(), va, last));
    }

    private void unmapLevel(long table, int level, long va, long last) {
        LevelSegments s = segments[slot(level)].over(table, va, last);
        while (s.next()) {
            boolean whole = s.whole();
            Descriptor d = s.read();
            switch (format.kind(d, level)) {
                case INVALID -> { }
                case RESERVED -> {
                    if (whole) s.slot().clear();
                }
                case BLOCK, PAGE -> {
                    if (format.contiguous(d, level)) breakRun(table, level, s.va());
                    if (whole) {
                        s.slot().clear();
                    } else {
                        unmapLevel(split(s.slot(), level, s.va()), level + 1, s.va(), s.last());
                    }
                }
                case TABLE -> {
                    long next = format.tableAddress(d);
                    if (whole) {
                        // The whole subtree goes: one undo record instead of one per entry below.
                        s.slot().clear();
                        freeSubtree(next, level + 1);
                        break;
                    }
                    unmapLevel(next, level + 1, s.va(), s.last());
                    if (isEmpty(next, level + 1)) {
                        s.slot().clear();
                        journal.freeOnCommit(next);
                    }
                }
            }
        }
    }

    // ---- protect --------------------------------------------------------------------------------

    /**
     * Gives every page of {@code [va, va + size)} new attributes; the whole range must be mapped.
     * Output addresses are kept. Splits blocks it cuts and breaks contiguous runs it cuts.
     */
    public void protect(long va, long size, Attributes attributes) {
        if (attributes == null) throw new PageTableException("protect needs attributes");
        long last = checkRange("protect", va, size);
        long hole = firstHole(va, last);
        if (hole != -1) {
            throw new PageTableException(String.format(
                    "cannot protect 0x%x-0x%x: 0x%x is not mapped; protect only mapped ranges", va, last, hole));
        }
        edit(() -> protectLevel(root, geometry.startLevel(), va, last, attributes));
    }

    private void protectLevel(long table, int level, long va, long last, Attributes attributes) {
        long span = geometry.entrySpan(level);
        int run = geometry.contiguousEntries(level);
        long runSpan = span * run;
        Slot slot = slots[slot(level)];
        LevelSegments s = segments[slot(level)].over(table, va, last);
        while (s.next()) {
            long at = s.va();
            Descriptor d = s.read();
            switch (format.kind(d, level)) {
                case BLOCK, PAGE -> {
                    boolean contiguous = format.contiguous(d, level);
                    if (contiguous && (at & (runSpan - 1)) == 0 && Long.compareUnsigned(last - at, runSpan - 1) >= 0) {
                        // The edit covers the whole run: rewrite it, contiguous still if the new
                        // attributes allow a run (a short-descriptor supersection has no domain).
                        format.encodeLeaf(work, format.translate(d, level, at), level, attributes, false);
                        boolean keep = format.contiguousAllowed(work, level);
                        int first = s.index();
                        for (int i = 0; i < run; i++) {
                            slot.at(table, first + i).read(d);
                            format.encodeLeaf(work, format.translate(d, level, at + i * span), level, attributes, keep);
                            slot.write(work);
                        }
                        s.take(run);
                    } else {
                        if (contiguous) breakRun(table, level, at);
                        if (s.whole()) {
                            s.read();
                            format.encodeLeaf(work, format.translate(d, level, at), level, attributes, false);
                            s.slot().write(work);
                        } else {
                            protectLevel(split(s.slot(), level, at), level + 1, at, s.last(), attributes);
                        }
                    }
                }
                case TABLE -> protectLevel(format.tableAddress(d), level + 1, at, s.last(), attributes);
                case INVALID, RESERVED -> throw new IllegalStateException(String.format(
                        "hole at 0x%x inside a range checked to be mapped", at));
            }
        }
    }

    // ---- collapse -------------------------------------------------------------------------------

    /**
     * Merges what can be merged inside {@code [va, va + size)}: a table whose entries map one
     * aligned, physically contiguous span with equal attributes becomes a block where the level
     * allows blocks, and aligned runs of such entries get the Contiguous bit. Mappings are unchanged;
     * only their descriptors (and freed tables) change.
     */
    public void collapse(long va, long size) {
        long last = checkRange("collapse", va, size);
        edit(() -> collapseLevel(root, geometry.startLevel(), va, last));
    }

    private void collapseLevel(long table, int level, long va, long last) {
        LevelSegments s = segments[slot(level)].over(table, va, last);
        while (s.next()) {
            long at = s.va();
            Descriptor d = s.read();
            if (format.kind(d, level) == DescriptorKind.TABLE) {
                long next = format.tableAddress(d);
                collapseLevel(next, level + 1, at, s.last());
                if (s.whole() && geometry.blockAllowed(level) && uniformTable(next, level + 1, at)
                        && blockLike(next, level, at)) {
                    s.slot().write(work);
                    freeSubtree(next, level + 1);
                }
            }
        }
        markRuns(table, level, va, last);
    }

    /**
     * Encodes into {@code work} the block at {@code level} that replaces the uniform table at
     * {@code table} mapping {@code va}, keeping its leaves' bits; false if the format cannot make
     * such a block from them, in which case the table stays.
     */
    private boolean blockLike(long table, int level, long va) {
        slots[slot(level + 1)].at(table, 0).read(other);
        try {
            format.encodeLeafLike(work, other, level + 1, format.translate(other, level + 1, va), level, false);
            return true;
        } catch (DescriptorEncodingException e) {
            return false;
        }
    }

    /** Whether the table at {@code level} maps its whole span as one aligned, contiguous, uniform range. */
    private boolean uniformTable(long table, int level, long va) {
        if (level != 3 && !geometry.blockAllowed(level)) return false;
        Slot slot = slots[slot(level)];
        Descriptor d = scratch[slot(level)];
        long span = geometry.entrySpan(level);
        int entries = geometry.entries(level);
        slot.at(table, 0).read(other);
        if (!format.kind(other, level).isLeaf()) return false;
        long base = format.translate(other, level, va);
        if ((base & (span * entries - 1)) != 0) return false;
        for (int i = 1; i < entries; i++) {
            slot.at(table, i).read(d);
            if (!format.kind(d, level).isLeaf() || !format.sameLeafAttributes(d, other, level)
                    || format.translate(d, level, va + i * span) != base + i * span) {
                return false;
            }
        }
        return true;
    }

    /** Sets the Contiguous bit on every aligned run of uniform leaves wholly inside {@code [va, last]}. */
    private void markRuns(long table, int level, long va, long last) {
        int run = geometry.contiguousEntries(level);
        if (run <= 1) return;
        long span = geometry.entrySpan(level);
        long runSpan = span * run;
        long start = (va + runSpan - 1) & -runSpan;
        if (Long.compareUnsigned(start, va) < 0) return;
        Slot slot = slots[slot(level)];
        Descriptor d = scratch[slot(level)];
        while (Long.compareUnsigned(start, last) <= 0 && Long.compareUnsigned(last - start, runSpan - 1) >= 0) {
            int index = index(start, level);
            slot.at(table, index).read(other);
            boolean uniform = format.kind(other, level).isLeaf() && !format.contiguous(other, level)
                    && format.contiguousAllowed(other, level)
                    && (format.translate(other, level, start) & (runSpan - 1)) == 0;
            long base = uniform ? format.translate(other, level, start) : 0;
            for (int i = 1; uniform && i < run; i++) {
                slot.at(table, index + i).read(d);
                uniform = format.kind(d, level).isLeaf() && format.sameLeafAttributes(d, other, level)
                        && format.translate(d, level, start + i * span) == base + i * span;
            }
            if (uniform) {
                for (int i = 0; i < run; i++) {
                    slot.at(table, index + i).read(d);
                    format.setContiguous(d, true, level);
                    slot.write(d);
                }
            }
            long nextStart = start + runSpan;
            if (nextStart == 0) break;
            start = nextStart;
        }
    }

    private void freeSubtree(long table, int level) {
        if (level < 3) {
            Slot slot = slots[slot(level)];
            Descriptor d = scratch[slot(level)];
            for (int i = 0; i < geometry.entries(level); i++) {
                slot.at(table, i).read(d);
                if (format.kind(d, level) == DescriptorKind.TABLE) freeSubtree(format.tableAddress(d), level + 1);
            }
        }
        journal.freeOnCommit(table);
    }

    // ---- shared edits ---------------------------------------------------------------------------

    /**
     * Replaces the leaf in {@code slot} (at {@code level}, mapping {@code va}) by a table of
     * next-level leaves mapping the same range with the same bits, contiguous where the geometry
     * has runs (a split block is aligned, so every run is whole). Returns the new table.
     */
    private long split(Slot slot, int level, long va) {
        Descriptor leaf = scratch[slot(level)];
        slot.read(leaf);
        long pa = format.translate(leaf, level, va & -geometry.entrySpan(level));
        int child = level + 1;
        long childSpan = geometry.entrySpan(child);
        format.encodeLeafLike(work, leaf, level, pa, child, false);
        boolean contiguous = geometry.contiguousEntries(child) > 1 && format.contiguousAllowed(work, child);
        long table = frames.allocate(journal);
        Slot childSlot = slots[slot(child)].at(table, 0);
        for (int i = 0; i < geometry.entries(child); i++) {
            format.encodeLeafLike(work, leaf, level, pa + i * childSpan, child, contiguous);
            childSlot.writeFresh(work);
            childSlot.next();
        }
        format.encodeTable(work, table, TableAttributes.NONE);
        slot.write(work);
        return table;
    }

    /**
     * Clears the Contiguous bit on every entry of the run holding {@code va} at {@code level}: an
     * edit is about to make the run's entries differ, and the architecture requires the entries of
     * a contiguous run to agree.
     */
    private void breakRun(long table, int level, long va) {
        int run = geometry.contiguousEntries(level);
        if (run <= 1) return;
        long span = geometry.entrySpan(level);
        long runSpan = span * run;
        long runStart = va & -runSpan;
        int first = index(runStart, level);
        for (int i = 0; i < run; i++) {
            runSlot.at(table, first + i).read(other);
            if (format.kind(other, level).isLeaf() && format.contiguous(other, level)) {
                // A replicated entry carries the run's base: give it back its own address.
                long pa = format.translate(other, level, runStart + i * span);
                format.setContiguous(other, false, level);
                format.setOutputAddress(other, pa, level);
                runSlot.write(other);
            }
        }
    }

    private boolean isEmpty(long table, int level) {
        Slot slot = slots[slot(level)];
        Descriptor d = scratch[slot(level)];
        for (int i = 0; i < geometry.entries(level); i++) {
            if (!format.kind(slot.at(table, i).read(d), level).equals(DescriptorKind.INVALID)) return false;
        }
        return true;
    }

    private void edit(Runnable body) {
        try {
            body.run();
            journal.commit(frames);
        } catch (RuntimeException e) {
            try {
                journal.rollback(memory, frames);
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            if (e instanceof PageTableException) throw e;
            if (e instanceof DescriptorEncodingException encoding) {
                throw new PageTableException(encoding.getMessage() + "; the edit was undone and the tables are unchanged",
                        encoding);
            }
            if (e instanceof MemoryAccessException m) {
                throw new PageTableException("table memory access failed (" + m.getMessage()
                        + "); the edit was undone and the tables are unchanged", m);
            }
            throw e;
        }
    }

    // ---- validation -----------------------------------------------------------------------------

    /** Checks a VA range and returns its last address (inclusive). */
    private long checkRange(String op, long va, long size) {
        long page = geometry.pageSize();
        if (size == 0) throw new PageTableException(op + ": size must not be zero");
        if ((va & (page - 1)) != 0 || (size & (page - 1)) != 0) {
            throw new PageTableException(String.format("%s 0x%x size 0x%x: address and size must be multiples of the "
                    + "%s page size", op, va, size, geometry.granule().label()));
        }
        long first = walker.firstVa();
        long lastVa = walker.lastVa();
        if (Long.compareUnsigned(va, first) < 0 || Long.compareUnsigned(va, lastVa) > 0
                || Long.compareUnsigned(size - 1, lastVa - va) > 0) {
            throw new PageTableException(String.format("%s 0x%x size 0x%x: outside the %s VA range 0x%x-0x%x of a "
                    + "%d-bit VA space", op, va, size, range == VaRange.LOWER ? "TTBR0" : "TTBR1", first, lastVa,
                    geometry.vaBits()));
        }
        return va + size - 1;
    }

    private void checkOutput(long va, long pa, long size) {
        if ((pa & (geometry.pageSize() - 1)) != 0) {
            throw new PageTableException(String.format("map 0x%x: PA 0x%x is not aligned to the %s page size", va, pa,
                    geometry.granule().label()));
        }
        long paMask = geometry.paMask();
        if (Long.compareUnsigned(pa, paMask) > 0 || Long.compareUnsigned(size - 1, paMask - pa) > 0) {
            throw new PageTableException(String.format("map 0x%x: PA range 0x%x size 0x%x exceeds the %d-bit PA size",
                    va, pa, size, geometry.paBits()));
        }
    }

    private Mapping firstMapping(long va, long last) {
        Mapping[] found = new Mapping[1];
        walker.walk(va, last, (leafVa, level, d) -> {
            found[0] = walker.toMapping(leafVa, level, d);
            return false;
        });
        return found[0];
    }

    /** First unmapped address in {@code [va, last]}, or -1 if there is none (a hole is page-aligned, never -1). */
    private long firstHole(long va, long last) {
        long[] expected = {va};
        boolean[] done = {false};
        walker.walk(va, last, (leafVa, level, d) -> {
            if (Long.compareUnsigned(leafVa, expected[0]) > 0) return false;
            long leafLast = leafVa + geometry.entrySpan(level) - 1;
            if (Long.compareUnsigned(leafLast, last) >= 0) {
                done[0] = true;
                return false;
            }
            expected[0] = leafLast + 1;
            return true;
        });
        return done[0] ? -1 : expected[0];
    }

    private String describe(Mapping m) {
        return m.isBlock() ? "level " + m.level() + " block" : "page";
    }
}
