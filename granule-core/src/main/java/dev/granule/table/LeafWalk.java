package dev.granule.table;

import dev.granule.format.DescriptorFormat;
import dev.granule.memory.PhysicalMemory;

/**
 * A TLB-miss walk compiled for one geometry (a hidden copy of {@code Vmsa64LeafWalk}) that stops at
 * the leaf and reports it, for an MMU to check and cache: the leaf descriptor, its level and
 * physical address, its output address, and the hierarchical attribute bits of the tables above it.
 *
 * <p>It answers only the walks that reach a leaf: an invalid or reserved descriptor, a descriptor
 * outside RAM, a table address beyond the PA limit or an unreadable table all answer 0, and the
 * MMU walks again the general way to report the fault and its level. Holds the last leaf's details
 * in fields, so it allocates nothing and is not thread-safe (one per MMU, as the MMU is).
 */
public interface LeafWalk {

    /** The leaf descriptor that maps {@code va}, or 0 where the walk does not end at one (see above). */
    long leaf(long va);

    /** The last leaf's level. */
    int level();

    /** The last leaf's physical address (where the MMU writes AF or the dirty state back). */
    long leafAddress();

    /** The last leaf's output address: the base of the page or block it maps. */
    long outputAddress();

    /**
     * The table descriptors above the last leaf ORed together: their APTable, UXNTable and PXNTable
     * bits are the union of the walk's, as the Arm ARM accumulates them; decode with the format's
     * {@code tableAttributes}.
     */
    long tableDescriptors();

    /**
     * The walk compiled for {@code format}'s geometry over the tables at {@code root} (the full
     * start-level table), refusing table addresses above {@code paLimit}; null where the format
     * has none (VMSAv9-128 and short descriptors).
     */
    static LeafWalk compiled(DescriptorFormat format, PhysicalMemory memory, long root, long paLimit) {
        return GeometryCopies.leafWalk(format, memory, root, paLimit);
    }
}
