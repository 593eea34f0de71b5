package dev.granule.mmu;

import java.util.Arrays;

/**
 * A set-associative TLB of stage-1 translations. An entry covers the whole span of its leaf (a
 * block, or a whole Contiguous run), is tagged with an ASID unless global, and keeps the
 * permissions the walk computed, so a hit needs no table read. Entries stay until invalidated or
 * evicted, as in hardware: a changed table is not seen until the matching TLBI.
 *
 * <p>Lookups probe one set per entry size present (a real TLB probes its page-size arrays the same
 * way). All state is in primitive arrays, so a hit allocates nothing.
 */
public final class Tlb {

    static final int R0 = 1, W0 = 2, X0 = 4, R1 = 8, W1 = 16, X1 = 32;
    /**
     * PSTATE.PAN denies privileged data accesses to this entry even where EL0 has no R0/W0 left: set
     * under permission indirection when PIRE0_EL1's value is not 0 (so execute-only user memory is
     * PAN-protected) and under overlays when EL0's base rights allow a read or write.
     */
    static final int PAN = 64;

    private final int ways;
    private final int sets;
    // The tag is the VA of the entry's span with log2 of the span in the low 6 bits (a span is at
    // least a 4K page, so they are free): one compare matches both. -1 marks an empty way.
    private static final long EMPTY = -1L;
    private static final long SHIFT_BITS = 0x3F;
    private final long[] tag;
    private final long[] pa;
    private final int[] asid;       // -1 for global
    private final int[] perms;      // R0..X1, PAN, and IndirectPermissions' overlay bits
    private final int[] info;       // level | attr << 8 | sh << 16 | contiguous << 20 | leafShift << 24
    private final int[] age;
    private int clock;
    private long sizesPresent;      // bit n set if some entry has shift n
    private long hits;
    private long misses;
    private long evictions;

    public Tlb(int entries, int ways) {
        if (entries <= 0 || ways <= 0 || entries % ways != 0 || Integer.bitCount(entries / ways) != 1) {
            throw new IllegalArgumentException("a TLB needs entries = ways x a power-of-two number of sets; got "
                    + entries + " entries, " + ways + " ways");
        }
        this.ways = ways;
        this.sets = entries / ways;
        this.tag = new long[entries];
        this.pa = new long[entries];
        this.asid = new int[entries];
        this.perms = new int[entries];
        this.info = new int[entries];
        this.age = new int[entries];
        Arrays.fill(tag, EMPTY);
    }

    private int set(long va, int s) { return (int) ((va >>> s) & (sets - 1)) * ways; }

    /** The index of the entry translating {@code va} for {@code currentAsid}, or -1. */
    int lookup(long va, int currentAsid) {
        long sizes = sizesPresent;
        while (sizes != 0) {
            int s = Long.numberOfTrailingZeros(sizes);
            sizes &= sizes - 1;
            long t = (va & -(1L << s)) | s;
            int first = set(va, s);
            for (int i = first; i < first + ways; i++) {
                if (tag[i] == t && (asid[i] == -1 || asid[i] == currentAsid)) {
                    hits++;
                    age[i] = ++clock;
                    return i;
                }
            }
        }
        misses++;
        return -1;
    }

    void insert(long va, long outputAddress, int s, int entryAsid, int permissions, int entryInfo) {
        int first = set(va, s);
        int victim = first;
        for (int i = first; i < first + ways; i++) {
            if (tag[i] == EMPTY) { victim = i; break; }
            if (age[i] < age[victim]) victim = i;
        }
        if (tag[victim] != EMPTY) evictions++;
        tag[victim] = (va & -(1L << s)) | s;
        // Kept as given: Mmu inserts a run only when its output address is aligned to it, and caches
        // the entry alone where a misprogrammed Contiguous run is not.
        pa[victim] = outputAddress;
        asid[victim] = entryAsid;
        perms[victim] = permissions;
        info[victim] = entryInfo;
        age[victim] = ++clock;
        sizesPresent |= 1L << s;
    }

    long pa(int i, long va) { return pa[i] + (va & ((1L << (tag[i] & SHIFT_BITS)) - 1)); }

    int perms(int i) { return perms[i]; }

    int info(int i) { return info[i]; }

    int asid(int i) { return asid[i]; }

    // ---- TLB maintenance (TLBI), EL1&0 forms ------------------------------------------------------

    /** TLBI VMALLE1: every entry. */
    public void invalidateAll() {
        Arrays.fill(tag, EMPTY);
        sizesPresent = 0;
    }

    /** TLBI ASIDE1: non-global entries of {@code asid}. */
    public void invalidateAsid(int asidValue) {
        for (int i = 0; i < tag.length; i++) if (asid[i] == asidValue) tag[i] = EMPTY;
    }

    /** TLBI VAE1: entries for {@code va} that are global or tagged {@code asid}. */
    public void invalidateVa(long va, int asidValue) { invalidate(va, asidValue, false, false); }

    /** TLBI VALE1: as VAE1, last-level (page) entries only. */
    public void invalidateVaLastLevel(long va, int asidValue) { invalidate(va, asidValue, false, true); }

    /** TLBI VAAE1: entries for {@code va} whatever their ASID. */
    public void invalidateVaAllAsids(long va) { invalidate(va, 0, true, false); }

    private void invalidate(long va, int asidValue, boolean allAsids, boolean lastLevelOnly) {
        for (int i = 0; i < tag.length; i++) {
            long t = tag[i];
            if (t == EMPTY || ((va & -(1L << (t & SHIFT_BITS))) | (t & SHIFT_BITS)) != t) continue;
            if (!allAsids && asid[i] != -1 && asid[i] != asidValue) continue;
            if (lastLevelOnly && (info[i] & 0xFF) != 3) continue;
            tag[i] = EMPTY;
        }
    }

    public long hits() { return hits; }

    public long misses() { return misses; }

    public long evictions() { return evictions; }

    public int capacity() { return tag.length; }
}
