package dev.granule.table;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.TranslationFormat;

/** Which half of the VA space, and so which TTBR, an address space covers. */
public enum VaRange {
    /** TTBR0: addresses {@code [0, 2^VA_BITS)}, user space in Linux. */
    LOWER,
    /**
     * TTBR1: addresses {@code [2^64 - 2^VA_BITS, 2^64)} (2^32 for AArch32), the kernel in Linux.
     * Armv7 short descriptors split the 32-bit space instead: with TTBCR.N = 32 - VA_BITS, TTBR1
     * translates {@code [2^(32-N), 2^32)}, which is empty when N is 0.
     */
    UPPER;

    public long first(Geometry g) {
        if (this == LOWER) return 0;
        if (g.format() == TranslationFormat.SHORT) return 1L << g.vaBits();
        return top(g) - (1L << g.vaBits()) + 1;
    }

    public long last(Geometry g) {
        return this == LOWER ? (1L << g.vaBits()) - 1 : top(g);
    }

    /** Whether this half translates any address: not TTBR1 of short descriptors with TTBCR.N = 0. */
    public boolean isEmpty(Geometry g) {
        return Long.compareUnsigned(first(g), last(g)) > 0;
    }

    /**
     * Entries in the start-level table of this half. That is the geometry's start-level table, but
     * the short-descriptor TTBR1 table always has 4096 entries indexed by VA[31:20], whatever N
     * (Arm ARM B3.5.4; QEMU's get_level1_table_address), of which it uses those above 2^(32-N).
     */
    public int rootEntries(Geometry g) {
        if (this == UPPER && g.format() == TranslationFormat.SHORT) return 1 << (32 - g.shift(g.startLevel()));
        return g.entries(g.startLevel());
    }

    private static long top(Geometry g) {
        return g.format().addressBits() == 64 ? -1L : 0xFFFF_FFFFL;
    }
}
