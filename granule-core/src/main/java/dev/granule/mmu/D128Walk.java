package dev.granule.mmu;

import dev.granule.format.Descriptor;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.Slot;

/**
 * The table descent of a VMSAv9-128 stage-1 walk (FEAT_D128), as the Arm ARM's AArch64.S1Walk does
 * it with d128 = 1: from the TTBR's table at AArch64.S1StartLevel (TxSZ's level plus TTBR.SKL, down to
 * level -2) to the leaf, following table descriptors whose SKL field skips levels. A table reached
 * through SKL = s is one table of {@code 2^(stride*(s+1))} entries (AArch64.TTEntryAddress,
 * AArch64.NextTableBase aligns its base to that size); so is a start-level table under TTBR.SKL.
 *
 * <p>It stops at the leaf, with the descriptor in {@link Mmu}'s scratch and the slot on it, so that
 * the access flag, permissions, hardware updates and the TLB entry are the 64-bit path's code; the
 * checks here are the ones the pseudocode makes before those: translation faults (invalid
 * descriptor, SKL 3 with 16K/64K, a level + SKL beyond 3, a start level beyond 3), address size
 * faults (the TTBR's table at level 0, a next table at its table descriptor's level, the output
 * address StageOA forms from the leaf, Contiguous run included, at the leaf's level) and external
 * aborts on descriptors outside RAM. With TCR2_EL1.HAFT (FEAT_HAFT) it sets the Access flag, bit 10, of
 * each table descriptor it follows, as AArch64.S1Walk does for d128 = 1 as for VMSAv8-64 (under stage
 * 2, a stage-2 write to the descriptor's IPA). Not modelled: FEAT_BBM's nT faults, the
 * IMPLEMENTATION DEFINED fault on a Contiguous run wider than the VA range (this model does not fault).
 */
final class D128Walk {

    // Descriptor bits (Arm ARM VMSAv9-128 layouts; high word holds bits [127:64]).
    private static final long VALID = 1L;
    private static final long ADDRESS_47_0 = (1L << 48) - 1;
    private static final long ADDRESS_55_48 = 0xFFL << 48;
    private static final int SKL_SHIFT_HI = 109 - 64;
    private static final long CONTIGUOUS_HI = 1L << (111 - 64);
    private static final long DISCH_HI = 1L << (112 - 64);
    // A table descriptor's Access flag under FEAT_HAFT (the VMSAv9-128 table layout's bit 10).
    private static final long TABLE_AF = 1L << 10;

    private final PhysicalMemory memory;
    private final Stage2Walker stage2Walker;
    // TCR2_EL1.HAFT in effect: table descriptors' AF is set by the walk.
    private final boolean hardwareTableAccessFlag;
    private Translation.Fault fault;
    // What the leaf left for Mmu: whether its Contiguous bit counts (after DisCH).
    private boolean contiguous;
    // The address of the descriptor last read, before stage 2 (an IPA under stage 2): Mmu's hardware
    // update of the leaf is a write to it that stage 2 must permit.
    private long descriptorIpa;

    D128Walk(PhysicalMemory memory, Stage2Walker stage2Walker, boolean hardwareTableAccessFlag) {
        this.memory = memory;
        this.stage2Walker = stage2Walker;
        this.hardwareTableAccessFlag = hardwareTableAccessFlag;
    }

    /** Sentinel level of {@link #descend} when it ended in a fault. */
    static final int FAULTED = Integer.MIN_VALUE;

    /** The fault of the last {@link #descend} that returned {@link #FAULTED}. */
    Translation.Fault fault() { return fault; }

    /** Whether the leaf's Contiguous bit is in effect: set, not RES0 at its level, not disabled by DisCH. */
    boolean contiguous() { return contiguous; }

    /** The leaf's address as stage 1 sees it (an IPA under stage 2), after a {@link #descend} that found one. */
    long descriptorIpa() { return descriptorIpa; }

    /**
     * Walks to the leaf of {@code va}: returns its level with {@code slot} on it and {@code d} holding
     * it, or {@link #FAULTED}. {@code paLimit} is the largest PA the regime outputs.
     */
    int descend(long va, TranslationRegime.Half half, long paLimit, Slot slot, Descriptor d, int el) {
        Geometry g = half.geometry();
        int granuleBits = g.pageShift();
        int stride = g.bitsPerLevel();
        int level = half.startLevel();
        if (level > 3) {
            return fault(va, FaultType.TRANSLATION, 0, "TTBR.SKL " + half.skl() + " skips past level 3");
        }
        long table = half.root();
        // The start-level table resolves every VA bit from the top of the range down to its level.
        long index = (va >>> shift(level, granuleBits, stride)) & ((1L << (g.vaBits() - shift(level, granuleBits, stride))) - 1);
        if (Long.compareUnsigned(table, paLimit) > 0) {
            return fault(va, FaultType.ADDRESS_SIZE, 0, "TTBR base address beyond the PA size");
        }
        boolean disch = half.disableContiguous();
        while (true) {
            slot.at(table, index);
            descriptorIpa = slot.address();
            if (stage2Walker != null) {
                // The descriptor's address is an IPA: stage 2 translates it (a read, S1PTW).
                Stage2Walker.Mapped m = stage2Walker.walk(va, slot.address(), Access.READ, el, true);
                if (m == null) {
                    fault = stage2Walker.fault();
                    return FAULTED;
                }
                slot.at(m.pa(), 0);
            }
            if (!memory.contains(slot.address(), 16)) {
                return fault(va, FaultType.EXTERNAL_ABORT_ON_WALK, level,
                        String.format("descriptor at PA 0x%x is not RAM", slot.address()));
            }
            slot.read(d);
            long lo = d.lo();
            long hi = d.hi();
            int skl = (int) (hi >>> SKL_SHIFT_HI) & 3;
            // AArch64.DecodeDescriptorType with d128 = 1: no type bit; level + SKL decides.
            if ((lo & VALID) == 0) return fault(va, FaultType.TRANSLATION, level, "invalid descriptor " + d);
            if (skl == 3 && granuleBits != 12) {
                return fault(va, FaultType.TRANSLATION, level, "SKL 3 with the " + g.granule().label() + " granule " + d);
            }
            if (level + skl > 3) {
                return fault(va, FaultType.TRANSLATION, level, "level " + level + " + SKL " + skl + " is beyond 3 " + d);
            }
            if (level + skl == 3) {
                // A leaf: a page at level 3, a block at level 3 - SKL.
                contiguous = !disch && (hi & CONTIGUOUS_HI) != 0 && g.contiguousEntries(level) > 1;
                int runShift = shift(level, granuleBits, stride)
                        + (contiguous ? Integer.numberOfTrailingZeros(g.contiguousEntries(level)) : 0);
                // StageOA: the leaf's base above the run, the VA below it.
                long base = (lo & ADDRESS_47_0 & -(1L << shift(level, granuleBits, stride))) | (lo & ADDRESS_55_48);
                long oa = (base & -(1L << runShift)) | (va & ((1L << runShift) - 1));
                if (Long.compareUnsigned(oa, paLimit) > 0) {
                    return fault(va, FaultType.ADDRESS_SIZE, level, "output address beyond the PA size");
                }
                return level;
            }
            // A table: the next one is at level + 1 + SKL and resolves SKL + 1 strides of VA bits.
            int next = level + 1 + skl;
            int nextBits = stride * (skl + 1);
            long nextBase = (lo & ADDRESS_47_0 & -(1L << granuleBits) & -(1L << (nextBits + 4))) | (lo & ADDRESS_55_48);
            if (Long.compareUnsigned(nextBase, paLimit) > 0) {
                return fault(va, FaultType.ADDRESS_SIZE, level, "table address beyond the PA size");
            }
            if (hardwareTableAccessFlag && (lo & TABLE_AF) == 0) {
                // Under stage 2 the write must be permitted there first (DescriptorUpdate).
                if (!DescriptorUpdate.write(d, slot, lo | TABLE_AF, stage2Walker, va, descriptorIpa, el)) {
                    fault = stage2Walker.fault();
                    return FAULTED;
                }
            }
            disch = (hi & DISCH_HI) != 0;
            table = nextBase;
            index = (va >>> shift(next, granuleBits, stride)) & ((1L << nextBits) - 1);
            level = next;
        }
    }

    /** Lowest VA bit level {@code level} resolves. */
    private static int shift(int level, int granuleBits, int stride) {
        return granuleBits + stride * (3 - level);
    }

    private int fault(long va, FaultType type, int level, String detail) {
        fault = new Translation.Fault(va, type, level, detail);
        return FAULTED;
    }
}
