package dev.granule.impact.trace;

/**
 * One memory access packed into a long, the unit every trace reader produces, the replay consumes
 * and the binary trace format stores: bits [55:0] the virtual address, [57:56] the kind
 * ({@link #READ}, {@link #WRITE}, {@link #EXECUTE}), [63:58] the size in bytes minus one (1..64).
 * Readers split a longer access into pieces of at most {@link #MAX_SIZE} bytes, so a piece
 * crosses at most one page boundary. Packed so a batch is one primitive array: no object per access.
 */
public final class Access {

    public static final int READ = 0, WRITE = 1, EXECUTE = 2;
    public static final int MAX_SIZE = 64;
    /** Addresses are user virtual addresses below 2^56 (a 52-bit VA with room to spare). */
    public static final int ADDRESS_BITS = 56;
    public static final long ADDRESS_MASK = (1L << ADDRESS_BITS) - 1;

    private Access() {}

    public static long pack(long va, int kind, int size) {
        if ((va & ~ADDRESS_MASK) != 0) throw new IllegalArgumentException("address 0x" + Long.toHexString(va) + " is not below 2^56");
        if (kind < READ || kind > EXECUTE) throw new IllegalArgumentException("access kind " + kind);
        if (size < 1 || size > MAX_SIZE) throw new IllegalArgumentException("access size " + size + " not in 1.." + MAX_SIZE);
        return va | (long) kind << 56 | (long) (size - 1) << 58;
    }

    public static long va(long access) { return access & ADDRESS_MASK; }

    public static int kind(long access) { return (int) (access >>> 56) & 3; }

    public static int size(long access) { return (int) (access >>> 58) + 1; }

    /** Whether a packed value could have come from {@link #pack} (kind 3 is not a kind). */
    public static boolean valid(long access) { return kind(access) != 3; }

    public static String kindName(int kind) {
        return switch (kind) {
            case READ -> "read";
            case WRITE -> "write";
            case EXECUTE -> "execute";
            default -> "kind " + kind;
        };
    }
}
