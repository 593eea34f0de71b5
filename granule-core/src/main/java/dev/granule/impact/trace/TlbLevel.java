package dev.granule.impact.trace;

/**
 * One TLB: {@code entries} translations in {@code entries / ways} sets of {@code ways}, replaced
 * least-recently-used within a set. {@code ways == entries} is fully associative.
 */
public record TlbLevel(int entries, int ways) {
    public TlbLevel {
        if (entries < 1 || ways < 1 || entries % ways != 0 || Integer.bitCount(entries / ways) != 1) {
            throw new IllegalArgumentException("a TLB needs entries a multiple of ways giving a power-of-two number of sets"
                    + " (was " + entries + " entries, " + ways + " ways)");
        }
    }

    public static TlbLevel fullyAssociative(int entries) { return new TlbLevel(entries, entries); }

    public int sets() { return entries / ways; }

    @Override
    public String toString() {
        return entries + "-entry " + (ways == entries ? "fully associative" : ways + "-way");
    }
}
