package dev.granule.mmu.oracle;

import dev.granule.format.PermissionIndirection;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.PermissionRegisters;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Stage2Regime;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Cases for the hardware-update oracle ({@code hafdbs-probe.S}): real loads, stores and fetches
 * at EL1 and EL0 through random stage-1 tables with TCR_EL1.HA/HD on or off, optionally over a
 * random stage 2 with VTCR_EL2.HA/HD. Every access lands in a scratch region of guest RAM, so a
 * store never touches the probe, its job or the tables: leaves map pages of the scratch region, or
 * blocks around it with the access's offset chosen inside it.
 *
 * <p>The leaves' AF, AP[2:1], DBM, UXN/PXN and nG are random, their tables' APTable/XNTable
 * sometimes set. Under stage 2, the stage-1 tables made for the random leaves sit at IPAs of their
 * own (a window above RAM) that stage 2 maps one by one with random AF, S2AP and DBM, so that the
 * stage-1 walk's reads (S1PTW) and the stage-1 write-backs meet stage-2 access-flag updates,
 * stage-2 dirty-state updates and stage-2 faults; the scratch IPAs the accesses reach get random
 * stage-2 leaves (AF, S2AP, DBM, XN), a few none. The probe's own code, its root and the tables
 * on the way to the code are mapped so that nothing on their path changes (AF = 1, read-only code
 * at VA = IPA = PA {@link #CODE}, stage 2 read-write).
 *
 * <p>One combination is kept out: an EL1 fetch from a DBM page with AP = 0b11. A store there clears
 * AP[2], which makes the page EL0-writable and therefore not executable at EL1; a TLB entry from
 * before the update may still be used (QEMU keeps one per EL, the model one for both), so the
 * answer depends on what each TLB holds, not on the update.
 *
 * <p>With {@code indirection} ({@link QemuHafdbsPieOracleTest}) every case has TCR2_EL1.PIE with
 * random PIR_EL1/PIRE0_EL1 (Linux's PIE_E1/PIE_E0 in a third of the cases), and every stage 2
 * VTCR_EL2.S2PIE with a random S2PIR_EL2: the same leaf bits are then PIIndex (UXN:PXN:DBM:AP[1]
 * and XN[1:0]:DBM:S2AP[0]) and the dirty state (bit 7: nDirty at stage 1, Dirty at stage 2). The
 * probe's code gets a PIIndex of its own that both PIR and PIRE0 make read-and-execute, and the
 * identity stage 2 one that S2PIR makes read-write-execute (its Dirty bit set), so that the probe
 * always runs; everything else is as random as without. The fetch kept out above is asked: under
 * PIE a dirty-state update changes write rights only, not execute.
 *
 * <p>Tables are written by hand here, not by the engine, and every word written is remembered: the
 * probe prints them all after the accesses, the test compares them with the model's memory.
 */
final class HafdbsCaseGenerator {

    /** The probe's code: one level-2 block at VA = IPA = PA 0x4000_0000 (QEMU virt's RAM base). */
    static final long CODE = QemuAt.RAM_BASE;
    /** Where accesses land (the probe fills it with "hvc #0" for fetches). */
    static final long SCRATCH = 0x7000_0000L, SCRATCH_BYTES = 16L << 20;
    /** Stage 2 maps [RAM_BASE, IDENTITY_END) to itself: code, job, tables. */
    static final long IDENTITY_END = 0x5000_0000L;
    /** IPAs of the stage-1 tables of random leaves under stage 2, one 64 KiB slot each. */
    static final long WINDOW = 0x10_0000_0000L;
    static final long AF = 1L << 10, DBM = 1L << 51, SH_INNER = 3L << 8;
    static final long MAIR = 0xFF;                       // attribute 0: Normal Write-Back
    static final long SCTLR = 0x30D0_0800L | 1 | 1 << 2 | 1 << 12; // RES1, M, C, I
    static final long HCR_VM = 1;

    /**
     * One real access: op as the probe numbers them (0-2 load/store/fetch at EL1, 3-5 at EL0); the
     * stage-1 leaf it goes through, by PA and by IPA (the same without stage 2), and the IPA it reaches
     * (-1 for an access to a VA the generator mapped nothing at).
     */
    record Probe(long va, int op, long leafPa, long leafIpa, long ipa) {
        Access access() { return switch (op % 3) { case 0 -> Access.READ; case 1 -> Access.WRITE; default -> Access.EXECUTE; }; }

        int el() { return op >= 3 ? 0 : 1; }

        String name() { return (op % 3 == 0 ? "load" : op % 3 == 1 ? "store" : "fetch") + " EL" + el(); }
    }

    /**
     * A case: stage-1 registers, PSTATE.PAN for EL1, TCR2_EL1/PIR_EL1/PIRE0_EL1 ({@code NONE} without
     * indirection), stage 2 (hcr without VM: none) with S2PIR_EL2 (0 without S2PIE), the accesses.
     */
    record Case(Registers registers, PermissionRegisters indirection, long hcr, long vtcr, long vttbr, long s2pir,
                List<Probe> probes, Granule stage1, Granule stage2, String summary) {}

    /** TCR2_EL1.PIE; VTCR_EL2.S2PIE. */
    static final long TCR2_PIE = 1L << 1, VTCR_S2PIE = 1L << 36;
    /** PIR/PIRE0 read-and-execute (stage 1); S2PIR read, write, and execute at EL1 and EL0 (stage 2). */
    static final int PI_RX = 0b1010, S2PI_RWX = 0b1111;

    private final Random random;
    private final CpuFeatures cpu;
    private final SparseMemory memory;
    private final boolean indirection;
    private long next = QemuAt.TABLES_BASE;
    /** Every descriptor word written, in order, with what it is (for the histogram). */
    private final Map<Long, String> words = new LinkedHashMap<>();

    HafdbsCaseGenerator(long seed, CpuFeatures cpu, SparseMemory memory) {
        this(seed, cpu, memory, false);
    }

    /** With {@code indirection}: stage-1 PIE and stage-2 S2PIE in every case (see the class comment). */
    HafdbsCaseGenerator(long seed, CpuFeatures cpu, SparseMemory memory, boolean indirection) {
        this.random = new Random(seed);
        this.cpu = cpu;
        this.memory = memory;
        this.indirection = indirection;
    }

    /** The leaf bits that make PIIndex {@code index} at either stage: [54:53] (UXN:PXN, XN), [51] (DBM), [6]. */
    static long piIndexBits(int index) {
        return (long) (index >>> 2 & 3) << 53 | (long) (index >>> 1 & 1) << 51 | (long) (index & 1) << 6;
    }

    private static long withField(long register, int index, int value) {
        return register & ~(0xFL << 4 * index) | (long) value << 4 * index;
    }

    long tablesEnd() { return next; }

    /** Whether every case is under stage-1 PIE (and S2PIE over stage 2). */
    boolean indirection() { return indirection; }

    Map<Long, String> words() { return words; }

    private long allocate(long bytes, long align) {
        next = (next + align - 1) & -align;
        long at = next;
        next += bytes;
        return at;
    }

    /** {@code el0Writable}: DBM with AP = 0b11, which a store makes EL0-writable and so not EL1-executable. */
    private record Leaf(long va, long span, long oa, boolean el0Writable, long slotPa, long slotIpa) {}

    /** The state of one case's construction: stage-1 tables by IPA, and their PAs. */
    private final class Build {
        final Geometry g;
        final boolean twoStage;
        final long s2Page;
        final Map<Long, Long> tablePa = new HashMap<>();
        final List<Long> windowTables = new ArrayList<>();
        long windowNext = WINDOW;

        Build(Geometry g, boolean twoStage, long s2Page) {
            this.g = g;
            this.twoStage = twoStage;
            this.s2Page = s2Page;
        }

        /** A new stage-1 table; its IPA (in the window for random leaves under stage 2). */
        long newTable(boolean window) {
            long bytes = g.fullTableBytes();
            if (window && twoStage) {
                long slot = Math.max(bytes, s2Page);
                long pa = allocate(slot, slot);
                long ipa = windowNext;
                windowNext += 1L << 16;
                tablePa.put(ipa, pa);
                windowTables.add(ipa);
                return ipa;
            }
            long pa = allocate(bytes, bytes);
            tablePa.put(pa, pa);
            return pa;
        }

        /** Writes a stage-1 leaf; its slot's {PA, IPA}, or null where something else is already on the way. */
        long[] map(long root, long va, int level, long descriptor, boolean random) {
            long table = root;
            for (int l = g.startLevel(); ; l++) {
                long slot = tablePa.get(table) + g.index(va, l) * 8L;
                long w = memory.readLong(slot);
                if (l == level) {
                    if (w != 0) return null;
                    write(slot, descriptor, "stage-1 " + (level == 3 ? "page" : "block"));
                    return new long[]{slot, table + g.index(va, l) * 8L};
                }
                if (w == 0) {
                    long t = newTable(random);
                    long attrs = random && HafdbsCaseGenerator.this.random.nextInt(6) == 0
                            ? (long) HafdbsCaseGenerator.this.random.nextInt(8) << 59 : 0; // APTable, UXN/PXNTable
                    w = t | attrs | 3;
                    write(slot, w, "stage-1 table");
                }
                if ((w & 3) != 3) return null;
                table = w & 0x0000_FFFF_FFFF_F000L;
            }
        }
    }

    private void write(long pa, long value, String kind) {
        memory.writeLong(pa, value);
        words.put(pa, kind);
    }

    Case next(Granule g1, Granule g2, int accesses) {
        int vaBits = pick(48, 48, 44, 42, 40, 39, 36);
        Geometry g = Geometry.of(g1, vaBits, 48);
        boolean ha = random.nextInt(5) != 0, hd = random.nextInt(10) < 7;
        long tcr = (64 - vaBits) | 1L << 8 | 1L << 10 | 3L << 12 | (long) g1.tg0() << 14 | 16L << 16 | 1L << 23
                | 5L << 32 | (ha ? 1L << 39 : 0) | (hd ? 1L << 40 : 0);
        boolean pan = random.nextInt(4) == 0;
        PermissionRegisters pie = PermissionRegisters.NONE;
        long codeIndexBits = 0, s2pir = 0, identityIndexBits = 0;
        if (indirection) {
            boolean linux = random.nextInt(3) == 0;
            long pir = linux ? PermissionIndirection.LINUX.pir() : random.nextLong();
            long pire0 = linux ? PermissionIndirection.LINUX.pire0() : random.nextLong();
            // The code's index: under Linux's values one that grants nothing at either EL (its pages are
            // not disturbed), else any; both registers make it read-and-execute.
            List<Integer> free = new ArrayList<>();
            for (int i = 0; i < 16; i++) if ((pir >>> 4 * i & 0xF) == 0 && (pire0 >>> 4 * i & 0xF) == 0) free.add(i);
            int codeIndex = linux && !free.isEmpty() ? free.get(random.nextInt(free.size())) : random.nextInt(16);
            pie = new PermissionRegisters(TCR2_PIE, withField(pir, codeIndex, PI_RX), withField(pire0, codeIndex, PI_RX), 0, 0);
            codeIndexBits = piIndexBits(codeIndex);
            if (g2 != null) {
                int identityIndex = random.nextInt(16);
                s2pir = withField(random.nextInt(4) == 0 ? QemuPieOracleTest.SANE_S2PIR : random.nextLong(), identityIndex, S2PI_RWX);
                identityIndexBits = piIndexBits(identityIndex);
            }
        }

        // Stage 2 first in outline: its page size decides how stage-1 tables are laid out.
        long vtcr = 0, hcr = QemuAt.HCR_RW;
        Stage2Regime s2 = null;
        if (g2 != null) {
            boolean s2ha = random.nextInt(5) != 0, s2hd = random.nextInt(10) < 7;
            int ipaBits = 40;
            for (int sl0 : shuffled(4)) {
                long v = TwoStageCaseGenerator.VTCR_RES1 | (64 - ipaBits) | (long) sl0 << 6 | 1L << 8 | 1L << 10 | 3L << 12
                        | (long) g2.tg0() << 14 | 5L << 16 | (s2ha ? 1L << 21 : 0) | (s2hd ? 1L << 22 : 0)
                        | (indirection ? VTCR_S2PIE : 0);
                Stage2Regime r = new Stage2Regime(HCR_VM, v, 0, s2pir, 0, cpu);
                if (r.invalidReason() == null && r.rootEntries() * 8 <= 1 << 16) {
                    vtcr = v;
                    s2 = r;
                    break;
                }
            }
            if (s2 == null) throw new IllegalStateException("no start level for " + g2 + " at 40 bits");
            hcr |= HCR_VM;
        }
        Build b = new Build(g, s2 != null, s2 == null ? 0 : s2.geometry().pageSize());

        long root = b.newTable(false);
        // The code: read-only at EL1 and EL0, executable at both, AF = 1 (nothing to update); under PIE
        // its own index (bit 7, nDirty, stays 1: nothing writes there).
        long codeAttrs = indirection ? codeIndexBits | 1L << 7 : 3L << 6;
        b.map(root, CODE, 2, CODE | AF | SH_INNER | codeAttrs | 1, false);
        long codeEnd = CODE + g.entrySpan(2);

        List<Leaf> leaves = new ArrayList<>();
        int wanted = 3 + random.nextInt(8);
        for (int i = 0; i < wanted * 3 && leaves.size() < wanted; i++) {
            int level = pick(3, 3, 3, 2, 2, 1);
            if (level == 1 && (g1 != Granule.FOUR_K || g.startLevel() > 1)) level = 2;
            long span = g.entrySpan(level);
            long va = random.nextLong() & ((1L << vaBits) - 1) & -span;
            if (va < codeEnd && va + span > CODE) continue;
            long oa = span <= SCRATCH_BYTES ? SCRATCH + random.nextLong(SCRATCH_BYTES / span) * span : SCRATCH & -span;
            long attrs = (random.nextBoolean() ? AF : 0) | (long) random.nextInt(4) << 6 | SH_INNER
                    | (random.nextBoolean() ? DBM : 0) | (random.nextInt(4) == 0 ? 1L << 54 : 0)
                    | (random.nextInt(4) == 0 ? 1L << 53 : 0) | (random.nextBoolean() ? 1L << 11 : 0);
            long[] slot = b.map(root, va, level, oa | attrs | (level == 3 ? 3 : 1), true);
            if (slot != null) {
                leaves.add(new Leaf(va, span, oa, (attrs & DBM) != 0 && (attrs >>> 6 & 3) == 3, slot[0], slot[1]));
            }
        }

        List<Probe> probes = new ArrayList<>(accesses);
        List<Long> ipas = new ArrayList<>();
        while (probes.size() < accesses) {
            int op = pick(0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5);
            if (leaves.isEmpty() || random.nextInt(20) == 0) {
                long va = random.nextLong() & ((1L << vaBits) - 1) & -8L;
                if (va < codeEnd && va + 8 > CODE) continue;
                boolean inLeaf = false;
                for (Leaf l : leaves) inLeaf |= va >= l.va && va < l.va + l.span;
                if (!inLeaf) probes.add(new Probe(va, op, -1, -1, -1)); // a translation fault
                continue;
            }
            Leaf l = leaves.get(random.nextInt(leaves.size()));
            // A TLB may keep the entry from before a store's dirty-state update made the page
            // EL0-writable, and with it EL1 execution (QEMU does, per translation regime's EL): not asked.
            if (op == 2 && l.el0Writable && !indirection) continue;
            long pa = l.span <= SCRATCH_BYTES ? l.oa + (random.nextLong(l.span) & -8L)
                    : SCRATCH + (random.nextLong(SCRATCH_BYTES) & -8L);
            probes.add(new Probe(l.va + (pa - l.oa), op, l.slotPa, l.slotIpa, pa));
            ipas.add(pa);
        }

        long vttbr = 0;
        if (s2 != null) {
            long rootBytes = s2.rootEntries() * 8;
            long s2root = allocate(Math.max(rootBytes, 64), Math.max(rootBytes, 64));
            vttbr = s2root | (long) (1 + random.nextInt(255)) << 48;
            s2 = new Stage2Regime(hcr, vtcr, vttbr, s2pir, 0, cpu);
            Geometry sg = s2.geometry();
            // The scratch IPAs the accesses reach: random leaves, a few left unmapped.
            for (long ipa : ipas) {
                if (random.nextInt(12) == 0) continue;
                int level = random.nextInt(4) == 0 ? 2 : 3;
                if (level == 2 && (!sg.blockAllowed(2) || sg.entrySpan(2) > 512L << 20)) level = 3;
                long span = sg.entrySpan(level);
                long attrs = (random.nextBoolean() ? AF : 0) | (long) pick(3, 3, 1, 1, 2, 0) << 6 | 0xFL << 2 | SH_INNER
                        | (random.nextBoolean() ? DBM : 0) | (long) random.nextInt(4) << 53;
                map2(s2, ipa & -span, ipa & -span, level, attrs, "stage-2 " + (level == 3 ? "page" : "block") + " of data");
            }
            // The stage-1 tables of random leaves: their slot's pages get one random attribute set.
            for (long ipa : b.windowTables) {
                if (random.nextInt(15) == 0) continue;
                long attrs = (random.nextBoolean() ? AF : 0) | (long) pick(3, 3, 1, 1, 1, 0) << 6 | 0xFL << 2 | SH_INNER
                        | (random.nextBoolean() ? DBM : 0);
                // Under S2PIE XN[1:0] is half of the PIIndex: drawn too, so that all sixteen occur.
                if (indirection) attrs |= (long) random.nextInt(4) << 53;
                long slot = Math.max(g.fullTableBytes(), sg.pageSize());
                for (long off = 0; off < slot; off += sg.pageSize()) {
                    map2(s2, ipa + off, b.tablePa.get(ipa) + off, 3, attrs, "stage-2 page of stage-1 tables");
                }
            }
            // Code, job and tables: to themselves, read-write, AF = 1, in the largest blocks that fit.
            int level = 2;
            while (level < 3 && (!sg.blockAllowed(level) || sg.entrySpan(level) > 512L << 20)) level++;
            for (long ipa = QemuAt.RAM_BASE; ipa < IDENTITY_END; ipa += sg.entrySpan(level)) {
                long rights = indirection ? identityIndexBits | 1L << 7 : 3L << 6; // S2PIE: Dirty set
                map2(s2, ipa, ipa, level, AF | rights | 0xFL << 2 | SH_INNER, "stage-2 identity (code, job, tables)");
            }
        }
        var registers = new Registers(tcr, root, 0, MAIR, SCTLR, pan);
        String summary = String.format("TCR=0x%x TTBR0=0x%x PAN=%d HCR=0x%x VTCR=0x%x VTTBR=0x%x (%s/%d-bit VA%s%s, %d leaves)",
                tcr, root, pan ? 1 : 0, hcr, vtcr, vttbr, g1, vaBits, ha ? " HA" : "", hd ? " HD" : "", leaves.size())
                + (indirection ? String.format(" TCR2=0x%x PIR=0x%016x PIRE0=0x%016x%s", pie.tcr2(), pie.pir(), pie.pire0(),
                        s2 == null ? "" : String.format(" S2PIR=0x%016x", s2pir)) : "");
        return new Case(registers, pie, hcr, vtcr, vttbr, s2 == null ? 0 : s2pir, probes, g1, g2, summary);
    }

    /** A stage-2 leaf at {@code level}, making tables on the way; gives up where something else is. */
    private void map2(Stage2Regime r, long ipa, long pa, int level, long attrs, String kind) {
        Geometry g = r.geometry();
        long table = r.root();
        long index = (ipa >>> g.shift(r.startLevel())) & (r.rootEntries() - 1);
        for (int l = r.startLevel(); ; l++) {
            long slot = table + index * 8;
            long w = memory.readLong(slot);
            if (l == level) {
                if (w == 0) write(slot, pa | attrs | (level == 3 ? 3 : 1), kind);
                return;
            }
            if (w == 0) {
                long t = allocate(g.fullTableBytes(), g.fullTableBytes());
                w = t | 3;
                write(slot, w, "stage-2 table");
            }
            if ((w & 3) != 3) return;
            table = w & 0x0000_FFFF_FFFF_F000L;
            index = g.index(ipa, l + 1);
        }
    }

    private int[] shuffled(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private int pick(int... values) { return values[random.nextInt(values.length)]; }
}
