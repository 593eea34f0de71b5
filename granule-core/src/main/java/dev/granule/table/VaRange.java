package dev.granule.table;

import dev.granule.geometry.Geometry;

/** Which half of the 64-bit VA space, and so which TTBR, an address space covers. */
public enum VaRange {
    /** TTBR0: addresses {@code [0, 2^VA_BITS)}, user space in Linux. */
    LOWER,
    /** TTBR1: addresses {@code [2^64 - 2^VA_BITS, 2^64)} (2^32 for AArch32), the kernel in Linux. */
    UPPER;

    public long first(Geometry g) {
        return this == LOWER ? 0 : top(g) - (1L << g.vaBits()) + 1;
    }

    public long last(Geometry g) {
        return this == LOWER ? (1L << g.vaBits()) - 1 : top(g);
    }

    private static long top(Geometry g) {
        return g.format().addressBits() == 64 ? -1L : 0xFFFF_FFFFL;
    }
}
