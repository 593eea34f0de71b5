package dev.granule.memory;

import java.util.List;

/**
 * Physical memory as a CPU's table walker sees it: little-endian, addressed by 64-bit physical
 * address, with RAM only in some ranges. Reads of RAM that was never written return zero.
 *
 * <p>Accesses of 1, 2, 4, 8 or 16 bytes must be naturally aligned, as descriptor reads are in the
 * architecture; an access outside {@link #ranges()} throws {@link MemoryAccessException} (a walker
 * checks {@link #contains(long, long)} first and reports an external abort instead of throwing).
 * Implementations are not thread-safe for writes.
 */
public interface PhysicalMemory extends AutoCloseable {

    long readLong(long pa);

    void writeLong(long pa, long value);

    int readInt(long pa);

    void writeInt(long pa, int value);

    /** Copies {@code length} bytes at {@code pa} into {@code dst}; may cross range boundaries only inside RAM. */
    void read(long pa, byte[] dst, int offset, int length);

    void write(long pa, byte[] src, int offset, int length);

    /** Zeroes {@code length} bytes at {@code pa} (fresh table pages). */
    void fill(long pa, long length, byte value);

    /** Whether every byte of {@code [pa, pa + length)} is RAM. */
    boolean contains(long pa, long length);

    /**
     * Whether the byte at {@code pa} is readable, RAM that a dump left out, or not RAM. Memory that
     * holds every byte of its RAM (a model, an ELF core, a raw image) has no excluded pages.
     */
    default PageState pageState(long pa) {
        return contains(pa, 1) ? PageState.PRESENT : PageState.NOT_RAM;
    }

    /** The RAM ranges whose bytes can be read, sorted and disjoint. */
    List<MemoryRange> ranges();

    boolean isReadOnly();

    /** Releases off-heap or mapped storage. Further access is undefined. */
    @Override
    void close();
}
