package dev.granule.table;

/** Which half of the 64-bit VA space, and so which TTBR, an address space covers. */
public enum VaRange {
    /** TTBR0: addresses {@code [0, 2^VA_BITS)}, user space in Linux. */
    LOWER,
    /** TTBR1: addresses {@code [2^64 - 2^VA_BITS, 2^64)}, the kernel in Linux. */
    UPPER;

    public long first(int vaBits) { return this == LOWER ? 0 : -(1L << vaBits); }

    public long last(int vaBits) { return this == LOWER ? (1L << vaBits) - 1 : -1L; }
}
