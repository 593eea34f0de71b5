package dev.granule.table;

/** No frame is left for a translation table. Give the allocator a larger pool or a higher limit. */
public final class FrameExhaustedException extends PageTableException {
    public FrameExhaustedException(String message) {
        super(message);
    }
}
