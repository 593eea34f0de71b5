package dev.granule.mmu.oracle;

import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Armv7Registers;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random Armv7-A PL1&amp;0 regimes with random raw tables in guest RAM, short-descriptor or LPAE,
 * and probes into them. Descriptors are drawn bit by bit rather than built by the engine, so that
 * every encoding appears: sections, supersections, large and small pages (their 16 replicated
 * entries), reserved encodings, every AP/domain/TEX combination; LPAE tables, blocks, pages, the
 * reserved level-3 encoding, APTable/XNTable, AF = 0 and output addresses above 40 bits.
 *
 * <p>Left out, because QEMU 7.2 and the Arm ARM part there ({@link dev.granule.mmu.Armv7Mmu}):
 * second-level tables in a domain without access hold only valid entries (QEMU reports a page
 * domain fault before reading the entry, the architecture a translation fault for an invalid
 * one), and leaves outside Client domains have the Access flag set when SCTLR.AFE = 1 (QEMU skips
 * the Access flag check in Manager domains, and checks the domain before the Access flag, an
 * order the model does not share).
 */
public final class Armv7CaseGenerator {

    /** One case: the registers, the probes, and which format it uses. */
    public record Case(Armv7Registers registers, List<Probe> probes, String summary) {}

    /** ATS1CPR, ATS1CPW, ATS1CUR, ATS1CUW. */
    public record Probe(long va, int op) {
        public boolean write() { return (op & 1) != 0; }

        public int pl() { return (op & 2) != 0 ? 0 : 1; }
    }

    private static final int[] MAIR_ATTRS = {0x00, 0x04, 0x08, 0x0C, 0x44, 0xFF, 0xBB, 0x4F, 0xF4, 0xAA, 0xEE, 0x77};

    private final Random random;
    private final SparseMemory memory;
    private final boolean securityExtensions;
    private long next = QemuAt.TABLES_BASE;
    private long caseBase;

    /**
     * @param securityExtensions whether TTBCR.PD0/PD1 exist: QEMU's Armv7 CPUs on a virt board
     *                           without EL3 have no Security Extensions, and the bits read as zero
     */
    public Armv7CaseGenerator(long seed, SparseMemory memory, boolean securityExtensions) {
        this.random = new Random(seed);
        this.memory = memory;
        this.securityExtensions = securityExtensions;
    }

    public long tablesEnd() { return next; }

    public Case next(int probes, boolean lpae) {
        // Page aligned, so that an alias into this case's tables never reaches the previous case's.
        next = (next + 4095) & -4096L;
        caseBase = next;
        List<Long> targets = new ArrayList<>(); // VAs worth probing (the start of each leaf)
        Armv7Registers r = lpae ? lpaeCase(targets) : shortCase(targets);
        List<Probe> list = new ArrayList<>(probes);
        for (int i = 0; i < probes; i++) {
            long va;
            int kind = random.nextInt(10);
            if (kind < 7 && !targets.isEmpty()) {
                long t = targets.get(random.nextInt(targets.size()));
                va = (t + (random.nextInt(4) == 0 ? random.nextInt(1 << 24) : random.nextInt(1 << 16))) & 0xFFFF_FFFFL;
            } else {
                va = random.nextLong() & 0xFFFF_FFFFL;
            }
            list.add(new Probe(va, random.nextInt(4)));
        }
        String summary = String.format("%s SCTLR=0x%x TTBCR=0x%x TTBR0=0x%x TTBR1=0x%x DACR=0x%x MAIR0=0x%x MAIR1=0x%x",
                lpae ? "LPAE" : "short", r.sctlr(), r.ttbcr(), r.ttbr0(), r.ttbr1(), r.dacr(), r.mair0(), r.mair1());
        return new Case(r, list, summary);
    }

    // ---- short descriptors ----

    private Armv7Registers shortCase(List<Long> targets) {
        boolean afe = random.nextBoolean();
        long sctlr = 1 | (afe ? 1L << 29 : 0) | (random.nextBoolean() ? 1L << 28 : 0);
        int n = random.nextInt(3) == 0 ? 0 : random.nextInt(8);
        long ttbcr = n;
        if (securityExtensions) ttbcr |= (random.nextInt(20) == 0 ? 1 << 4 : 0) | (random.nextInt(20) == 0 ? 1 << 5 : 0);
        long dacr = random.nextLong() & 0xFFFF_FFFFL;
        long l1Upper = shortL1(4096, afe, dacr, targets);
        long l1Lower = shortL1(4096 >> n, afe, dacr, targets);
        long prrr = random.nextLong() & 0xFFFF_FFFFL, nmrr = random.nextLong() & 0xFFFF_FFFFL;
        return new Armv7Registers(sctlr, ttbcr, l1Lower | random.nextInt(0x40), l1Upper | random.nextInt(0x40),
                dacr, prrr, nmrr, false);
    }

    /** A first-level table of {@code entries} words, aligned to its size (at least 128 bytes). */
    private long shortL1(int entries, boolean afe, long dacr, List<Long> targets) {
        long bytes = Math.max(entries * 4L, 128);
        long table = allocate(bytes, bytes);
        for (int i = 0; i < entries; i++) {
            long va = (long) i << 20;
            int kind = random.nextInt(100);
            long d;
            if (kind < 30) {
                d = random.nextInt(8) == 0 ? random.nextLong() & 0xFFFF_FFFCL : 0; // invalid, maybe with junk
            } else if (kind < 60) {
                d = section(afe, dacr);
                targets.add(va);
            } else if (kind < 65 && (i & 15) == 0 && i + 16 <= entries) {
                d = section(afe, dacr) | 1L << 18; // supersection: 16 replicated entries
                d = (d & ~0x00F0_01E0L) | (random.nextLong() & 0x00F0_01E0L); // PA[35:32] in [23:20], PA[39:36] in [8:5]
                if (afe && !client(dacr, 0)) d |= 1L << 10;
                for (int k = 0; k < 16; k++) memory.writeInt(table + 4L * (i + k), (int) d);
                targets.add(va);
                i += 15;
                continue;
            } else {
                int domain = random.nextInt(16);
                boolean noAccess = (dacr >>> (2 * domain) & 1) == 0;
                long l2 = shortL2(afe && !client(dacr, domain), noAccess, va, targets);
                d = l2 | (long) domain << 5 | 1 | (random.nextBoolean() ? 1L << 2 : 0) | (random.nextBoolean() ? 1L << 3 : 0);
            }
            memory.writeInt(table + 4L * i, (int) d);
        }
        return table;
    }

    private long section(boolean afe, long dacr) {
        long d = (random.nextLong() & 0xFFFF_FFFCL & ~(1L << 18)) | 2 | (random.nextBoolean() ? 1 : 0);
        int domain = (int) (d >>> 5 & 0xF);
        if (afe && !client(dacr, domain)) d |= 1L << 10;
        return d;
    }

    private long shortL2(boolean setAf, boolean noAccess, long va, List<Long> targets) {
        long table = allocate(1024, 1024);
        for (int i = 0; i < 256; i++) {
            int kind = random.nextInt(100);
            long d;
            if (kind < 25 && !noAccess) {
                d = 0;
            } else if (kind < 35 && (i & 15) == 0) {
                d = (random.nextLong() & 0xFFFF_FFFCL) | 1; // large page, replicated 16 times
                if (setAf) d |= 1L << 4;
                for (int k = 0; k < 16; k++) memory.writeInt(table + 4L * (i + k), (int) d);
                targets.add(va + ((long) i << 12));
                i += 15;
                continue;
            } else {
                d = (random.nextLong() & 0xFFFF_FFFCL) | 2 | (random.nextBoolean() ? 1 : 0); // small page
                if (setAf) d |= 1L << 4;
                targets.add(va + ((long) i << 12));
            }
            memory.writeInt(table + 4L * i, (int) d);
        }
        return table;
    }

    private static boolean client(long dacr, int domain) {
        return (dacr >>> (2 * domain) & 3) == 1;
    }

    // ---- LPAE ----

    private Armv7Registers lpaeCase(List<Long> targets) {
        long sctlr = 1;
        int t0sz = random.nextInt(3) == 0 ? 0 : random.nextInt(8);
        int t1sz = random.nextInt(3) == 0 ? 0 : random.nextInt(8);
        long ttbcr = 1L << 31 | t0sz | (long) t1sz << 16 | (random.nextInt(20) == 0 ? 1 << 7 : 0)
                | (random.nextInt(20) == 0 ? 1L << 23 : 0) | (random.nextBoolean() ? 1L << 22 : 0)
                | (random.nextLong() & 0x0F00L) | (random.nextLong() & 0x0F00L) << 16; // IRGN/ORGN, harmless
        long mair0 = 0, mair1 = 0;
        for (int i = 0; i < 4; i++) {
            mair0 |= (long) MAIR_ATTRS[random.nextInt(MAIR_ATTRS.length)] << (8 * i);
            mair1 |= (long) MAIR_ATTRS[random.nextInt(MAIR_ATTRS.length)] << (8 * i);
        }
        long root0 = lpaeTable(t0sz >= 2 ? 2 : 1, 32 - t0sz, 0, targets);
        long top = 0x1_0000_0000L - (1L << (32 - (t1sz == 0 ? 0 : t1sz)));
        long root1 = lpaeTable(t1sz >= 2 ? 2 : 1, 32 - t1sz, t1sz == 0 ? 0 : top, targets);
        long asid = random.nextInt(256);
        if (random.nextInt(25) == 0) root0 |= (long) (1 + random.nextInt(255)) << 40; // TTBR beyond 40 bits
        return new Armv7Registers(sctlr, ttbcr, root0 | asid << 48, root1 | (asid ^ 1) << 48, 0, mair0, mair1, false);
    }

    /** A level-{@code level} table for {@code vaBits} of VA starting at {@code base}. */
    private long lpaeTable(int level, int vaBits, long base, List<Long> targets) {
        int shift = 39 - 9 * level;
        int entries = level == (vaBits > 30 ? 1 : 2) && level < 3 ? 1 << (vaBits - shift) : 512;
        long bytes = Math.max(entries * 8L, 32);
        long table = allocate(Math.max(bytes, 4096), Math.max(bytes, 32));
        for (int i = 0; i < entries; i++) {
            long va = base + ((long) i << shift);
            int kind = random.nextInt(100);
            long d;
            if (kind < 35) {
                d = random.nextInt(8) == 0 ? random.nextLong() & ~1L : 0;
            } else if (level < 3 && kind < 55 && next - caseBase < (6L << 20)) {
                d = lpaeTable(level + 1, vaBits, va, targets) | 3 | (random.nextInt(4) == 0 ? random.nextLong() & 0xF800_0000_0000_0000L : 0);
            } else if (level < 3 && kind < 62 && random.nextInt(3) == 0) {
                // alias: a table descriptor to a table allocated earlier in this case (loops included)
                d = ((caseBase + (Long.remainderUnsigned(random.nextLong(), Math.max(next - caseBase, 1)))) & -4096L) | 3;
            } else {
                long attrs = random.nextLong() & 0x0070_0000_0000_0FFCL; // XN, PXN, Contiguous, nG, AF, SH, AP, NS, AttrIndx
                if ((attrs >>> 8 & 3) == 1) attrs |= 3L << 8;            // SH = 0b01 is reserved
                if (random.nextInt(10) != 0) attrs |= 1L << 10;          // AF mostly set
                // A level-3 page read through an alias as a table entry points at the next table:
                // keep page addresses in the guest RAM above the probe, where both sides hold the
                // same bytes (QEMU's 32-bit virt board has device windows in the space above).
                long oa = level == 3 ? QemuAt.TABLES_BASE + (Long.remainderUnsigned(random.nextLong(),
                        QemuAt.RAM_BASE + QemuAt.RAM_SIZE - QemuAt.TABLES_BASE) & -4096L) : random.nextLong() & 0xFF_FFFF_F000L;
                if (random.nextInt(25) == 0) oa |= (long) (1 + random.nextInt(255)) << 40; // beyond 40 bits
                d = oa | attrs | (level == 3 ? 3 : 1); // a page, or a block at levels 1 and 2
                if (level == 3 && random.nextInt(10) == 0) d &= ~2L;
                targets.add(va);
            }
            memory.writeLong(table + 8L * i, d);
        }
        return table;
    }

    /** {@code bytes} of zeroed table memory aligned to {@code align}, after the previous table. */
    private long allocate(long bytes, long align) {
        long at = (next + align - 1) & -align;
        next = at + bytes;
        if (next > QemuAt.RAM_BASE + QemuAt.RAM_SIZE) throw new IllegalStateException("out of guest RAM for tables");
        return at;
    }
}
