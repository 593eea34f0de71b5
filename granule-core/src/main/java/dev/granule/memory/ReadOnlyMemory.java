package dev.granule.memory;

/**
 * Physical memory that is a view of a dump: it can be read, and every write is refused with a
 * {@link MemoryAccessException} naming the address, so that a hardware Access-flag or dirty-state
 * update, or an edit of the tables, never changes the evidence.
 */
public interface ReadOnlyMemory extends PhysicalMemory {

    @Override
    default boolean isReadOnly() { return true; }

    @Override
    default void writeLong(long pa, long value) { throw refused(pa); }

    @Override
    default void writeInt(long pa, int value) { throw refused(pa); }

    @Override
    default void write(long pa, byte[] src, int offset, int length) { throw refused(pa); }

    @Override
    default void fill(long pa, long length, byte value) { throw refused(pa); }

    private static MemoryAccessException refused(long pa) {
        return new MemoryAccessException(pa, "write to a read-only memory dump");
    }
}
