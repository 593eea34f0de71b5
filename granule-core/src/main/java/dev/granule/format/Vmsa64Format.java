package dev.granule.format;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;

/**
 * VMSAv8-64 stage-1 descriptors (Arm ARM D8.3, "Translation table descriptor formats"), including
 * the two 52-bit output-address forms:
 * <ul>
 *   <li>64K granule with FEAT_LPA: OA[51:48] (and next-level table address [51:48]) in bits [15:12];
 *   <li>4K/16K granule with FEAT_LPA2 (TCR.DS=1): OA[49:48] in bits [49:48] and OA[51:50] in
 *       bits [9:8], which is why such descriptors have no SH field (shareability then comes from
 *       TCR.SHn, given here as {@code regimeShareability}).
 * </ul>
 *
 * <p>Field positions: [1:0] type, [4:2] AttrIndx, [5] NS, [7:6] AP[2:1], [9:8] SH, [10] AF,
 * [11] nG, [50] GP, [51] DBM, [52] Contiguous, [53] PXN, [54] UXN, [58:55] software;
 * table descriptors: [59] PXNTable, [60] UXNTable, [62:61] APTable, [63] NSTable.
 */
public record Vmsa64Format(Geometry geometry, Shareability regimeShareability) implements DescriptorFormat {

    static final long VALID = 1L;
    static final long TYPE_TABLE_OR_PAGE = 0b11L;
    static final long TYPE_BLOCK = 0b01L;
    static final int ATTR_INDX_SHIFT = 2;
    static final long NS = 1L << 5;
    static final int AP_SHIFT = 6;
    static final int SH_SHIFT = 8;
    static final long AF = 1L << 10;
    static final long NG = 1L << 11;
    static final long GP = 1L << 50;
    static final long DBM = 1L << 51;
    static final long CONTIGUOUS = 1L << 52;
    static final long PXN = 1L << 53;
    static final long UXN = 1L << 54;
    static final int SW_SHIFT = 55;
    static final long PXN_TABLE = 1L << 59;
    static final long UXN_TABLE = 1L << 60;
    static final int AP_TABLE_SHIFT = 61;
    static final long NS_TABLE = 1L << 63;

    public Vmsa64Format {
        if (geometry.format() != TranslationFormat.D64 && geometry.format() != TranslationFormat.LPAE) {
            throw new IllegalArgumentException("VMSAv8-64 descriptors need a d64 or lpae geometry, got "
                    + geometry.label());
        }
        if (regimeShareability == null) throw new IllegalArgumentException("regime shareability is required");
    }

    // Derived values are recomputed from the geometry rather than cached in arrays: a record's
    // fields are trusted as final by HotSpot, so with a constant format every mask below folds to
    // a constant, and with a runtime one it is a couple of ALU operations on values in registers.

    /** TCR.DS=1 form: OA[51:50] lives in bits [9:8]. */
    private boolean ds() { return geometry.lpa2(); }

    /**
     * 64K granule: OA[51:48] (and a next table's [51:48]) lives in bits [15:12]. The Arm ARM
     * (AArch64.LeafBase, AArch64.NextTableBase) takes them when the CPU implements a 52-bit PA, and
     * leaves it IMPLEMENTATION DEFINED below that; they are decoded for every 64K geometry, so a
     * non-zero value there is an output address beyond a smaller PA size (QEMU ignores them then),
     * and a dump's candidate search sees tables of another granule as such.
     */
    private boolean lpa64() { return geometry.pageShift() == 16; }

    /** Highest descriptor bit that holds an address bit in place: 39 for LPAE, 49 with DS, else 47. */
    private int addressTop() {
        return geometry.format() == TranslationFormat.LPAE ? 39 : ds() ? 49 : 47;
    }

    /** Descriptor bits that hold OA bits at their own position for a leaf at {@code level}. */
    private long oaMask(int level) {
        return ((1L << (addressTop() + 1)) - 1) & -(1L << geometry.shift(level));
    }

    private long tableAddressMask() {
        return ((1L << (addressTop() + 1)) - 1) & -(1L << geometry.pageShift());
    }

    @Override
    public int descriptorShift() { return 3; }

    @Override
    public DescriptorKind kind(Descriptor d, int level) {
        return kind(d.lo(), level);
    }

    @Override
    public long outputAddress(Descriptor d, int level) {
        return outputAddress(d.lo(), level);
    }

    @Override
    public long tableAddress(Descriptor d) {
        return tableAddress(d.lo());
    }

    // The same three decodes on a descriptor held as a plain long, for walks that read 64-bit
    // descriptors straight from memory without a Descriptor in between.

    public DescriptorKind kind(long descriptor, int level) {
        if ((descriptor & VALID) == 0) return DescriptorKind.INVALID;
        if ((descriptor & 2) != 0) return level == 3 ? DescriptorKind.PAGE : DescriptorKind.TABLE;
        return geometry.blockAllowed(level) ? DescriptorKind.BLOCK : DescriptorKind.RESERVED;
    }

    public long outputAddress(long descriptor, int level) {
        return decodeAddress(descriptor, oaMask(level));
    }

    public long tableAddress(long descriptor) {
        return decodeAddress(descriptor, tableAddressMask());
    }

    private long decodeAddress(long lo, long mask) {
        long pa = lo & mask;
        if (ds()) pa |= ((lo >>> 8) & 3) << 50;
        if (lpa64()) pa |= ((lo >>> 12) & 0xF) << 48;
        return pa;
    }

    private long encodeAddress(long pa, long mask) {
        long bits = pa & mask;
        if (ds()) bits |= ((pa >>> 50) & 3) << 8;
        if (lpa64()) bits |= ((pa >>> 48) & 0xF) << 12;
        return bits;
    }

    @Override
    public Attributes attributes(Descriptor d) {
        long lo = d.lo();
        Shareability sh = ds() ? regimeShareability : Shareability.decode((int) (lo >>> SH_SHIFT));
        return new Attributes((int) (lo >>> ATTR_INDX_SHIFT) & 7, AccessPermission.decode((int) (lo >>> AP_SHIFT)), sh,
                (lo & AF) != 0, (lo & NG) != 0, (lo & NS) != 0, (lo & DBM) != 0,
                (lo & PXN) != 0, (lo & UXN) != 0, (lo & GP) != 0, (int) (lo >>> SW_SHIFT) & 0xF);
    }

    @Override
    public TableAttributes tableAttributes(Descriptor d) {
        long lo = d.lo();
        return new TableAttributes((int) (lo >>> AP_TABLE_SHIFT) & 3, (lo & UXN_TABLE) != 0, (lo & PXN_TABLE) != 0,
                (lo & NS_TABLE) != 0);
    }

    @Override
    public boolean contiguous(Descriptor d) { return (d.lo() & CONTIGUOUS) != 0; }

    @Override
    public void encodeTable(Descriptor out, long tablePa, TableAttributes a) {
        checkAddress(tablePa, geometry.pageShift(), "table");
        if (a.domain() != 0) {
            throw new DescriptorEncodingException(geometry.format().archName() + " table descriptors have no domain");
        }
        long lo = TYPE_TABLE_OR_PAGE | encodeAddress(tablePa, tableAddressMask())
                | ((long) a.apTable() << AP_TABLE_SHIFT)
                | (a.unprivilegedExecuteNeverTable() ? UXN_TABLE : 0)
                | (a.privilegedExecuteNeverTable() ? PXN_TABLE : 0)
                | (a.nonSecureTable() ? NS_TABLE : 0);
        out.set(lo, 0);
    }

    @Override
    public void encodeLeaf(Descriptor out, long pa, int level, Attributes a, boolean contiguous) {
        if (level != 3 && !geometry.blockAllowed(level)) {
            throw new DescriptorEncodingException("no block descriptor is allowed at level " + level + " for "
                    + geometry.label());
        }
        checkAddress(pa, geometry.shift(level), "output");
        if (geometry.format() == TranslationFormat.LPAE && (a.dirtyBitModifier() || a.guarded())) {
            throw new DescriptorEncodingException("Armv7 LPAE descriptors have no DBM or GP bit");
        }
        if (a.domain() != 0) {
            throw new DescriptorEncodingException(geometry.format().archName() + " has no domains (domain "
                    + a.domain() + "); domains are an Armv7 short-descriptor attribute");
        }
        long lo = (level == 3 ? TYPE_TABLE_OR_PAGE : TYPE_BLOCK)
                | encodeAddress(pa, oaMask(level))
                | ((long) a.attrIndex() << ATTR_INDX_SHIFT)
                | (a.nonSecure() ? NS : 0)
                | ((long) a.permission().encoding() << AP_SHIFT)
                | (ds() ? 0 : (long) a.shareability().encoding() << SH_SHIFT)
                | (a.accessFlag() ? AF : 0)
                | (a.notGlobal() ? NG : 0)
                | (a.guarded() ? GP : 0)
                | (a.dirtyBitModifier() ? DBM : 0)
                | (contiguous ? CONTIGUOUS : 0)
                | (a.privilegedExecuteNever() ? PXN : 0)
                | (a.unprivilegedExecuteNever() ? UXN : 0)
                | ((long) a.software() << SW_SHIFT);
        out.set(lo, 0);
    }

    @Override
    public void setOutputAddress(Descriptor d, long pa, int level) {
        d.set(withOutputAddress(d.lo(), pa, level), 0);
    }

    /** Leaf {@code descriptor} at {@code level} with its output address replaced by {@code pa} (aligned, in range). */
    public long withOutputAddress(long descriptor, long pa, int level) {
        return (descriptor & ~addressBits(level)) | encodeAddress(pa, oaMask(level));
    }

    @Override
    public void setContiguous(Descriptor d, boolean contiguous) {
        d.set(contiguous ? d.lo() | CONTIGUOUS : d.lo() & ~CONTIGUOUS, 0);
    }

    @Override
    public void encodeLeafLike(Descriptor out, Descriptor template, int templateLevel, long pa, int level,
                               boolean contiguous) {
        if (level != 3 && !geometry.blockAllowed(level)) {
            throw new DescriptorEncodingException("no block descriptor is allowed at level " + level + " for "
                    + geometry.label());
        }
        checkAddress(pa, geometry.shift(level), "output");
        long lo = (template.lo() & ~(addressBits(level) | TYPE_TABLE_OR_PAGE | CONTIGUOUS))
                | (level == 3 ? TYPE_TABLE_OR_PAGE : TYPE_BLOCK)
                | encodeAddress(pa, oaMask(level))
                | (contiguous ? CONTIGUOUS : 0);
        out.set(lo, 0);
    }

    @Override
    public boolean sameLeafAttributes(Descriptor a, Descriptor b, int level) {
        long ignore = addressBits(level) | CONTIGUOUS;
        return ((a.lo() ^ b.lo()) & ~ignore) == 0;
    }

    /** Every descriptor bit that holds output-address bits of a leaf at {@code level}. */
    private long addressBits(int level) {
        return oaMask(level) | (ds() ? 0x300L : 0) | (lpa64() ? 0xF000L : 0);
    }

    private void checkAddress(long pa, int alignShift, String what) {
        if ((pa & ((1L << alignShift) - 1)) != 0) {
            throw new DescriptorEncodingException(String.format("%s address 0x%x is not aligned to 0x%x", what, pa,
                    1L << alignShift));
        }
        if (geometry.paBits() < 64 && (pa >>> geometry.paBits()) != 0) {
            throw new DescriptorEncodingException(String.format("%s address 0x%x does not fit the %d-bit PA size", what,
                    pa, geometry.paBits()));
        }
    }

    @Override
    public String toString() { return "VMSAv8-64[" + geometry.label() + "]"; }
}
