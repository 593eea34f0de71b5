package dev.granule.format;

/** What a descriptor is, given the level it was read at. */
public enum DescriptorKind {
    /** Bit 0 clear: the walk stops with a translation fault. */
    INVALID,
    /** Points to a next-level table. */
    TABLE,
    /** A leaf above the last level. */
    BLOCK,
    /** A leaf at the last level. */
    PAGE,
    /**
     * A valid bit with an encoding the architecture does not allow here (a block at a level that
     * cannot hold blocks, type 0b01 at level 3): a translation fault, like {@link #INVALID}.
     */
    RESERVED;

    public boolean isLeaf() { return this == BLOCK || this == PAGE; }

    public boolean isFault() { return this == INVALID || this == RESERVED; }
}
