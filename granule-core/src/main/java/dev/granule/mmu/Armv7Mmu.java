package dev.granule.mmu;

import dev.granule.format.Shareability;
import dev.granule.memory.PhysicalMemory;

/**
 * Armv7-A (AArch32) PL1&amp;0 stage-1 translation from raw register values, for both descriptor
 * formats TTBCR.EAE selects: short descriptors (sections, supersections, large and small pages,
 * domains) and LPAE long descriptors (Arm ARM B3.5, B3.6, B3.7, B3.12), through a {@link Tlb}.
 *
 * <p>The TLB holds what a walk found: sections, supersections, large and small pages, LPAE blocks,
 * pages and (aligned) Contiguous runs, each over its whole span, tagged with the ASID unless global
 * (nG = 0). As the architecture requires, an entry keeps a short descriptor's <em>domain</em>, not the
 * domain's access: DACR is read on every hit (B3.7.3, "changes to the DACR take effect without TLB
 * maintenance"), as is PSTATE.PAN. A changed table is not seen until the matching invalidation, which
 * the AArch32 operations name as follows on {@link #tlb()}: TLBIALL {@link Tlb#invalidateAll()},
 * TLBIMVA {@link Tlb#invalidateVa(long, int)} (MVA and ASID), TLBIASID {@link Tlb#invalidateAsid(int)},
 * TLBIMVAA {@link Tlb#invalidateVaAllAsids(long)}. Faults are never cached; a hit that the current
 * DACR or permissions deny is walked again, so its fault is reported with the walk's detail.
 *
 * <p>Fault priority, short descriptors: translation (first level, then second), Access flag
 * (SCTLR.AFE=1: AP[0] = 0; raised by the walk, as the AArch32 pseudocode's short-descriptor walk
 * does), domain (DACR no access or reserved; a page's domain, from its first-level entry, is
 * checked once its second-level entry has been read: ARM's MMU documentation, "for a page the
 * domain is checked when the page table entry is returned"), then permission, which a Manager
 * domain skips. QEMU 7.2 checks a page's domain before reading the second-level entry, and the
 * domain before the Access flag, which it skips in Manager domains; the QEMU oracle keeps out of
 * those combinations, so the Access flag's place before the domain check is the pseudocode's as
 * we read it, not checked against an executable reference.
 *
 * <p>Faults are levels 1 (section, first level) and 2 (page, second level) for short
 * descriptors, 1 to 3 for LPAE, as the FSR encodes them.
 */
public final class Armv7Mmu {

    /** Which architecture the AArch32 PE follows where Armv7 and Armv8 differ. */
    public enum Profile {
        /**
         * Armv7-A with LPAE (Cortex-A7/A15/A17): bits [47:40] of an LPAE descriptor are SBZ and
         * ignored (the OA has 40 bits).
         */
        ARMV7,
        /** AArch32 state of an Armv8-A PE: non-zero bits [47:40] of a descriptor are an Address size fault. */
        ARMV8
    }

    /** Entries of a default TLB (as {@link Mmu}'s users size theirs: 1,024 entries, 4 ways). */
    private static final int DEFAULT_ENTRIES = 1024, DEFAULT_WAYS = 4;
    // A TLB entry's permission word: R/W/X at PL0 and PL1 as Tlb keeps them (bits 0..5), then, for a
    // short descriptor, the domain the hit must look up in the current DACR.
    private static final int DOMAIN_CHECKED = 1 << 12;
    private static final int DOMAIN_SHIFT = 8;

    private final Armv7Registers r;
    private final PhysicalMemory memory;
    private final Profile profile;
    private final Tlb tlb;
    // What the TLB-hit path needs from the (immutable) registers, read once.
    private final boolean enabled;
    private final int asid;
    private final long dacr;
    private final boolean pan;

    public Armv7Mmu(Armv7Registers registers, PhysicalMemory memory) {
        this(registers, memory, Profile.ARMV7);
    }

    public Armv7Mmu(Armv7Registers registers, PhysicalMemory memory, Profile profile) {
        this(registers, memory, profile, new Tlb(DEFAULT_ENTRIES, DEFAULT_WAYS));
    }

    /**
     * An MMU over {@code tlb}, which may be shared with the MMU of other register values (another
     * ASID, DACR or PAN) as one PE's TLB is shared by the contexts it runs.
     */
    public Armv7Mmu(Armv7Registers registers, PhysicalMemory memory, Profile profile, Tlb tlb) {
        this.r = registers;
        this.memory = memory;
        this.profile = profile;
        this.tlb = tlb;
        this.enabled = registers.mmuEnabled();
        this.asid = registers.asid();
        this.dacr = registers.dacr();
        this.pan = registers.pan();
    }

    public Armv7Registers registers() { return r; }

    public Tlb tlb() { return tlb; }

    /**
     * The hot path: the output address of the 32-bit {@code va}, or -1 if the access faults (call
     * {@link #translate} for the fault). A TLB hit allocates nothing and reads no table.
     */
    public long outputAddress(long va, Access access, int pl) {
        if (enabled && va >>> 32 == 0) {
            int hit = tlb.lookup(va, asid);
            if (hit >= 0 && hitPermits(tlb.perms(hit), access, pl)) return tlb.pa(hit, va);
        }
        return translate(va, access, pl) instanceof Translation.Translated t ? t.pa() : -1;
    }

    /** Translates the 32-bit {@code va} for {@code access} at PL{@code pl} (0 or 1). */
    public Translation translate(long va, Access access, int pl) {
        if (pl != 0 && pl != 1) throw new IllegalArgumentException("PL1&0 translation is for PL0 or PL1, not PL" + pl);
        if (va >>> 32 != 0) throw new IllegalArgumentException(String.format("0x%x is not a 32-bit address", va));
        if (!enabled) {
            return new Translation.Translated(va, va, 0, 1L << 12, false, 0x00, MemoryType.DEVICE_nGnRnE,
                    Shareability.OUTER_SHAREABLE, true, 0);
        }
        int hit = tlb.lookup(va, asid);
        if (hit >= 0 && hitPermits(tlb.perms(hit), access, pl)) {
            int info = tlb.info(hit);
            int attr = info >>> 8 & 0xFF;
            return new Translation.Translated(va, tlb.pa(hit, va), (byte) info, 1L << (info >>> 24 & 0x3F),
                    (info >>> 20 & 1) != 0, attr, MemoryType.decode(attr), Shareability.decode(info >>> 16 & 3),
                    tlb.asid(hit) == -1, asid);
        }
        return r.lpae() ? lpae(va, access, pl) : shortDescriptors(va, access, pl);
    }

    /** A TLB entry's rights under the current DACR (short descriptors) and PAN. */
    private boolean hitPermits(int perms, Access access, int pl) {
        if ((perms & DOMAIN_CHECKED) != 0) {
            int domainAccess = (int) (dacr >>> (2 * (perms >>> DOMAIN_SHIFT & 0xF)) & 3);
            if (domainAccess == 0b11) return true;      // Manager: no permission check
            if (domainAccess != 0b01) return false;     // no access, or reserved: the walk reports it
        }
        return Permissions.permitted(perms, access, pl, pan);
    }

    /**
     * Caches a translation the walk allowed; {@code run} is 1, or the entries of a Contiguous run.
     * The entry covers the leaf (or the run, when its output is aligned to it) but never reaches
     * outside [{@code regionStart}, {@code regionEnd}), the VA region of the TTBR walked: with LPAE a
     * TTBR1 block can span addresses that TTBR0 translates (T1SZ = 0 with T0SZ &gt; 0 puts the
     * boundary inside TTBR1's first 1 GiB entry), and those must still be walked through TTBR0.
     */
    private Translation.Translated cache(Translation.Translated t, long va, int run, int perms,
                                         long regionStart, long regionEnd) {
        long span = t.leafSize() * run;
        long leafBase = t.pa() & -t.leafSize();
        if (run > 1 && ((leafBase - (va & (span - 1) & -t.leafSize())) & (span - 1)) != 0) {
            // A misprogrammed Contiguous run (output not aligned to the run) is CONSTRAINED
            // UNPREDICTABLE: caching this entry alone is a permitted outcome that makes up no address.
            span = t.leafSize();
        }
        while (span > 1L << 12 && ((va & -span) < regionStart || (va & -span) + span > regionEnd)) span >>>= 1;
        int info = t.level() | t.mairAttr() << 8 | t.shareability().encoding() << 16 | (t.contiguous() ? 1 : 0) << 20
                | Long.numberOfTrailingZeros(t.leafSize()) << 24;
        tlb.insert(va, t.pa() - (va & (span - 1)), Long.numberOfTrailingZeros(span), t.global() ? -1 : asid, perms, info);
        return t;
    }

    // ---- short descriptors ----

    private Translation shortDescriptors(long va, Access access, int pl) {
        long ttbcr = r.ttbcr();
        int n = (int) (ttbcr & 7);
        boolean upper = n != 0 && va >>> (32 - n) != 0;
        if ((ttbcr >>> (upper ? 5 : 4) & 1) != 0) {
            return new Translation.Fault(va, FaultType.TRANSLATION, 1, "TTBCR.PD" + (upper ? 1 : 0) + " set: no walk");
        }
        // TTBR0 holds a (16 KiB >> N)-aligned table indexed by VA[31-N:20]; TTBR1 a 16 KiB one by VA[31:20].
        long base = upper ? r.ttbr1() & 0xFFFF_C000L : r.ttbr0() & (0xFFFF_FFFFL << (14 - n)) & 0xFFFF_FFFFL;
        long l1Address = base | (va >>> 20) << 2;
        if (!memory.contains(l1Address, 4)) return abort(va, 1, l1Address);
        long l1 = memory.readInt(l1Address) & 0xFFFF_FFFFL;
        int type = (int) (l1 & 3);
        if (type == 0) return new Translation.Fault(va, FaultType.TRANSLATION, 1, String.format("invalid first-level entry 0x%08x", l1));

        int level, ap, tex, domain;
        boolean xn, pxn, c, b, s, ng;
        long pa, size;
        if (type == 1) {
            level = 2;
            domain = (int) (l1 >>> 5 & 0xF);
            pxn = (l1 >>> 2 & 1) != 0;
            long l2Address = (l1 & 0xFFFF_FC00L) | (va >>> 10 & 0x3FC);
            if (!memory.contains(l2Address, 4)) return abort(va, 2, l2Address);
            long l2 = memory.readInt(l2Address) & 0xFFFF_FFFFL;
            if ((l2 & 3) == 0) return new Translation.Fault(va, FaultType.TRANSLATION, 2, String.format("invalid second-level entry 0x%08x", l2));
            if ((l2 & 3) == 1) { // large page: 64 KiB, TEX in [14:12], XN in [15]
                size = 1L << 16;
                pa = (l2 & 0xFFFF_0000L) | (va & 0xFFFF);
                tex = (int) (l2 >>> 12 & 7);
                xn = (l2 >>> 15 & 1) != 0;
            } else {             // small page: 4 KiB, TEX in [8:6], XN in [0]
                size = 1L << 12;
                pa = (l2 & 0xFFFF_F000L) | (va & 0xFFF);
                tex = (int) (l2 >>> 6 & 7);
                xn = (l2 & 1) != 0;
            }
            ap = (int) ((l2 >>> 4 & 3) | (l2 >>> 7 & 4));
            c = (l2 >>> 3 & 1) != 0;
            b = (l2 >>> 2 & 1) != 0;
            s = (l2 >>> 10 & 1) != 0;
            ng = (l2 >>> 11 & 1) != 0;
        } else {
            level = 1;
            boolean supersection = (l1 >>> 18 & 1) != 0;
            if (supersection) { // 16 MiB, PA[35:32] in [23:20], PA[39:36] in [8:5], domain 0
                size = 1L << 24;
                pa = (l1 & 0xFF00_0000L) | (va & 0xFF_FFFF) | (l1 >>> 20 & 0xF) << 32 | (l1 >>> 5 & 0xF) << 36;
                domain = 0;
            } else {
                size = 1L << 20;
                pa = (l1 & 0xFFF0_0000L) | (va & 0xF_FFFF);
                domain = (int) (l1 >>> 5 & 0xF);
            }
            ap = (int) ((l1 >>> 10 & 3) | (l1 >>> 13 & 4));
            xn = (l1 >>> 4 & 1) != 0;
            pxn = (l1 & 1) != 0;
            tex = (int) (l1 >>> 12 & 7);
            c = (l1 >>> 3 & 1) != 0;
            b = (l1 >>> 2 & 1) != 0;
            s = (l1 >>> 16 & 1) != 0;
            ng = (l1 >>> 17 & 1) != 0;
        }
        if (r.accessFlagEnable() && (ap & 1) == 0) {
            return new Translation.Fault(va, FaultType.ACCESS_FLAG, level, "AP[0] (the Access flag) is 0");
        }
        int domainAccess = (int) (dacr >>> (2 * domain) & 3);
        if (domainAccess == 0b00 || domainAccess == 0b10) {
            return new Translation.Fault(va, FaultType.DOMAIN, level, "domain " + domain + " is "
                    + (domainAccess == 0 ? "no access" : "reserved") + " in DACR");
        }
        int perms = executePermissions(r.accessFlagEnable() ? simplePermissions(ap >>> 1) : fullPermissions(ap), xn, pxn);
        if (domainAccess == 0b01) {
            if (!permitted(perms, access, pl)) {
                return new Translation.Fault(va, FaultType.PERMISSION, level, String.format(
                        "AP[2:0]=0b%s%s deny %s at PL%d", Integer.toBinaryString(ap | 8).substring(1),
                        xn ? " XN" : "", access, pl));
            }
        }
        int attr = r.texRemap() ? remapped(tex & 1, c, b) : shortAttr(tex, c, b);
        Shareability sh = (attr & 0xF0) == 0 || !s ? Shareability.NON_SHAREABLE : Shareability.OUTER_SHAREABLE;
        return cache(new Translation.Translated(va, pa, level, size, false, attr, MemoryType.decode(attr), sh, !ng,
                asid), va, 1, perms | DOMAIN_CHECKED | domain << DOMAIN_SHIFT, 0, 1L << 32);
    }

    /** AP[2:0] without the Access flag (Arm ARM B3.7.1, table B3-8). */
    private static int fullPermissions(int ap) {
        return switch (ap) {
            case 0b001 -> Tlb.R1 | Tlb.W1;
            case 0b010 -> Tlb.R1 | Tlb.W1 | Tlb.R0;
            case 0b011 -> Tlb.R1 | Tlb.W1 | Tlb.R0 | Tlb.W0;
            case 0b101 -> Tlb.R1;
            case 0b110, 0b111 -> Tlb.R1 | Tlb.R0;
            default -> 0; // 0b000 no access; 0b100 reserved
        };
    }

    /** AP[2:1] of the simplified model (SCTLR.AFE = 1, table B3-9). */
    private static int simplePermissions(int ap21) {
        return switch (ap21) {
            case 0b00 -> Tlb.R1 | Tlb.W1;
            case 0b01 -> Tlb.R1 | Tlb.W1 | Tlb.R0 | Tlb.W0;
            case 0b10 -> Tlb.R1;
            default -> Tlb.R1 | Tlb.R0;
        };
    }

    /** XN and PXN; WXN makes writable memory execute-never, UWXN does so at PL1 for PL0-writable memory. */
    private int executePermissions(int perms, boolean xn, boolean pxn) {
        boolean pl1Exec = (perms & Tlb.R1) != 0 && !xn && !pxn;
        boolean pl0Exec = (perms & Tlb.R0) != 0 && !xn;
        if (r.wxn()) {
            pl1Exec &= (perms & Tlb.W1) == 0;
            pl0Exec &= (perms & Tlb.W0) == 0;
        }
        if (r.uwxn()) pl1Exec &= (perms & Tlb.W0) == 0;
        return perms | (pl1Exec ? Tlb.X1 : 0) | (pl0Exec ? Tlb.X0 : 0);
    }

    private boolean permitted(int perms, Access access, int pl) {
        return Permissions.permitted(perms, access, pl, pan);
    }

    /**
     * TEX[2:0], C, B with TEX remap off, as a MAIR attribute byte (Arm ARM B3.8.2, table B3-10):
     * 000 00 Strongly-ordered, 000 01 and 010 00 Device, 000 10 WT, 000 11 WB no write-allocate,
     * 001 00 Non-cacheable, 001 11 WB write-allocate, 1BB AA outer BB inner AA.
     */
    static int shortAttr(int tex, boolean c, boolean b) {
        int cb = (c ? 2 : 0) | (b ? 1 : 0);
        if ((tex & 4) != 0) return policy(tex & 3) << 4 | policy(cb);
        return switch (tex << 2 | cb) {
            case 0b00000 -> 0x00;
            case 0b00001, 0b01000 -> 0x04;
            case 0b00010 -> 0xAA;
            case 0b00011 -> 0xEE;
            case 0b00100 -> 0x44;
            case 0b00111 -> 0xFF;
            default -> 0x00; // reserved / IMPLEMENTATION DEFINED encodings: treated as Strongly-ordered
        };
    }

    /** A cache policy field (00 NC, 01 WB-WA, 10 WT, 11 WB no WA) as a MAIR nibble. */
    private static int policy(int p) {
        return switch (p) {
            case 0b00 -> 0x4;
            case 0b01 -> 0xF;
            case 0b10 -> 0xA;
            default -> 0xE;
        };
    }

    /** TEX remap (SCTLR.TRE = 1): PRRR (in mair0) gives the type of index n, NMRR (in mair1) the cache policies. */
    private int remapped(int tex0, boolean c, boolean b) {
        int n = tex0 << 2 | (c ? 2 : 0) | (b ? 1 : 0);
        int type = (int) (r.mair0() >>> (2 * n) & 3);
        return switch (type) {
            case 0b00 -> 0x00;
            case 0b01 -> 0x04;
            case 0b10 -> policy((int) (r.mair1() >>> (16 + 2 * n) & 3)) << 4 | policy((int) (r.mair1() >>> (2 * n) & 3));
            default -> 0x44; // reserved: Normal Non-cacheable
        };
    }

    // ---- LPAE ----

    private Translation lpae(long va, Access access, int pl) {
        long ttbcr = r.ttbcr();
        int t0sz = (int) (ttbcr & 7), t1sz = (int) (ttbcr >>> 16 & 7);
        // Arm ARM B3.6.4: TTBR0 below 2^(32-T0SZ), TTBR1 from 2^32 - 2^(32-T1SZ); a zero TxSZ takes the rest.
        boolean upper;
        if (t0sz != 0 && va >>> (32 - t0sz) == 0) upper = false;
        else if (t1sz != 0 && ((~va & 0xFFFF_FFFFL) >>> (32 - t1sz)) == 0) upper = true;
        else if (t0sz == 0) upper = false;
        else if (t1sz == 0) upper = true;
        else return new Translation.Fault(va, FaultType.TRANSLATION, 1, "VA in neither TTBR0's nor TTBR1's region");
        int txsz = upper ? t1sz : t0sz;
        long lowerEnd = t0sz != 0 ? 1L << (32 - t0sz) : t1sz != 0 ? (1L << 32) - (1L << (32 - t1sz)) : 1L << 32;
        long upperStart = t1sz != 0 ? (1L << 32) - (1L << (32 - t1sz)) : lowerEnd;
        long regionStart = upper ? upperStart : 0, regionEnd = upper ? 1L << 32 : lowerEnd;
        if ((ttbcr >>> (upper ? 23 : 7) & 1) != 0) {
            return new Translation.Fault(va, FaultType.TRANSLATION, 1, "TTBCR.EPD" + (upper ? 1 : 0) + " set: no walk");
        }
        // Start at level 1 (VA[31-TxSZ:30] indexes it) unless TxSZ >= 2, where level 2 covers the region.
        int start = txsz >= 2 ? 2 : 1;
        int vaBits = 32 - txsz;
        long ttbr = upper ? r.ttbr1() : r.ttbr0();
        int startBits = vaBits - (start == 1 ? 30 : 21);
        long table = ttbr & 0xFF_FFFF_FFFFL & -(8L << startBits);
        if ((ttbr & 0xFF00_0000_0000L) != 0) {
            // The long-descriptor FSR's level 0 stands for the TTBR (Arm ARM B3.13.3).
            return new Translation.Fault(va, FaultType.ADDRESS_SIZE, 0, "TTBR bits [47:40] set");
        }
        int apTable = 0;
        boolean xnTable = false, pxnTable = false;
        for (int level = start; level <= 3; level++) {
            int shift = 39 - 9 * level;
            long index = level == start ? (va >>> shift) & ((1L << (vaBits - shift)) - 1) : (va >>> shift) & 0x1FF;
            long address = table + index * 8;
            if (!memory.contains(address, 8)) return abort(va, level, address);
            long d = memory.readLong(address);
            if ((d & 1) == 0 || (level == 3 && (d & 2) == 0)) {
                return new Translation.Fault(va, FaultType.TRANSLATION, level, String.format("invalid descriptor 0x%016x", d));
            }
            long next = d & 0xFF_FFFF_F000L;
            if (profile == Profile.ARMV8 && (d & 0xFF00_0000_0000L) != 0) {
                return new Translation.Fault(va, FaultType.ADDRESS_SIZE, level, "address bits [47:40] set");
            }
            if (level < 3 && (d & 2) != 0) {
                apTable |= (int) (d >>> 61 & 3);
                xnTable |= (d >>> 60 & 1) != 0;
                pxnTable |= (d >>> 59 & 1) != 0;
                table = next;
                continue;
            }
            // Block (levels 1 and 2) or page.
            long span = 1L << shift;
            long pa = (d & 0xFF_FFFF_FFFFL & -span) | (va & (span - 1));
            if ((d >>> 10 & 1) == 0) return new Translation.Fault(va, FaultType.ACCESS_FLAG, level, "AF is 0");
            int ap = (int) (d >>> 6 & 3);
            ap = (ap | (apTable & 2)) & ~(apTable & 1);
            int perms = simplePermissions(ap);
            perms = executePermissions(perms, (d >>> 54 & 1) != 0 || xnTable, (d >>> 53 & 1) != 0 || pxnTable);
            if (!permitted(perms, access, pl)) {
                return new Translation.Fault(va, FaultType.PERMISSION, level, "AP[2:1]=" + ap + " deny " + access + " at PL" + pl);
            }
            int attr = (int) ((d >>> 2 & 4) != 0 ? r.mair1() >>> (8 * (d >>> 2 & 3)) : r.mair0() >>> (8 * (d >>> 2 & 3))) & 0xFF;
            boolean global = (d >>> 11 & 1) == 0;
            boolean contiguous = (d >>> 52 & 1) != 0;
            // The Contiguous hint marks 16 adjacent entries (B3.6.2), which one TLB entry may cover.
            return cache(new Translation.Translated(va, pa, level, span, contiguous, attr, MemoryType.decode(attr),
                    Shareability.decode((int) (d >>> 8 & 3)), global, asid), va, contiguous ? 16 : 1, perms,
                    regionStart, regionEnd);
        }
        throw new AssertionError("an LPAE walk ends at level 3");
    }

    private static Translation abort(long va, int level, long address) {
        return new Translation.Fault(va, FaultType.EXTERNAL_ABORT_ON_WALK, level,
                String.format("descriptor at PA 0x%x is not RAM", address));
    }
}
