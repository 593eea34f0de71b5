package dev.granule.format;

/**
 * A descriptor value at the widest size the architecture has (128 bits, FEAT_D128), as a mutable
 * pair of words so that hot paths can reuse one instance instead of allocating.
 *
 * <p>Every format reads and writes descriptors through this type; a 64-bit format simply keeps
 * {@link #hi()} zero and a slot narrows the value when it writes it (see
 * {@code dev.granule.table.Slot}). That is the seed design's "descriptors passed around at the
 * widest size and narrowed on write": adding a wider format does not change the engine.
 */
public final class Descriptor {

    private long lo;
    private long hi;

    public Descriptor() {}

    public Descriptor(long lo, long hi) {
        this.lo = lo;
        this.hi = hi;
    }

    public static Descriptor of64(long value) { return new Descriptor(value, 0); }

    /** Bits [63:0]. */
    public long lo() { return lo; }

    /** Bits [127:64]; zero for 64-bit and 32-bit formats. */
    public long hi() { return hi; }

    public Descriptor set(long lo, long hi) {
        this.lo = lo;
        this.hi = hi;
        return this;
    }

    public Descriptor set(Descriptor other) { return set(other.lo, other.hi); }

    public Descriptor clear() { return set(0, 0); }

    /** Bit {@code n} (0..127). */
    public boolean bit(int n) {
        return n < 64 ? (lo >>> n & 1) != 0 : (hi >>> (n - 64) & 1) != 0;
    }

    /** Bits [msb:lsb] as an unsigned value; the field must not straddle bit 63/64 and be at most 63 bits wide. */
    public long field(int msb, int lsb) {
        long word = lsb < 64 ? lo : hi;
        int shift = lsb & 63;
        int width = msb - lsb + 1;
        return (word >>> shift) & ((1L << width) - 1);
    }

    public Descriptor withField(int msb, int lsb, long value) {
        int width = msb - lsb + 1;
        long mask = ((1L << width) - 1) << (lsb & 63);
        long bits = (value << (lsb & 63)) & mask;
        if (lsb < 64) lo = (lo & ~mask) | bits;
        else hi = (hi & ~mask) | bits;
        return this;
    }

    public Descriptor withBit(int n, boolean value) { return withField(n, n, value ? 1 : 0); }

    public boolean isZero() { return lo == 0 && hi == 0; }

    public boolean sameAs(Descriptor other) { return lo == other.lo && hi == other.hi; }

    @Override
    public boolean equals(Object o) {
        return o instanceof Descriptor d && d.lo == lo && d.hi == hi;
    }

    @Override
    public int hashCode() { return Long.hashCode(lo) * 31 + Long.hashCode(hi); }

    @Override
    public String toString() {
        return hi == 0 ? String.format("0x%016x", lo) : String.format("0x%016x_%016x", hi, lo);
    }
}
