package dev.granule.mmu.oracle;

import dev.granule.format.AccessPermission;
import dev.granule.format.Attributes;
import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.DescriptorKind;
import dev.granule.format.Shareability;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Registers;
import dev.granule.mmu.TranslationRegime;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.PageTableException;
import dev.granule.table.VaRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Random translation regimes with random tables in guest RAM, and random probes into them.
 *
 * <p>Tables are built with the engine (pages, blocks, contiguous runs, random attributes), then
 * damaged the way hostile or buggy software leaves them: entries cleared, table entries turned into
 * blocks and back, APTable/XNTable bits set, Access flags cleared, output and table addresses moved
 * to other tables (aliases and loops) or above the regime's PA size. Every table address stays in
 * guest RAM, so a walk never reads outside it: both sides see the same bytes, zero where nothing
 * was written.
 *
 * <p>Probes mostly land in or near mappings, and otherwise anywhere: the other half, beyond the VA
 * range, with a tag in the top byte.
 */
public final class OracleCaseGenerator {

    /** Memory types MAIR may hold with defined behaviour (Arm ARM D19, MAIR_ELx.Attr). */
    static final int[] MAIR_ATTRS = {0x00, 0x04, 0x08, 0x0C, 0x44, 0xFF, 0xBB, 0x4F, 0xF4, 0xAA, 0xEE, 0x77, 0x99};

    private final Random random;
    private final CpuFeatures cpu;
    private final SparseMemory memory;
    private long next = QemuAt.TABLES_BASE;
    /** MAIR_EL1 of the case being built. */
    private long mair;

    public OracleCaseGenerator(long seed, CpuFeatures cpu, SparseMemory memory) {
        this.random = new Random(seed);
        this.cpu = cpu;
        this.memory = memory;
    }

    /** First byte above every table written so far. */
    public long tablesEnd() { return next; }

    /** {@code bytes} of zeroed guest RAM above the tables, aligned to {@code align} (a power of two). */
    public long allocate(long bytes, long align) {
        long at = (next + align - 1) & -align;
        next = at + bytes;
        return at;
    }

    /** Probes per case and cases per QEMU run (one boot) of the AT oracles that ask these cases. */
    static final int PROBES_PER_CASE = 400, CASES_PER_BATCH = 120;
    /** A case's table pool is 64 MiB; a batch stops while one more still fits in the guest's RAM. */
    static final long BATCH_TABLES_LIMIT = QemuAt.RAM_BASE + QemuAt.RAM_SIZE - (80L << 20);

    /**
     * One QEMU run's cases, each handed to {@code take} as it is made: while {@code wanted} holds
     * (asked again after each, so it can count what {@code take} saw), at most {@link #CASES_PER_BATCH},
     * and while the tables stay below {@link #BATCH_TABLES_LIMIT}.
     */
    void batch(BooleanSupplier wanted, Consumer<OracleCase> take) {
        for (int n = 0; n < CASES_PER_BATCH && wanted.getAsBoolean() && tablesEnd() < BATCH_TABLES_LIMIT; n++) {
            take.accept(next(PROBES_PER_CASE));
        }
    }

    /** The generator's random source, for a generator that builds on its cases. */
    Random random() { return random; }

    public OracleCase next(int probes) {
        Granule g0 = granule(), g1 = random.nextInt(4) == 0 ? granule() : g0;
        boolean ds = random.nextInt(3) == 0;
        int ips = pick(5, 5, 6, 6, 6, 0, 1, 2, 3, 4, 7); // 0b111 is reserved without FEAT_D128
        long tcr = txsz(g0, ds) | (long) g0.tg0() << 14 | (long) txsz(g1, ds) << 16 | (long) g1.tg1() << 30
                | (long) ips << 32 | (ds ? 1L << 59 : 0)
                | (long) sh(ds) << 12 | (long) sh(ds) << 28
                | bit(37, 2) | bit(38, 2) | bit(41, 4) | bit(42, 4) | bit(22, 2) | bit(36, 2)
                | bit(7, 20) | bit(23, 20);
        mair = 0;
        for (int i = 0; i < 8; i++) mair |= (long) MAIR_ATTRS[random.nextInt(MAIR_ATTRS.length)] << (8 * i);
        // M, C, I; WXN at random. HA/HD stay 0: whether AT updates the Access flag is not compared.
        long sctlr = 1 | 1 << 2 | 1 << 12 | bit(19, 3);
        long asid = random.nextLong() & 0xFFFFL;
        Registers draft = new Registers(tcr, 0, 0, mair, sctlr, false);
        TranslationRegime regime = new TranslationRegime(draft, cpu);

        List<long[]> mappings = new ArrayList<>();
        long root0 = build(regime.lower(), VaRange.LOWER, regime.paBits(), mappings);
        long root1 = build(regime.upper(), VaRange.UPPER, regime.paBits(), mappings);
        long ttbr0 = ttbr(root0, regime.lower().geometry(), regime.paBits()) | (asid << 48);
        long ttbr1 = ttbr(root1, regime.upper().geometry(), regime.paBits()) | ((asid ^ 1) << 48);
        Registers registers = new Registers(tcr, ttbr0, ttbr1, mair, sctlr, false);
        TranslationRegime actual = new TranslationRegime(registers, cpu);

        List<OracleCase.Probe> list = new ArrayList<>(probes);
        for (int i = 0; i < probes; i++) {
            list.add(new OracleCase.Probe(va(actual, mappings), AtOp.STAGE1.get(random.nextInt(AtOp.STAGE1.size()))));
        }
        String summary = String.format("TCR=0x%x TTBR0=0x%x TTBR1=0x%x MAIR=0x%x SCTLR=0x%x (%s/%d-bit + %s/%d-bit, PA %d)",
                tcr, ttbr0, ttbr1, mair, sctlr, actual.lower().geometry().granule(), actual.lower().geometry().vaBits(),
                actual.upper().geometry().granule(), actual.upper().geometry().vaBits(), actual.paBits());
        return new OracleCase(registers, actual.lower().geometry().granule(), actual.upper().geometry().granule(),
                list, summary);
    }

    /**
     * TCR.SHn: all four encodings, but with DS = 1 (where SHn is the leaves' shareability) not the
     * reserved 0b01, which QEMU reports as read (see {@link #keepComparable}).
     */
    private int sh(boolean ds) {
        return ds ? pick(0, 2, 3) : random.nextInt(4);
    }

    private Granule granule() {
        Granule g = Granule.values()[random.nextInt(3)];
        return cpu.supports(g) ? g : Granule.FOUR_K;
    }

    /** TxSZ: the usual Linux values and anything else the CPU takes (QEMU clamps the rest). */
    private int txsz(Granule g, boolean ds) {
        boolean wide = g == Granule.SIXTY_FOUR_K ? cpu.supportsLva() : ds && cpu.supportsLpa2(g);
        int min = wide ? 12 : 16;
        int max = !cpu.supportsTtst() ? 39 : g == Granule.SIXTY_FOUR_K ? 47 : 48;
        return switch (random.nextInt(5)) {
            case 0 -> min;
            case 1 -> 16;
            case 2 -> 25;
            case 3 -> max - random.nextInt(3);
            default -> min + random.nextInt(max - min + 1);
        };
    }

    /** TTBR BADDR for a root table; sometimes above the PA size (an address size fault at the start). */
    private long ttbr(long root, Geometry g, int paBits) {
        boolean wideBaddr = g.lpa2() || (g.granule() == Granule.SIXTY_FOUR_K && paBits == 52);
        long baddr = root;
        if (random.nextInt(40) == 0 && paBits < 48) baddr |= 1L << (paBits + random.nextInt(48 - paBits));
        if (wideBaddr) return (baddr & 0x0000_FFFF_FFFF_FFC0L) | ((baddr >>> 48 & 0xF) << 2);
        return baddr & 0x0000_FFFF_FFFF_FFFEL;
    }

    /** Builds one half's tables in a fresh pool and records its mappings as {va, size}. */
    private long build(TranslationRegime.Half half, VaRange range, int regimePa, List<long[]> mappings) {
        Geometry g = half.geometry();
        DescriptorFormat f = half.format();
        long frame = g.fullTableBytes();
        long base = (next + 0xFFFF) & ~0xFFFFL;
        long pool = 64L << 20;
        FrameAllocator frames = FrameAllocator.over(memory, frame, new MemoryRange(base, pool));
        AddressSpace space = AddressSpace.create(f, memory, frames, range);
        long first = range.first(g), last = range.last(g);
        int spanLevel = Math.max(g.startLevel(), 1);
        long cluster = g.entrySpan(spanLevel) * 4;
        long[] clusters = new long[3];
        for (int i = 0; i < clusters.length; i++) clusters[i] = first + (uniform(last - first) & -cluster);
        int count = 4 + random.nextInt(24);
        int paTop = Math.min(g.paBits(), regimePa + (random.nextInt(8) == 0 ? 2 : 0));
        // A 64K output address above 48 bits lives in bits [15:12], which QEMU ignores below a
        // 52-bit PA size (see keepComparable): beyond the PA size only through bits [47:regimePa].
        if (g.granule() == Granule.SIXTY_FOUR_K && regimePa < 52) paTop = Math.min(paTop, Math.max(regimePa, 48));
        for (int i = 0; i < count; i++) {
            int level = 3 - random.nextInt(4);
            if (!g.isLevel(level) || (level < 3 && !g.blockAllowed(level))) level = 3;
            long span = g.entrySpan(level);
            int runs = random.nextInt(3) == 0 ? g.contiguousEntries(level) : 1 + random.nextInt(3);
            long size = span * runs;
            long va = clusters[random.nextInt(clusters.length)] + (uniform(cluster) & -span);
            if (Long.compareUnsigned(va + size - 1, last) > 0 || Long.compareUnsigned(va + size - 1, va) < 0) continue;
            long pa = uniform(1L << paTop) & -(size >= span * g.contiguousEntries(level) ? size : span);
            if (pa + size > 1L << paTop) continue;
            try {
                space.map(va, pa, size, attributes(g));
                mappings.add(new long[]{va, size});
            } catch (PageTableException | IllegalArgumentException refused) {
                // overlaps an earlier mapping, or the engine refuses this combination: skip it
            }
        }
        damage(half, space.root(), base, frames.stats().allocations() * frame, regimePa);
        keepWalksOffDevices(half, base, frames.stats().allocations() * frame, regimePa);
        next = base + frames.stats().allocations() * frame;
        return space.root();
    }

    private Attributes attributes(Geometry g) {
        return new Attributes(random.nextInt(8), AccessPermission.values()[random.nextInt(4)],
                g.lpa2() ? Shareability.INNER_SHAREABLE : Shareability.values()[random.nextInt(3)],
                random.nextInt(10) != 0, random.nextBoolean(), false, random.nextInt(4) == 0,
                random.nextBoolean(), random.nextBoolean(), false, random.nextInt(16));
    }

    /** Rewrites a few descriptors found by walking from the root. */
    private void damage(TranslationRegime.Half half, long root, long poolBase, long poolUsed, int regimePa) {
        Geometry g = half.geometry();
        DescriptorFormat f = half.format();
        List<long[]> slots = new ArrayList<>(); // {address, level}
        collect(f, g, root, g.startLevel(), slots, 0);
        int edits = slots.isEmpty() ? 0 : random.nextInt(Math.min(12, slots.size()) + 1);
        Descriptor d = new Descriptor();
        for (int i = 0; i < edits; i++) {
            long[] s = slots.get(random.nextInt(slots.size()));
            long address = s[0];
            int level = (int) s[1];
            long w = memory.readLong(address);
            d.set(w, 0);
            DescriptorKind kind = f.kind(d, level);
            switch (random.nextInt(8)) {
                case 0 -> w = 0;
                case 1 -> w ^= 2; // table <-> block (or page <-> reserved at level 3)
                case 2 -> w |= (random.nextLong() & 0xFL) << 59; // APTable, UXNTable, PXNTable / PBHA
                case 3 -> w &= ~(1L << 10); // AF
                case 4 -> w ^= (long) (random.nextInt(4)) << 6 | (long) random.nextInt(4) << 53; // AP, PXN/UXN
                case 5 -> { // point at another table: aliases and loops
                    long target = poolBase + (uniform(Math.max(poolUsed, 1)) & -g.fullTableBytes());
                    w = retarget(f, d, level, kind, target);
                }
                case 6 -> { // above the regime's PA size
                    if (regimePa < g.paBits() && kind != DescriptorKind.INVALID) {
                        long oa = kind == DescriptorKind.TABLE ? f.tableAddress(d) : f.outputAddress(d, level);
                        w = retarget(f, d, level, kind, oa | 1L << (regimePa + random.nextInt(g.paBits() - regimePa)));
                    }
                }
                default -> w ^= 1L << random.nextInt(64);
            }
            w = keepComparable(f, g, level, w, regimePa, poolBase, poolUsed);
            memory.writeLong(address, w);
        }
    }

    /**
     * Leaves out of a damaged descriptor what the two sides may rightly answer differently, each
     * covered elsewhere against the Arm ARM:
     * <ul>
     * <li>a table address outside guest RAM but inside the PA size: QEMU's virt board has flash,
     *     devices and PCIe windows there, which read as something else than our unbacked memory
     *     (unassigned space between RAM and 256 GiB stays: both sides take an external abort).
     * </ul>
     * and the places where QEMU 10 departs from the Arm ARM ({@code ArchitectureNotQemuTest} checks
     * the architecture's answer for each, the README lists them):
     * <ul>
     * <li>TCR.DS = 1 below a 52-bit PA size, bits [9:8]: AArch64.LeafBase and NextTableBase take them
     *     as OA[51:50] and AArch64.OAOutOfRange then faults; QEMU reads them only under a 52-bit PS;
     * <li>64K granule below a 52-bit PA size, bits [15:12]: OA[51:48] when AArch64.PAMax() is 52
     *     (as on {@code -cpu max}); QEMU reads them only under a 52-bit PS;
     * <li>SH = 0b01 in a leaf of Normal cacheable memory: DecodeShareability picks an allowed value
     *     (CONSTRAINED UNPREDICTABLE) and PAREncodeShareability encodes it, so PAR.SH is never 0b01;
     *     QEMU reports the field as read. (For Device and Non-cacheable memory both say 0b10: kept.)
     * </ul>
     * Blocks at levels without blocks and the 64K level-1 block under a smaller IPS stay in.
     */
    private long keepComparable(DescriptorFormat f, Geometry g, int level, long w, int regimePa, long poolBase,
                                long poolUsed) {
        if (g.lpa2() && regimePa < 52) w &= ~0x300L;
        if (g.granule() == Granule.SIXTY_FOUR_K && regimePa < 52) w &= ~0xF000L;
        if (!g.lpa2() && (w >>> 8 & 3) == 1 && !forcedOuterShareable((int) (mair >>> (8 * (w >>> 2 & 7))) & 0xFF)) {
            w |= 0x300L;
        }
        Descriptor d = new Descriptor(w, 0);
        if (level < 3 && f.kind(d, level) == DescriptorKind.TABLE) {
            long table = f.tableAddress(d);
            boolean inPa = regimePa >= 64 || table >>> regimePa == 0;
            boolean device = table < QemuAt.RAM_BASE || table >= 1L << 38;
            if (inPa && device) {
                w = retarget(f, d, level, DescriptorKind.TABLE,
                        poolBase + (uniform(Math.max(poolUsed, 1)) & -g.fullTableBytes()));
            }
        }
        return w;
    }

    /**
     * The device rule of {@link #keepComparable} for every word of the pool, whatever level it was
     * written at: damaged pointers make tables aliases of one another, so a page descriptor (0b11)
     * may be read as a table descriptor one level up.
     */
    private void keepWalksOffDevices(TranslationRegime.Half half, long poolBase, long poolUsed, int regimePa) {
        DescriptorFormat f = half.format();
        Descriptor d = new Descriptor();
        for (long address = poolBase; address < poolBase + poolUsed; address += 8) {
            long w = memory.readLong(address);
            if ((w & 3) != 3) continue;
            d.set(w, 0);
            long table = f.tableAddress(d);
            boolean inPa = regimePa >= 64 || table >>> regimePa == 0;
            if (inPa && (table < QemuAt.RAM_BASE || table >= 1L << 38)) {
                memory.writeLong(address, retarget(f, d, 0, DescriptorKind.TABLE,
                        poolBase + (uniform(Math.max(poolUsed, 1)) & -half.geometry().fullTableBytes())));
            }
        }
    }

    /** Device, or Normal Inner and Outer Non-cacheable: PAR.SH is 0b10 whatever SH holds. */
    private static boolean forcedOuterShareable(int attr) {
        return (attr & 0xF0) == 0 || attr == 0x44 || attr == 0x40;
    }

    private static long retarget(DescriptorFormat f, Descriptor d, int level, DescriptorKind kind, long target) {
        try {
            switch (kind) {
                case TABLE -> f.encodeTable(d, target, f.tableAttributes(d));
                case BLOCK, PAGE -> f.setOutputAddress(d, target & -f.geometry().entrySpan(level), level);
                default -> { return d.lo(); }
            }
        } catch (RuntimeException refused) {
            return d.lo();
        }
        return d.lo();
    }

    private void collect(DescriptorFormat f, Geometry g, long table, int level, List<long[]> slots, int depth) {
        Descriptor d = new Descriptor();
        int entries = level == g.startLevel() ? g.entries(level) : g.ptrsPerTable();
        for (int i = 0; i < entries; i++) {
            long address = table + ((long) i << 3);
            long w = memory.readLong(address);
            if (w == 0 && random.nextInt(64) != 0) continue;
            slots.add(new long[]{address, level});
            d.set(w, 0);
            if (level < 3 && f.kind(d, level) == DescriptorKind.TABLE && depth < 4) {
                collect(f, g, f.tableAddress(d), level + 1, slots, depth + 1);
            }
        }
    }

    private long va(TranslationRegime regime, List<long[]> mappings) {
        long va;
        int kind = random.nextInt(20);
        if (kind < 12 && !mappings.isEmpty()) {
            long[] m = mappings.get(random.nextInt(mappings.size()));
            va = m[0] + uniform(m[1]);
        } else if (kind < 15 && !mappings.isEmpty()) {
            long[] m = mappings.get(random.nextInt(mappings.size()));
            va = m[0] + (random.nextLong() % (m[1] * 8));
        } else if (kind < 18) {
            TranslationRegime.Half half = random.nextBoolean() ? regime.lower() : regime.upper();
            VaRange range = half == regime.lower() ? VaRange.LOWER : VaRange.UPPER;
            long first = range.first(half.geometry());
            va = first + uniform(range.last(half.geometry()) - first);
        } else {
            va = random.nextLong();
        }
        if (random.nextInt(10) == 0) va = (va & 0x00FF_FFFF_FFFF_FFFFL) | (long) random.nextInt(256) << 56;
        return va;
    }

    /** Uniform in [0, bound] (bound treated as unsigned, any value). */
    private long uniform(long bound) {
        if (bound == -1L) return random.nextLong();
        return Long.remainderUnsigned(random.nextLong(), bound + 1);
    }

    private int pick(int... values) { return values[random.nextInt(values.length)]; }

    private long bit(int position, int oneIn) { return random.nextInt(oneIn) == 0 ? 1L << position : 0; }
}
