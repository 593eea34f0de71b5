package dev.granule.format;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.TranslationFormat;

/**
 * Armv7-A short-descriptor translation tables (Arm ARM B3.5; the same bits as QEMU's
 * get_phys_addr_v6 and Linux's arch/arm/include/asm/pgtable-2level-hwdef.h). granule numbers the
 * first level 2 and the second level 3.
 *
 * <pre>
 * first level (granule level 2), bits [1:0]: 00 fault, 01 page table, 1x section (bit 0 = PXN)
 *   page table   [2] PXN  [3] NS  [8:5] domain  [9] IMP  [31:10] second-level table address (1 KiB aligned)
 *   section      [2] B  [3] C  [4] XN  [8:5] domain  [9] IMP  [11:10] AP[1:0]  [14:12] TEX  [15] AP[2]
 *                [16] S  [17] nG  [18] 0  [19] NS  [31:20] PA[31:20]
 *   supersection as a section with [18] 1, [8:5] PA[39:36], [23:20] PA[35:32], [31:24] PA[31:24]
 * second level (granule level 3), bits [1:0]: 00 fault, 01 large page, 1x small page (bit 0 = XN)
 *   large page   [2] B  [3] C  [5:4] AP[1:0]  [9] AP[2]  [10] S  [11] nG  [14:12] TEX  [15] XN  [31:16] PA[31:16]
 *   small page   [2] B  [3] C  [5:4] AP[1:0]  [8:6] TEX  [9] AP[2]  [10] S  [11] nG  [31:12] PA[31:12]
 * </pre>
 *
 * <p>A supersection (16 MiB) or large page (64 KiB) is 16 consecutive entries that all carry the
 * same descriptor: the engine treats them as a contiguous run ({@link Geometry#contiguousEntries}
 * is 16 at both levels) whose entries hold the run's base, and {@link #translate} adds the VA bits
 * below 16 MiB or 64 KiB.
 *
 * <p><b>The configuration the typed {@link Attributes} model</b> is Linux's for Armv7:
 * <ul>
 *   <li>SCTLR.TRE=1 (TEX remap): {@code TEX[0]:C:B} is a 3-bit index into PRRR/NMRR, carried as
 *       {@link Attributes#attrIndex()}; TEX[2:1] are then free for the OS and carry
 *       {@link Attributes#software()} (0..3).</li>
 *   <li>SCTLR.AFE=1: AP[0] is the Access flag and AP[2:1] the simplified permission model, whose
 *       four encodings mean what {@link AccessPermission} says for AArch64 (PL1 for EL1, PL0 for EL0).</li>
 *   <li>The S bit: 0 is Non-shareable, 1 is {@code shareable} (Inner Shareable when PRRR.NOSn=1, as
 *       Linux sets it; give OUTER_SHAREABLE for NOSn=0).</li>
 *   <li>Execute permissions: XN forbids execution at every PL and PXN at PL1; PL0 can execute only
 *       what it can read. Decoded, {@code unprivilegedExecuteNever = XN || no PL0 access} and
 *       {@code privilegedExecuteNever = XN || PXN}; encoding accepts exactly the combinations that
 *       decode back to themselves and explains the others.</li>
 *   <li>Domain, NS and PXN of a page live in its first-level page-table entry
 *       ({@link TableAttributes}), not in the page: a page decodes with domain 0, NS 0 and PXN = XN,
 *       and a page that needs others cannot be encoded. Supersections are in domain 0.</li>
 *   <li>No DBM, no GP: Armv7 has neither.</li>
 * </ul>
 *
 * @param geometry  a {@code short} geometry
 * @param shareable what S=1 means, from PRRR.NOSn: INNER_SHAREABLE (Linux) or OUTER_SHAREABLE
 */
public record ShortFormat(Geometry geometry, Shareability shareable) implements DescriptorFormat {

    static final int FIRST = 2;
    static final int SECOND = 3;

    static final long TYPE_MASK = 3;
    static final long PAGE_TABLE = 0b01;
    static final long SECTION = 0b10;
    static final long LARGE_PAGE = 0b01;
    static final long SMALL_PAGE = 0b10;

    // First level.
    static final long PXN_SECTION = 1;
    static final long PXN_TABLE = 1L << 2;
    static final long NS_TABLE = 1L << 3;
    static final int DOMAIN_SHIFT = 5;
    static final long DOMAIN_FIELD = 0xFL << DOMAIN_SHIFT;
    /** Supersection bits [23:20]: PA[35:32]. */
    static final long EXTENDED_BASE = 0xFL << 20;
    static final long IMP = 1L << 9;
    static final long B = 1L << 2;
    static final long C = 1L << 3;
    static final long XN_SECTION = 1L << 4;
    static final int AP_SECTION_SHIFT = 10;
    static final int TEX_SECTION_SHIFT = 12;
    static final long AP2_SECTION = 1L << 15;
    static final long S_SECTION = 1L << 16;
    static final long NG_SECTION = 1L << 17;
    static final long SUPERSECTION = 1L << 18;
    static final long NS_SECTION = 1L << 19;

    // Second level.
    static final long XN_SMALL = 1;
    static final int AP_PAGE_SHIFT = 4;
    static final int TEX_SMALL_SHIFT = 6;
    static final long AP2_PAGE = 1L << 9;
    static final long S_PAGE = 1L << 10;
    static final long NG_PAGE = 1L << 11;
    static final int TEX_LARGE_SHIFT = 12;
    static final long XN_LARGE = 1L << 15;

    static final long SECTION_BASE = 0xFFF0_0000L;
    static final long SUPERSECTION_BASE = 0xFF00_0000L;
    static final long LARGE_BASE = 0xFFFF_0000L;
    static final long SMALL_BASE = 0xFFFF_F000L;
    static final long TABLE_BASE = 0xFFFF_FC00L;

    static final long SECTION_SIZE = 1L << 20;
    static final long SUPERSECTION_SIZE = 1L << 24;
    static final long LARGE_SIZE = 1L << 16;
    static final long SMALL_SIZE = 1L << 12;

    public ShortFormat {
        if (geometry.format() != TranslationFormat.SHORT) {
            throw new IllegalArgumentException("short descriptors need a short geometry, got " + geometry.label());
        }
        if (shareable != Shareability.INNER_SHAREABLE && shareable != Shareability.OUTER_SHAREABLE) {
            throw new IllegalArgumentException("S=1 means Inner or Outer Shareable (PRRR.NOSn), not " + shareable);
        }
    }

    @Override
    public int descriptorShift() { return 2; }

    @Override
    public int tableAddressBits() { return 32; }

    private static boolean isSupersection(long lo) {
        return (lo & SECTION) != 0 && (lo & SUPERSECTION) != 0;
    }

    private static boolean isLargePage(long lo) {
        return (lo & TYPE_MASK) == LARGE_PAGE;
    }

    @Override
    public DescriptorKind kind(Descriptor d, int level) {
        int type = (int) (d.lo() & TYPE_MASK);
        if (type == 0) return DescriptorKind.INVALID;
        return switch (level) {
            case FIRST -> type == PAGE_TABLE ? DescriptorKind.TABLE : DescriptorKind.BLOCK;
            case SECOND -> DescriptorKind.PAGE;
            default -> DescriptorKind.RESERVED;
        };
    }

    @Override
    public long outputAddress(Descriptor d, int level) {
        long lo = d.lo();
        if (level == FIRST) {
            if (isSupersection(lo)) {
                return (lo & SUPERSECTION_BASE) | ((lo >>> 20) & 0xF) << 32 | ((lo >>> DOMAIN_SHIFT) & 0xF) << 36;
            }
            return lo & SECTION_BASE;
        }
        return lo & (isLargePage(lo) ? LARGE_BASE : SMALL_BASE);
    }

    @Override
    public long translate(Descriptor d, int level, long va) {
        return outputAddress(d, level) | (va & (leafSize(d.lo(), level) - 1));
    }

    /** Bytes the OA base of a leaf describes: 16M, 1M, 64K or 4K. */
    private static long leafSize(long lo, int level) {
        if (level == FIRST) return isSupersection(lo) ? SUPERSECTION_SIZE : SECTION_SIZE;
        return isLargePage(lo) ? LARGE_SIZE : SMALL_SIZE;
    }

    @Override
    public long tableAddress(Descriptor d) { return d.lo() & TABLE_BASE; }

    @Override
    public Attributes attributes(Descriptor d) {
        throw new UnsupportedOperationException("short descriptors put attributes in different bits per level;"
                + " use attributes(descriptor, level)");
    }

    @Override
    public Attributes attributes(Descriptor d, int level) {
        long lo = d.lo();
        boolean xn;
        boolean pxnBit;
        int ap;
        int tex;
        boolean s;
        boolean ng;
        boolean ns;
        int domain;
        if (level == FIRST) {
            xn = (lo & XN_SECTION) != 0;
            pxnBit = (lo & PXN_SECTION) != 0;
            ap = (int) (lo >>> AP_SECTION_SHIFT) & 3 | ((lo & AP2_SECTION) != 0 ? 4 : 0);
            tex = (int) (lo >>> TEX_SECTION_SHIFT) & 7;
            s = (lo & S_SECTION) != 0;
            ng = (lo & NG_SECTION) != 0;
            ns = (lo & NS_SECTION) != 0;
            domain = isSupersection(lo) ? 0 : (int) (lo >>> DOMAIN_SHIFT) & 0xF;
        } else {
            boolean large = isLargePage(lo);
            xn = (lo & (large ? XN_LARGE : XN_SMALL)) != 0;
            pxnBit = false;
            ap = (int) (lo >>> AP_PAGE_SHIFT) & 3 | ((lo & AP2_PAGE) != 0 ? 4 : 0);
            tex = (int) (lo >>> (large ? TEX_LARGE_SHIFT : TEX_SMALL_SHIFT)) & 7;
            s = (lo & S_PAGE) != 0;
            ng = (lo & NG_PAGE) != 0;
            ns = false;
            domain = 0;
        }
        AccessPermission permission = AccessPermission.decode(ap >>> 1);
        int attrIndex = (tex & 1) << 2 | (int) (lo >>> 2) & 3;
        return new Attributes(attrIndex, permission, s ? shareable : Shareability.NON_SHAREABLE, (ap & 1) != 0, ng, ns,
                false, xn || pxnBit, xn || !permission.unprivilegedAccess(), false, tex >>> 1, domain);
    }

    @Override
    public TableAttributes tableAttributes(Descriptor d) {
        long lo = d.lo();
        return new TableAttributes(0, false, (lo & PXN_TABLE) != 0, (lo & NS_TABLE) != 0,
                (int) (lo >>> DOMAIN_SHIFT) & 0xF);
    }

    @Override
    public boolean contiguous(Descriptor d) {
        throw new UnsupportedOperationException("a short descriptor is replicated or not depending on its level;"
                + " use contiguous(descriptor, level)");
    }

    @Override
    public boolean contiguous(Descriptor d, int level) {
        long lo = d.lo();
        return level == FIRST ? isSupersection(lo) : isLargePage(lo);
    }

    @Override
    public boolean contiguousAllowed(Descriptor d, int level) {
        return level != FIRST || isSupersection(d.lo()) || ((d.lo() >>> DOMAIN_SHIFT) & 0xF) == 0;
    }

    @Override
    public void encodeTable(Descriptor out, long tablePa, TableAttributes a) {
        if ((tablePa & ~TABLE_BASE) != 0) {
            throw new DescriptorEncodingException(String.format(
                    "second-level table address 0x%x is not a 1 KiB aligned 32-bit address", tablePa));
        }
        if (a.apTable() != 0 || a.unprivilegedExecuteNeverTable()) {
            throw new DescriptorEncodingException("short-descriptor page-table entries have no APTable or XNTable;"
                    + " they hold only PXN, NS and a domain");
        }
        out.set(PAGE_TABLE | tablePa | (a.privilegedExecuteNeverTable() ? PXN_TABLE : 0)
                | (a.nonSecureTable() ? NS_TABLE : 0) | ((long) a.domain() << DOMAIN_SHIFT), 0);
    }

    @Override
    public void encodeLeaf(Descriptor out, long pa, int level, Attributes a, boolean contiguous) {
        if (level != FIRST && level != SECOND) {
            throw new DescriptorEncodingException("short descriptors have levels 2 (first) and 3 (second), not " + level);
        }
        boolean xn = a.unprivilegedExecuteNever() && a.privilegedExecuteNever();
        boolean pxn = a.privilegedExecuteNever() && !a.unprivilegedExecuteNever();
        boolean decodedUxn = xn || !a.permission().unprivilegedAccess();
        if (decodedUxn != a.unprivilegedExecuteNever()) {
            throw new DescriptorEncodingException(a.unprivilegedExecuteNever()
                    ? "short descriptors cannot make PL0-accessible memory executable at PL1 but not at PL0"
                    + " (there is no UXN bit; use XN for neither or PXN for PL0 only)"
                    : "PL0 cannot execute memory it cannot read; with " + a.permission()
                    + " set unprivilegedExecuteNever");
        }
        if (a.dirtyBitModifier() || a.guarded()) {
            throw new DescriptorEncodingException("Armv7 short descriptors have no DBM or GP bit");
        }
        if (a.software() > 3) {
            throw new DescriptorEncodingException("short descriptors have two software bits (TEX[2:1] under TEX remap),"
                    + " software value " + a.software() + " does not fit");
        }
        if (a.shareability() != Shareability.NON_SHAREABLE && a.shareability() != shareable) {
            throw new DescriptorEncodingException("the S bit means " + shareable.label() + " here (PRRR.NOSn);"
                    + " " + a.shareability().label() + " cannot be encoded");
        }
        int tex = (a.software() << 1) | (a.attrIndex() >>> 2);
        long cb = (long) (a.attrIndex() & 3) << 2;
        long ap = (a.accessFlag() ? 1 : 0) | (a.permission().encoding() & 1) << 1;
        boolean ap2 = (a.permission().encoding() & 2) != 0;
        boolean s = a.shareability() != Shareability.NON_SHAREABLE;
        long lo;
        if (level == FIRST) {
            if (contiguous && a.domain() != 0) {
                throw new DescriptorEncodingException("a supersection has no domain field (domain " + a.domain()
                        + "); only domain 0 maps 16 MiB");
            }
            lo = SECTION | (pxn ? PXN_SECTION : 0) | cb | (xn ? XN_SECTION : 0) | ((long) a.domain() << DOMAIN_SHIFT)
                    | ap << AP_SECTION_SHIFT | (long) tex << TEX_SECTION_SHIFT | (ap2 ? AP2_SECTION : 0)
                    | (s ? S_SECTION : 0) | (a.notGlobal() ? NG_SECTION : 0) | (a.nonSecure() ? NS_SECTION : 0)
                    | (contiguous ? SUPERSECTION : 0);
        } else {
            if (pxn || a.nonSecure() || a.domain() != 0) {
                throw new DescriptorEncodingException("a short-descriptor page has no PXN, NS or domain: those come from"
                        + " its first-level page-table entry (TableAttributes), which the engine writes as PXN=0, NS=0,"
                        + " domain 0; map with a section, or without them");
            }
            lo = cb | ap << AP_PAGE_SHIFT | (ap2 ? AP2_PAGE : 0) | (s ? S_PAGE : 0) | (a.notGlobal() ? NG_PAGE : 0)
                    | (contiguous
                    ? LARGE_PAGE | (long) tex << TEX_LARGE_SHIFT | (xn ? XN_LARGE : 0)
                    : SMALL_PAGE | (long) tex << TEX_SMALL_SHIFT | (xn ? XN_SMALL : 0));
        }
        out.set(lo, 0);
        setOutputAddress(out, pa, level);
    }

    /**
     * Puts {@code pa} in the address bits of leaf {@code d}. A replicated entry keeps only the bits
     * of its 16 MiB or 64 KiB base, so writing each entry of a run with its own address yields 16
     * identical entries, as the architecture requires.
     */
    @Override
    public void setOutputAddress(Descriptor d, long pa, int level) {
        long lo = d.lo();
        if (level == FIRST && isSupersection(lo)) {
            checkAddress(pa, SECTION_SIZE, geometry.paBits(), "supersection");
            lo = (lo & ~(SUPERSECTION_BASE | EXTENDED_BASE | DOMAIN_FIELD)) | (pa & SUPERSECTION_BASE)
                    | ((pa >>> 32) & 0xF) << 20 | ((pa >>> 36) & 0xF) << DOMAIN_SHIFT;
        } else if (level == FIRST) {
            checkAddress(pa, SECTION_SIZE, 32, "section");
            lo = (lo & ~SECTION_BASE) | pa;
        } else {
            checkAddress(pa, SMALL_SIZE, 32, isLargePage(lo) ? "large page" : "small page");
            long base = isLargePage(lo) ? LARGE_BASE : SMALL_BASE;
            lo = (lo & ~base) | (pa & base);
        }
        d.set(lo, 0);
    }

    private void checkAddress(long pa, long align, int bits, String what) {
        if ((pa & (align - 1)) != 0) {
            throw new DescriptorEncodingException(String.format("output address 0x%x of a %s is not aligned to 0x%x",
                    pa, what, align));
        }
        int limit = Math.min(bits, geometry.paBits());
        if ((pa >>> limit) != 0) {
            throw new DescriptorEncodingException(String.format("output address 0x%x does not fit a %s, which outputs"
                    + " %d-bit addresses%s", pa, what, limit,
                    limit == 32 && geometry.paBits() > 32 ? "; above 4 GiB only 16 MiB supersections reach" : ""));
        }
    }

    @Override
    public void setContiguous(Descriptor d, boolean contiguous) {
        throw new UnsupportedOperationException("use setContiguous(descriptor, contiguous, level) for short descriptors");
    }

    @Override
    public void setContiguous(Descriptor d, boolean contiguous, int level) {
        if (contiguous(d, level) == contiguous) return;
        if (level == FIRST) {
            long pa = outputAddress(d, level);
            if (contiguous && !contiguousAllowed(d, level)) {
                throw new DescriptorEncodingException("a section in domain " + ((d.lo() >>> DOMAIN_SHIFT) & 0xF)
                        + " cannot become a supersection, which has no domain field");
            }
            // Supersection bits [23:20] and [8:5] are address bits; a section's are PA[23:20] and the domain.
            long lo = contiguous ? d.lo() | SUPERSECTION : d.lo() & ~(SUPERSECTION | SECTION_BASE | DOMAIN_FIELD);
            d.set(lo, 0);
            setOutputAddress(d, contiguous ? pa & -SUPERSECTION_SIZE : pa, level);
            return;
        }
        long lo = d.lo();
        long common = lo & (B | C | 3L << AP_PAGE_SHIFT | AP2_PAGE | S_PAGE | NG_PAGE);
        long pa = outputAddress(d, level);
        if (contiguous) {
            long tex = (lo >>> TEX_SMALL_SHIFT) & 7;
            d.set(common | LARGE_PAGE | tex << TEX_LARGE_SHIFT | ((lo & XN_SMALL) != 0 ? XN_LARGE : 0)
                    | (pa & LARGE_BASE), 0);
        } else {
            long tex = (lo >>> TEX_LARGE_SHIFT) & 7;
            d.set(common | SMALL_PAGE | tex << TEX_SMALL_SHIFT | ((lo & XN_LARGE) != 0 ? XN_SMALL : 0) | pa, 0);
        }
    }

    @Override
    public void encodeLeafLike(Descriptor out, Descriptor template, int templateLevel, long pa, int level,
                               boolean contiguous) {
        // Every bit of a short descriptor but IMP is in the typed model, so re-encoding the decoded
        // attributes keeps them; what a page cannot hold (PXN, NS, a domain) is refused, not lost.
        encodeLeaf(out, pa, level, attributes(template, templateLevel), contiguous);
        if (level == FIRST && templateLevel == FIRST) out.set(out.lo() | (template.lo() & IMP), 0);
    }

    @Override
    public boolean sameLeafAttributes(Descriptor a, Descriptor b, int level) {
        return attributes(a, level).equals(attributes(b, level)) && (level != FIRST || (a.lo() & IMP) == (b.lo() & IMP));
    }

    @Override
    public String toString() { return "Armv7 short descriptors[" + geometry.label() + "]"; }
}
