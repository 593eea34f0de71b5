package dev.granule.mmu;

import dev.granule.format.Shareability;
import dev.granule.memory.PhysicalMemory;

/**
 * Armv7-A (AArch32) PL1&amp;0 stage-1 translation from raw register values, for both descriptor
 * formats TTBCR.EAE selects: short descriptors (sections, supersections, large and small pages,
 * domains) and LPAE long descriptors (Arm ARM B3.5, B3.6, B3.7, B3.12). Walks every time; there is
 * no TLB model for AArch32.
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

    private final Armv7Registers r;
    private final PhysicalMemory memory;
    private final Profile profile;

    public Armv7Mmu(Armv7Registers registers, PhysicalMemory memory) {
        this(registers, memory, Profile.ARMV7);
    }

    public Armv7Mmu(Armv7Registers registers, PhysicalMemory memory, Profile profile) {
        this.r = registers;
        this.memory = memory;
        this.profile = profile;
    }

    public Armv7Registers registers() { return r; }

    /** Translates the 32-bit {@code va} for {@code access} at PL{@code pl} (0 or 1). */
    public Translation translate(long va, Access access, int pl) {
        if (pl != 0 && pl != 1) throw new IllegalArgumentException("PL1&0 translation is for PL0 or PL1, not PL" + pl);
        if (va >>> 32 != 0) throw new IllegalArgumentException(String.format("0x%x is not a 32-bit address", va));
        if (!r.mmuEnabled()) {
            return new Translation.Translated(va, va, 0, 1L << 12, false, 0x00, MemoryType.DEVICE_nGnRnE,
                    Shareability.OUTER_SHAREABLE, true, 0);
        }
        return r.lpae() ? lpae(va, access, pl) : shortDescriptors(va, access, pl);
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
        int dacr = (int) (r.dacr() >>> (2 * domain) & 3);
        if (dacr == 0b00 || dacr == 0b10) {
            return new Translation.Fault(va, FaultType.DOMAIN, level, "domain " + domain + " is "
                    + (dacr == 0 ? "no access" : "reserved") + " in DACR");
        }
        if (dacr == 0b01) {
            int perms = r.accessFlagEnable() ? simplePermissions(ap >>> 1) : fullPermissions(ap);
            perms = executePermissions(perms, xn, pxn);
            if (!permitted(perms, access, pl)) {
                return new Translation.Fault(va, FaultType.PERMISSION, level, String.format(
                        "AP[2:0]=0b%s%s deny %s at PL%d", Integer.toBinaryString(ap | 8).substring(1),
                        xn ? " XN" : "", access, pl));
            }
        }
        int attr = r.texRemap() ? remapped(tex & 1, c, b) : shortAttr(tex, c, b);
        Shareability sh = (attr & 0xF0) == 0 || !s ? Shareability.NON_SHAREABLE : Shareability.OUTER_SHAREABLE;
        return new Translation.Translated(va, pa, level, size, false, attr, MemoryType.decode(attr), sh, !ng, 0);
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
        return Permissions.permitted(perms, access, pl, r.pan());
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
        int asid = (int) ((r.ttbcr() >>> 22 & 1) != 0 ? r.ttbr1() >>> 48 : r.ttbr0() >>> 48) & 0xFF;
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
            return new Translation.Translated(va, pa, level, span, (d >>> 52 & 1) != 0, attr, MemoryType.decode(attr),
                    Shareability.decode((int) (d >>> 8 & 3)), global, asid);
        }
        throw new AssertionError("an LPAE walk ends at level 3");
    }

    private static Translation abort(long va, int level, long address) {
        return new Translation.Fault(va, FaultType.EXTERNAL_ABORT_ON_WALK, level,
                String.format("descriptor at PA 0x%x is not RAM", address));
    }
}
