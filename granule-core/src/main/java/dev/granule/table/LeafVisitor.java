package dev.granule.table;

import dev.granule.format.Descriptor;

/**
 * Receives the leaves of a walk in VA order, allocation-free: the descriptor is a scratch value
 * that is overwritten after the call returns (copy it to keep it).
 */
@FunctionalInterface
public interface LeafVisitor {

    /**
     * A block or page at {@code level} whose span starts at {@code va}.
     *
     * @return false to stop the walk
     */
    boolean leaf(long va, int level, Descriptor descriptor);

    /** A table descriptor at {@code level} points outside RAM; the walk skips what it would map. */
    default void unreadableTable(long va, int level, long tableAddress) {}
}
