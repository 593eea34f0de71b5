package dev.granule.table;

import dev.granule.format.DescriptorFormat;
import dev.granule.format.Vmsa128Format;
import dev.granule.memory.PhysicalMemory;

/**
 * A VMSAv9-128 (FEAT_D128) TLB-miss walk compiled for one geometry and start level (a hidden copy of
 * {@code Vmsa128LeafWalk}) that stops at the leaf and reports it, for an MMU to check and cache: the
 * leaf's two words, its level and physical address, and whether its Contiguous bit is in effect.
 * It follows skip-level (SKL) table descriptors as they occur.
 *
 * <p>Like {@link LeafWalk} it answers only the walks that reach a leaf: wherever the Arm ARM's
 * AArch64.S1Walk with d128 = 1 faults (an invalid descriptor, SKL 3 with 16K or 64K, a level plus
 * SKL beyond 3, a descriptor outside RAM, a table or output address beyond the PA limit) it answers
 * 0, and the MMU walks again the general way to report the fault and its level. Not thread-safe
 * (one per MMU, as the MMU is).
 */
public interface LeafWalk128 {

    /** The leaf's low word (bits [63:0]) that maps {@code va}, or 0 where the walk does not end at one. */
    long leaf(long va);

    /** The last leaf's high word (bits [127:64]). */
    long high();

    /** The last leaf's level. */
    int level();

    /** The last leaf's physical address (where the MMU writes AF or the dirty state back). */
    long leafAddress();

    /**
     * Whether the last leaf's Contiguous bit is in effect: set, not RES0 at its level, and not
     * disabled by DisCH in the table descriptor above it (or TCR2_EL1.DisCHn for a leaf in the
     * start-level table).
     */
    boolean contiguous();

    /**
     * The walk compiled for {@code format}'s geometry and {@code startLevel} (the geometry's start
     * level plus TTBR.SKL, at most 3) over the table at {@code root}, refusing table and output
     * addresses above {@code paLimit}; {@code disableContiguous} is the half's TCR2_EL1.DisCHn. Null
     * for any format but VMSAv9-128.
     */
    static LeafWalk128 compiled(DescriptorFormat format, PhysicalMemory memory, long root, long paLimit, int startLevel,
                                boolean disableContiguous) {
        if (!(format instanceof Vmsa128Format f)) return null;
        return GeometryCopies.leafWalk128(new Vmsa128Start(f, startLevel), memory, root, paLimit, disableContiguous);
    }
}
