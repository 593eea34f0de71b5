package dev.granule.mmu;

import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.geometry.Geometry;

import java.util.function.IntUnaryOperator;

/**
 * The common TLB miss of one half of a regime checked and cached by table look-ups, built once
 * from the regime's registers (an {@link Mmu}'s registers never change; new values are a new Mmu):
 * the rights of every combination of a leaf's AP[2:1], PXN, UXN and its tables' APTable, UXNTable,
 * PXNTable bits, the MAIR attribute of every AttrIndx, the shareability of every SH field, and the
 * TLB entry info of every level. Each table entry is computed by the code of {@link Mmu}'s general
 * leaf check, so the answers cannot differ from it.
 *
 * <p>It answers only the common case: a VMSAv8-64 leaf with AF set, no Contiguous bit, rights that
 * permit the access (so no fault and no hardware update of the descriptor), an output address
 * within the PA size and a span no larger than it, direct permissions (no PIE/POE). Anything else
 * answers {@link #GENERAL}, and the MMU checks that leaf the general way.
 */
final class LeafCheckTables {

    /** What {@link #check} answers where the general leaf check must run. */
    static final long GENERAL = Long.MIN_VALUE;

    private static final long AF = 1L << 10;
    private static final long NG = 1L << 11;
    private static final long CONTIGUOUS = 1L << 52;
    /** The bits of the ORed table descriptors the rights index takes: PXNTable, UXNTable, APTable[1:0]. */
    static final int TABLE_BITS_SHIFT = 59;

    // Index: AP[2:1] (leaf bits 7:6) | PXN, UXN (leaf bits 54:53) << 2 | tables' bits 62:59 << 4.
    // The rights in the low half; in the high half, bit 2 x access + (EL0 ? 0 : 1) set where
    // Permissions.permitted allows that access with those rights under this regime's PAN (it tells
    // EL0 from the other ELs only): the miss's permission check is one bit test of the same load.
    private final long[] rights = new long[256];
    // 0xF0 where the tables' bits count, 0 where HPDn turns hierarchical permissions off.
    private final int tableIndexMask;
    // The TLB entry info (level | MAIR/MAIR2 attribute of AttrIndx << 8 | shareability encoding of
    // SH << 16 | log2(span) << 24) of every level, SH and AttrIndx, indexed level | SH << 2 |
    // AttrIndx << 4: one load where three tables took three.
    private final int[] info = new int[4 * 4 * 16];
    // log2 of a leaf's span at level L in byte L: the same as the info entry's bits 24..29, but from
    // the walk's level alone, so that the fill's set (which needs it) does not wait for the info load.
    private final long levelShifts;
    private final long paLimit;
    private final int paBits;
    private final int context;
    private final int asid;
    // Every leaf non-global: TCR2_EL1.FNGn (FEAT_ASID2) for this half.
    private final boolean forceNonGlobal;
    // TCR2_EL1.AIE: AttrIndx[3] is leaf bit 59 and indices 8..15 read MAIR2.
    private final int attrIndexMask;
    private final boolean singleRange;

    /**
     * @param directRights the general check's rights of a leaf, called with an index of {@link #rights}
     *                     (the MMU decodes the leaf and table bits the index stands for)
     */
    LeafCheckTables(TranslationRegime regime, TranslationRegime.Half half, int context, IntUnaryOperator directRights) {
        boolean pan = regime.pan();
        for (int i = 0; i < rights.length; i++) {
            int perms = directRights.applyAsInt(i);
            long permitted = 0;
            for (Access access : Access.values()) {
                if (Permissions.permitted(perms, access, 0, pan)) permitted |= 1L << permittedBit(access, 0);
                if (Permissions.permitted(perms, access, 1, pan)) permitted |= 1L << permittedBit(access, 1);
            }
            rights[i] = permitted << 32 | (perms & 0xFFFF_FFFFL);
        }
        this.tableIndexMask = half.hpd() ? 0 : 0xF0;
        this.attrIndexMask = regime.attributeIndexExtension() ? 15 : 7;
        DescriptorFormat f = half.format();
        Geometry g = half.geometry();
        for (int a = 0; a <= attrIndexMask; a++) {
            for (int sh = 0; sh < 4; sh++) {
                int shareability = f.attributes(new Descriptor().set(AF | (long) sh << 8, 0)).shareability().encoding();
                for (int level = Math.max(0, g.startLevel()); level < 4; level++) {   // no leaf above level 0
                    info[level | sh << 2 | a << 4] = level | regime.mairAttr(a) << 8 | shareability << 16
                            | Long.numberOfTrailingZeros(g.entrySpan(level)) << 24;
                }
            }
        }
        long shifts = 0;
        for (int level = 0; level < 4; level++) shifts |= (long) Long.numberOfTrailingZeros(g.entrySpan(level)) << 8 * level;
        this.levelShifts = shifts;
        this.paBits = regime.paBits();
        this.paLimit = paBits == 64 ? -1L : (1L << paBits) - 1;
        this.context = context;
        boolean upperHalf = half == regime.upper();
        this.asid = regime.asid(upperHalf);
        this.forceNonGlobal = regime.forceNonGlobal(upperHalf);
        this.singleRange = regime.kind().singleRange();
    }

    /** The bit of a {@link #rights} entry's high half that says whether {@code access} at EL{@code el} is permitted. */
    private static int permittedBit(Access access, int el) {
        return access.ordinal() << 1 | (el == 0 ? 0 : 1);
    }

    /** The leaf descriptor and table descriptor bits that {@link #rights} index {@code i} stands for. */
    static long leafBitsOf(int index) {
        return (long) (index & 3) << 6 | (long) (index >>> 2 & 3) << 53;
    }

    static long tableBitsOf(int index) {
        return (long) (index >>> 4) << TABLE_BITS_SHIFT;
    }

    /**
     * The output address of {@code va} through leaf {@code lo} at {@code level} (output address
     * {@code oa}, under tables whose descriptors ORed are {@code tables}), cached in {@code tlb};
     * or {@link #GENERAL} where the leaf is not the common case.
     */
    long check(Tlb tlb, long va, long lo, long oa, long tables, int level, Access access, int el) {
        if ((lo & (AF | CONTIGUOUS)) != AF) return GENERAL;
        long r = rights[(int) (lo >>> 6) & 3 | (int) (lo >>> 51) & 0xC | (int) (tables >>> (TABLE_BITS_SHIFT - 4)) & tableIndexMask];
        if ((r >>> 32 + permittedBit(access, el) & 1) == 0) return GENERAL;
        int perms = (int) r;
        // AttrIndx[2:0] from bits 4:2, and under AIE AttrIndx[3] from bit 59 (bit 3 of the index).
        int attrIndex = ((int) (lo >>> 2) & 7 | (int) (lo >>> 56) & 8) & attrIndexMask;
        int info = this.info[level | (int) (lo >>> 6) & 0xC | attrIndex << 4];
        int shift = (int) (levelShifts >>> (level << 3)) & 0xFF;
        long pa = oa | (va & ((1L << shift) - 1));
        if (Long.compareUnsigned(pa, paLimit) > 0 || shift > paBits) return GENERAL;
        boolean global = singleRange || (lo & NG) == 0 && !forceNonGlobal;
        tlb.fill(va, oa, shift, context, global ? -1 : asid, perms, info);
        return pa;
    }
}
