package dev.granule.table;

import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.PhysicalMemory;

import java.lang.invoke.MethodHandles;

/**
 * The MMU's VMSAv9-128 TLB-miss walk as a template that {@link HiddenSpecialisation} copies once per
 * geometry and start level ({@link Vmsa128Start}), as {@link Vmsa64LeafWalk} is copied per geometry:
 * in each copy the granule, the stride, the start level, its table's index mask and the Contiguous
 * run length of every level are constants to the JIT. Skip-level table descriptors are followed as
 * they occur (their SKL is data, not geometry).
 *
 * <p>It takes the steps of the MMU's reference descent ({@code dev.granule.mmu.D128Walk}, the Arm
 * ARM's AArch64.S1Walk with d128 = 1) in the same order, and answers 0 wherever that one reports a
 * fault, so the MMU's answers stay the same: the MMU then walks again with the reference descent,
 * which names the fault and its level. Descriptors are two longs read straight from memory (the
 * low word at the lower address, as {@link Slot} reads them).
 *
 * <p>Kept free of lambdas, enum switches and nested classes, which a copy would share by name with
 * the template.
 */
final class Vmsa128LeafWalk implements LeafWalk128 {

    /** This copy's geometry and start level: the class data of a hidden copy, null in the template. */
    private static final Vmsa128Start START =
            HiddenSpecialisation.classData(MethodHandles.lookup(), Vmsa128Start.class);

    // Descriptor bits (Arm ARM VMSAv9-128 layouts; the high word holds bits [127:64]).
    private static final long VALID = 1L;
    private static final long ADDRESS_55_0 = (1L << 56) - 1;
    private static final int SKL_SHIFT_HI = 109 - 64;
    private static final long CONTIGUOUS_HI = 1L << (111 - 64);
    private static final long DISCH_HI = 1L << (112 - 64);

    // The copy's constants, derived once from START (0 in the template, which is never used).
    private static final int PAGE_SHIFT = START == null ? 0 : START.format().geometry().pageShift();
    private static final int STRIDE = START == null ? 0 : START.format().geometry().bitsPerLevel();
    private static final int START_LEVEL = START == null ? 0 : START.startLevel();
    /** The start-level table resolves every VA bit from the top of the range down to its level. */
    private static final long ROOT_MASK = START == null ? 0
            : (1L << (START.format().geometry().vaBits() - shift(START_LEVEL))) - 1;
    /** Whether SKL 3 is a valid skip: only with the 4K granule (AArch64.DecodeDescriptorType). */
    private static final boolean SKL3_ALLOWED = PAGE_SHIFT == 12;
    /**
     * log2 of the Contiguous run length at each level -2..3, a byte per level from the bottom (0 where
     * the bit is RES0): {@link Geometry#contiguousEntries} folded into one constant.
     */
    private static final long RUN_SHIFTS = START == null ? 0 : runShifts(START.format().geometry());

    private final PhysicalMemory memory;
    private final long root;
    private final long paLimit;
    private final boolean disableContiguous;
    // Memory that is one range of RAM (the common case) is checked with one unsigned compare; else
    // (ramBytes 0) through PhysicalMemory.contains, which loops over the ranges.
    private final long ramBase;
    private final long ramBytes;
    private long high;
    private int level;
    private long leafAddress;
    private boolean contiguous;

    Vmsa128LeafWalk(PhysicalMemory memory, long root, long paLimit, boolean disableContiguous) {
        if (START == null) throw new IllegalStateException("the template walk is not for use; see GeometryCopies");
        this.memory = memory;
        this.root = root;
        this.paLimit = paLimit;
        this.disableContiguous = disableContiguous;
        var ranges = memory.ranges();
        boolean one = ranges.size() == 1 && ranges.getFirst().size() >= 16;
        this.ramBase = one ? ranges.getFirst().base() : 0;
        this.ramBytes = one ? ranges.getFirst().size() : 0;
    }

    private static long runShifts(Geometry g) {
        long packed = 0;
        for (int level = Geometry.MIN_LEVEL; level <= Geometry.MAX_LEVEL; level++) {
            packed |= (long) Integer.numberOfTrailingZeros(g.contiguousEntries(level)) << ((level - Geometry.MIN_LEVEL) << 3);
        }
        return packed;
    }

    /** Lowest VA bit level {@code level} resolves. */
    private static int shift(int level) {
        return PAGE_SHIFT + STRIDE * (3 - level);
    }

    /** Whether the 16 bytes at {@code address} are RAM, as {@link PhysicalMemory#contains} answers. */
    private boolean inRam(long address) {
        if (ramBytes == 0) return memory.contains(address, 16);
        return Long.compareUnsigned(address - ramBase, ramBytes - 16) <= 0;
    }

    @Override
    public long leaf(long va) {
        int lvl = START_LEVEL;
        int shift = shift(lvl);
        long index = (va >>> shift) & ROOT_MASK;
        long table = root;
        boolean disch = disableContiguous;
        try {
            while (true) {
                long address = table + (index << 4);
                if (!inRam(address)) return 0;
                long lo = memory.readLong(address);
                if ((lo & VALID) == 0) return 0;
                long hi = memory.readLong(address + 8);
                int skl = (int) (hi >>> SKL_SHIFT_HI) & 3;
                // AArch64.DecodeDescriptorType with d128 = 1: no type bit; level + SKL decides.
                if (skl == 3 && !SKL3_ALLOWED) return 0;
                int effective = lvl + skl;
                if (effective > 3) return 0;
                if (effective == 3) {
                    // A leaf: a page at level 3, a block at level 3 - SKL. StageOA: the leaf's base
                    // above the run (the Contiguous run where it is in effect), the VA below it.
                    int run = (int) (RUN_SHIFTS >>> ((lvl - Geometry.MIN_LEVEL) << 3)) & 0xFF;
                    boolean cont = !disch && (hi & CONTIGUOUS_HI) != 0 && run != 0;
                    int runShift = cont ? shift + run : shift;
                    long oa = (lo & ADDRESS_55_0 & -(1L << runShift)) | (va & ((1L << runShift) - 1));
                    if (Long.compareUnsigned(oa, paLimit) > 0) return 0;
                    this.high = hi;
                    this.level = lvl;
                    this.leafAddress = address;
                    this.contiguous = cont;
                    return lo;
                }
                // A table: the next one is at level + 1 + SKL, resolves SKL + 1 strides of VA bits and
                // is aligned to its own size (AArch64.NextTableBase), at least a granule.
                int nextBits = STRIDE * (skl + 1);
                table = lo & ADDRESS_55_0 & -(1L << PAGE_SHIFT) & -(1L << (nextBits + 4));
                if (Long.compareUnsigned(table, paLimit) > 0) return 0;
                disch = (hi & DISCH_HI) != 0;
                lvl = effective + 1;
                shift -= nextBits;
                index = (va >>> shift) & ((1L << nextBits) - 1);
            }
        } catch (MemoryAccessException e) {
            return 0; // a dump's page that is not in the dump: the reference descent reports it
        }
    }

    @Override
    public long high() { return high; }

    @Override
    public int level() { return level; }

    @Override
    public long leafAddress() { return leafAddress; }

    @Override
    public boolean contiguous() { return contiguous; }
}
