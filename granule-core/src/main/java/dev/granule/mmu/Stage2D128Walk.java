package dev.granule.mmu;

import dev.granule.format.Descriptor;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.Slot;

/**
 * The table descent of a VMSAv9-128 stage-2 walk (VTCR_EL2.D128, FEAT_D128), as the Arm ARM's
 * AArch64.S2Walk does it with d128 = 1: from VTTBR_EL2's table at AArch64.S2StartLevel (T0SZ's level plus
 * VTTBR_EL2.SKL; no concatenated tables) to the leaf, following table descriptors whose SKL [110:109]
 * skips levels (the next table then resolves SKL + 1 strides of IPA bits and is aligned to its size,
 * AArch64.NextTableBase and S2TTEntryAddress). Descriptor type by AArch64.DecodeDescriptorType: valid
 * [0], then level + SKL below 3 a table, equal to 3 a block or page, above 3 (or SKL 3 with 16K/64K)
 * invalid. Stage-2 table descriptors carry no DisCH (bit 112 is RES0 there).
 *
 * <p>It stops at the leaf with the descriptor in the caller's scratch and the slot on it, so that the
 * Access flag, permissions and hardware updates are {@link Stage2Walker}'s code for both formats. The
 * faults it reports, at the pseudocode's levels: address size at level 0 for a first descriptor
 * address beyond the PA size, at a table descriptor's level for the next table's, at the leaf's for
 * the output address (StageOA: with an effective Contiguous bit [111] the bits below the run come from
 * the IPA); translation for invalid descriptors; external abort on descriptors outside RAM. With
 * VTCR_EL2.HAFT it sets each followed table descriptor's Access flag (bit 10), keeping its high word.
 * Not modelled: FEAT_BBML1's nT faults, the IMPLEMENTATION DEFINED fault on a Contiguous run wider than
 * the IPA size, FEAT_THE's AssuredOnly [114].
 */
final class Stage2D128Walk {

    /** Sentinel level of {@link #descend} when it ended in a fault. */
    static final int FAULTED = Integer.MIN_VALUE;

    private static final long VALID = 1L;
    private static final long ADDRESS_47_0 = (1L << 48) - 1;
    private static final long ADDRESS_55_48 = 0xFFL << 48;
    private static final int SKL_SHIFT_HI = 109 - 64;
    private static final long CONTIGUOUS_HI = 1L << (111 - 64);
    private static final long TABLE_AF = 1L << 10;

    private final Stage2Regime regime;
    private final PhysicalMemory memory;
    private Translation.Fault fault;
    // The output address of the last leaf found: the leaf's base with the IPA's offset (StageOA).
    private long outputAddress;

    Stage2D128Walk(Stage2Regime regime, PhysicalMemory memory) {
        this.regime = regime;
        this.memory = memory;
    }

    /** The fault of the last {@link #descend} that returned {@link #FAULTED}. */
    Translation.Fault fault() { return fault; }

    /** The output address of {@code ipa} after a {@link #descend} that found its leaf. */
    long outputAddress() { return outputAddress; }

    /**
     * Walks to the leaf of {@code ipa}: returns its level with {@code slot} on it and {@code d} holding
     * it, or {@link #FAULTED}. {@code va} and {@code s1ptw} only describe the fault.
     */
    int descend(long va, long ipa, boolean s1ptw, long paLimit, Slot slot, Descriptor d) {
        Geometry g = regime.geometry();
        int granuleBits = g.pageShift();
        int stride = granuleBits - 4;
        int level = regime.startLevel();
        long table = regime.root();
        slot.at(table, (ipa >>> g.shift(level)) & (regime.rootEntries() - 1));
        // AArch64.S2Walk: the first descriptor's address is checked against the PA size, at level 0.
        if (Long.compareUnsigned(slot.address(), paLimit) > 0) {
            return fail(va, ipa, FaultType.ADDRESS_SIZE, 0, "VTTBR base address beyond the PA size", s1ptw);
        }
        while (true) {
            if (!memory.contains(slot.address(), 16)) {
                return fail(va, ipa, FaultType.EXTERNAL_ABORT_ON_WALK, level,
                        String.format("stage-2 descriptor at PA 0x%x is not RAM", slot.address()), s1ptw);
            }
            slot.read(d);
            long lo = d.lo(), hi = d.hi();
            int skl = (int) (hi >>> SKL_SHIFT_HI) & 3;
            if ((lo & VALID) == 0) return fail(va, ipa, FaultType.TRANSLATION, level, "invalid stage-2 descriptor " + d, s1ptw);
            if (skl == 3 && granuleBits != 12) {
                return fail(va, ipa, FaultType.TRANSLATION, level,
                        "SKL 3 with the " + g.granule().label() + " granule " + d, s1ptw);
            }
            if (level + skl > 3) {
                return fail(va, ipa, FaultType.TRANSLATION, level, "level " + level + " + SKL " + skl + " is beyond 3 " + d, s1ptw);
            }
            if (level + skl == 3) {
                // AArch64.ContiguousBit: RES0 for the 4K level 0 and 64K level 1 blocks.
                boolean contiguous = (hi & CONTIGUOUS_HI) != 0 && g.contiguousEntries(level) > 1;
                int leafShift = g.shift(level);
                int runShift = leafShift + (contiguous ? Integer.numberOfTrailingZeros(g.contiguousEntries(level)) : 0);
                long base = (lo & ADDRESS_47_0 & -(1L << leafShift)) | (lo & ADDRESS_55_48);
                long oa = (base & -(1L << runShift)) | (ipa & ((1L << runShift) - 1));
                if (Long.compareUnsigned(oa, paLimit) > 0) {
                    return fail(va, ipa, FaultType.ADDRESS_SIZE, level, "stage-2 output address beyond the PA size", s1ptw);
                }
                outputAddress = oa;
                return level;
            }
            int next = level + 1 + skl;
            int nextBits = stride * (skl + 1);
            long nextBase = (lo & ADDRESS_47_0 & -(1L << granuleBits) & -(1L << (nextBits + 4))) | (lo & ADDRESS_55_48);
            long index = (ipa >>> g.shift(next)) & ((1L << nextBits) - 1);
            long descriptorAddress = nextBase + (index << 4);
            // AArch64.S2Walk: the next descriptor's address is checked at the table descriptor's level.
            if (Long.compareUnsigned(descriptorAddress, paLimit) > 0) {
                return fail(va, ipa, FaultType.ADDRESS_SIZE, level, "stage-2 table address beyond the PA size", s1ptw);
            }
            if (regime.hardwareTableAccessFlag() && (lo & TABLE_AF) == 0) {
                // FEAT_HAFT at stage 2: the walk sets the table descriptor's AF; stage 2 is the last stage.
                d.set(lo | TABLE_AF, hi);
                slot.write(d);
            }
            slot.at(nextBase, index);
            level = next;
        }
    }

    private int fail(long va, long ipa, FaultType type, int level, String detail, boolean s1ptw) {
        fault = new Translation.Fault(va, type, level, detail, 2, s1ptw, ipa);
        return FAULTED;
    }
}
