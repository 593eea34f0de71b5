package dev.granule.memory;

/** A physical address range {@code [base, base + size)}. */
public record MemoryRange(long base, long size) implements Comparable<MemoryRange> {
    public MemoryRange {
        if (size <= 0) throw new IllegalArgumentException("memory range size must be positive, was " + size);
        if (base < 0 || base + size < 0) {
            throw new IllegalArgumentException(String.format("memory range %#x+%#x leaves the 63-bit physical space", base, size));
        }
    }

    public long end() { return base + size; }

    public boolean contains(long pa, long length) {
        return pa >= base && length >= 0 && pa + length <= end() && pa + length >= pa;
    }

    public boolean overlaps(MemoryRange other) {
        return base < other.end() && other.base < end();
    }

    @Override
    public int compareTo(MemoryRange o) { return Long.compareUnsigned(base, o.base); }

    @Override
    public String toString() { return String.format("[%#x-%#x)", base, end()); }
}
