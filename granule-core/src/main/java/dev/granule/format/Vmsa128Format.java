package dev.granule.format;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;

/**
 * VMSAv9-128 stage 1 descriptors (FEAT_D128; Arm ARM D8.3.2, tables D8-56 and D8-58, and the
 * pseudocode AArch64.DecodeDescriptorType, AArch64.LeafBase, AArch64.NextTableBase,
 * AArch64.S1NextWalkStateLeaf/Table and AArch64.S1ApplyOutputPerms).
 *
 * <p>Field positions (bit numbers of the 128-bit descriptor):
 * <pre>
 *   [0] Valid          [5:2] AttrIndx (bit 5 is AttrIndx[3] with FEAT_AIE)   [6] nT (blocks with SKL != 0)
 *   [7] nDirty         [9:8] SH    [10] AF    [11] nG    [55:12] OA / next-level table address
 *   [100:91] software  [110:109] SKL   [111] Contiguous   [112] DisCH (tables)   [113] GP
 *   [114] Protected    [118:115] PIIndex   [124:121] POIndex   [127] NS / NSTable
 * </pre>
 * There is no type bit: a valid descriptor at level L with skip level SKL is a table if
 * {@code L + SKL < 3} and a block or page if {@code L + SKL == 3} (Table D8-49), so a leaf's SKL is
 * {@code 3 - L}. A table with SKL &gt; 0 skips levels; this format reports that through
 * {@link #skippedLevels}, the walker follows it and the engine never writes one (as Linux's D128
 * patches do not).
 *
 * <p><b>Permissions.</b> VMSAv9-128 has only indirect permissions (Arm ARM IBSXJT: the effective
 * value of PIE is 1): a leaf holds a 4-bit PIIndex into PIR_EL1 / PIRE0_EL1 and an nDirty bit, and
 * table descriptors have no APTable / UXNTable / PXNTable. The typed {@link Attributes} keep their
 * direct-permission fields and this format stores them as the architecture itself reinterprets a
 * VMSAv8-64 descriptor when TCR2_ELx.PIE=1 (AArch64.S1ApplyOutputPerms): PIIndex =
 * {@code UXN:PXN:DBM:AP[1]} ({@link Attributes#permissionIndex()}) and nDirty = AP[2]. What an
 * index grants is then the PIR's choice; {@link PermissionIndirection#LINUX} is Linux's.
 *
 * <p>AttrIndx[3], POIndex, Protected, nT and the six software bits above the four the typed model
 * carries are not modelled: they decode as nothing, are written as 0 and are kept when a leaf is
 * re-encoded with {@link #encodeLeafLike}.
 */
public record Vmsa128Format(Geometry geometry) implements DescriptorFormat {

    // Low word (descriptor bits [63:0]).
    static final long VALID = 1L;
    static final int ATTR_INDX_SHIFT = 2;
    static final long NT = 1L << 6;
    static final long NDIRTY = 1L << 7;
    static final int SH_SHIFT = 8;
    static final long AF = 1L << 10;
    static final long NG = 1L << 11;
    /** OA / NLTA bits [55:12]. */
    static final long ADDRESS_FIELD = ((1L << 56) - 1) & -(1L << 12);

    // High word (descriptor bits [127:64]): bit n of the descriptor is bit n - 64 here.
    static final int SW_SHIFT_HI = 91 - 64;
    static final int SKL_SHIFT_HI = 109 - 64;
    static final long CONTIGUOUS_HI = 1L << (111 - 64);
    static final long GP_HI = 1L << (113 - 64);
    static final int PI_INDEX_SHIFT_HI = 115 - 64;
    static final long NS_HI = 1L << (127 - 64);

    public Vmsa128Format {
        if (geometry.format() != TranslationFormat.D128) {
            throw new IllegalArgumentException("VMSAv9-128 descriptors need a d128 geometry, got " + geometry.label());
        }
    }

    @Override
    public int descriptorShift() { return 4; }

    /** Descriptor bits that hold OA bits of a leaf at {@code level}: [55:leaf size]. */
    private long oaMask(int level) {
        return ADDRESS_FIELD & -(1L << geometry.shift(level));
    }

    private long tableAddressMask() {
        return ADDRESS_FIELD & -(1L << geometry.pageShift());
    }

    private static int skl(Descriptor d) {
        return (int) (d.hi() >>> SKL_SHIFT_HI) & 3;
    }

    @Override
    public DescriptorKind kind(Descriptor d, int level) {
        if ((d.lo() & VALID) == 0) return DescriptorKind.INVALID;
        int skl = skl(d);
        // AArch64.DecodeDescriptorType: SKL 3 is invalid for 16K and 64K (no such table or block size).
        if (skl == 3 && geometry.granule() != Granule.FOUR_K) return DescriptorKind.RESERVED;
        int effective = level + skl;
        if (effective < 3) return DescriptorKind.TABLE;
        if (effective > 3) return DescriptorKind.RESERVED;
        if (level == 3) return DescriptorKind.PAGE;
        return geometry.blockAllowed(level) ? DescriptorKind.BLOCK : DescriptorKind.RESERVED;
    }

    @Override
    public int skippedLevels(Descriptor d, int level) { return skl(d); }

    @Override
    public long outputAddress(Descriptor d, int level) { return d.lo() & oaMask(level); }

    @Override
    public long tableAddress(Descriptor d) { return d.lo() & tableAddressMask(); }

    @Override
    public Attributes attributes(Descriptor d) {
        long lo = d.lo();
        long hi = d.hi();
        int pi = (int) (hi >>> PI_INDEX_SHIFT_HI) & 0xF;
        int ap = ((lo & NDIRTY) != 0 ? 2 : 0) | (pi & 1);
        return new Attributes((int) (lo >>> ATTR_INDX_SHIFT) & 7, AccessPermission.decode(ap),
                Shareability.decode((int) (lo >>> SH_SHIFT)), (lo & AF) != 0, (lo & NG) != 0, (hi & NS_HI) != 0,
                (pi & 2) != 0, (pi & 4) != 0, (pi & 8) != 0, (hi & GP_HI) != 0, (int) (hi >>> SW_SHIFT_HI) & 0xF);
    }

    /** Only NSTable: the APTable, UXNTable and PXNTable positions are RES0 in VMSAv9-128 (Table D8-56). */
    @Override
    public TableAttributes tableAttributes(Descriptor d) {
        return new TableAttributes(0, false, false, (d.hi() & NS_HI) != 0);
    }

    @Override
    public boolean contiguous(Descriptor d) { return (d.hi() & CONTIGUOUS_HI) != 0; }

    /** The effective value: AArch64.ContiguousBit reads 0 for the 4K level 0 and 64K level 1 blocks. */
    @Override
    public boolean contiguous(Descriptor d, int level) {
        return contiguous(d) && geometry.contiguousEntries(level) > 1;
    }

    @Override
    public void encodeTable(Descriptor out, long tablePa, TableAttributes a) {
        checkAddress(tablePa, geometry.pageShift(), "table");
        if (a.apTable() != 0 || a.unprivilegedExecuteNeverTable() || a.privilegedExecuteNeverTable() || a.domain() != 0) {
            throw new DescriptorEncodingException("VMSAv9-128 table descriptors have no APTable, UXNTable or PXNTable:"
                    + " the format always uses permission indirection, which has no hierarchical permissions;"
                    + " only NSTable can be given");
        }
        out.set(VALID | (tablePa & tableAddressMask()), a.nonSecureTable() ? NS_HI : 0);
    }

    @Override
    public void encodeLeaf(Descriptor out, long pa, int level, Attributes a, boolean contiguous) {
        checkLeaf(level, contiguous);
        checkAddress(pa, geometry.shift(level), "output");
        if (a.domain() != 0) {
            throw new DescriptorEncodingException("VMSAv9-128 has no domains (domain " + a.domain() + ")");
        }
        long lo = VALID
                | ((long) a.attrIndex() << ATTR_INDX_SHIFT)
                | ((a.permission().encoding() & 2) != 0 ? NDIRTY : 0)
                | ((long) a.shareability().encoding() << SH_SHIFT)
                | (a.accessFlag() ? AF : 0)
                | (a.notGlobal() ? NG : 0)
                | (pa & oaMask(level));
        long hi = ((long) a.software() << SW_SHIFT_HI)
                | ((long) (3 - level) << SKL_SHIFT_HI)
                | (contiguous ? CONTIGUOUS_HI : 0)
                | (a.guarded() ? GP_HI : 0)
                | ((long) a.permissionIndex() << PI_INDEX_SHIFT_HI)
                | (a.nonSecure() ? NS_HI : 0);
        out.set(lo, hi);
    }

    @Override
    public void setOutputAddress(Descriptor d, long pa, int level) {
        d.set((d.lo() & ~ADDRESS_FIELD) | (pa & oaMask(level)), d.hi());
    }

    @Override
    public void setContiguous(Descriptor d, boolean contiguous) {
        d.set(d.lo(), contiguous ? d.hi() | CONTIGUOUS_HI : d.hi() & ~CONTIGUOUS_HI);
    }

    @Override
    public void encodeLeafLike(Descriptor out, Descriptor template, int templateLevel, long pa, int level,
                               boolean contiguous) {
        checkLeaf(level, contiguous);
        checkAddress(pa, geometry.shift(level), "output");
        long lo = (template.lo() & ~ADDRESS_FIELD) | (pa & oaMask(level));
        // nT belongs to blocks (SKL != 0) and is RES0 in pages: a block split into pages drops it.
        if (level == 3 && templateLevel != 3) lo &= ~NT;
        long hi = (template.hi() & ~((3L << SKL_SHIFT_HI) | CONTIGUOUS_HI))
                | ((long) (3 - level) << SKL_SHIFT_HI)
                | (contiguous ? CONTIGUOUS_HI : 0);
        out.set(lo, hi);
    }

    @Override
    public boolean sameLeafAttributes(Descriptor a, Descriptor b, int level) {
        return ((a.lo() ^ b.lo()) & ~ADDRESS_FIELD) == 0 && ((a.hi() ^ b.hi()) & ~CONTIGUOUS_HI) == 0;
    }

    private void checkLeaf(int level, boolean contiguous) {
        if (level != 3 && !geometry.blockAllowed(level)) {
            throw new DescriptorEncodingException("no block descriptor is allowed at level " + level + " for "
                    + geometry.label());
        }
        if (contiguous && geometry.contiguousEntries(level) == 1) {
            throw new DescriptorEncodingException("the Contiguous bit is RES0 at level " + level + " for "
                    + geometry.label() + " (Arm ARM D8.7.1)");
        }
    }

    private void checkAddress(long pa, int alignShift, String what) {
        if ((pa & ((1L << alignShift) - 1)) != 0) {
            throw new DescriptorEncodingException(String.format("%s address 0x%x is not aligned to 0x%x", what, pa,
                    1L << alignShift));
        }
        if ((pa >>> geometry.paBits()) != 0) {
            throw new DescriptorEncodingException(String.format("%s address 0x%x does not fit the %d-bit PA size",
                    what, pa, geometry.paBits()));
        }
    }

    @Override
    public String toString() { return "VMSAv9-128[" + geometry.label() + "]"; }
}
