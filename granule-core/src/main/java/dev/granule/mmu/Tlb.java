package dev.granule.mmu;

import java.util.Arrays;

/**
 * A set-associative TLB of stage-1 and combined stage-1+stage-2 translations. An entry covers the
 * whole span of its leaf (a block, or a whole Contiguous run; for a two-stage entry the smaller of
 * the two stages' spans), is tagged with a translation context (the VMID for EL1&amp;0) and with an
 * ASID unless global, and keeps the permissions the walk computed (both stages' for a combined
 * entry), so a hit needs no table read. Entries stay until invalidated or evicted, as in hardware:
 * a changed table is not seen until the matching TLBI.
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

    /** The context tags of the EL2 and EL2&amp;0 regimes' entries: above every 16-bit VMID. */
    public static final int EL2 = 0x1_0000, EL2_0 = 0x2_0000;

    private final int ways;
    private final int sets;
    // The tag is the VA of the entry's span with log2 of the span in the low 6 bits (a span is at
    // least a 4K page, so they are free): one compare matches both. -1 marks an empty way. The tags
    // are an array of their own, a set's ways side by side, because a lookup compares only them.
    private static final long EMPTY = -1L;
    private static final long SHIFT_BITS = 0x3F;
    private final long[] tag;
    // The rest of entry i in four longs from entry[4 * i], so that an insert writes one cache line
    // (not one per field) and a hit reads one more:
    // PA, the base of the span;
    // IPA: a combined entry's stage-2 leaf, its IPA with log2 of its span in the low 6 bits, as tag
    //   (TLBI IPAS2E1 finds entries by it); EMPTY for a stage-1 entry;
    // ID: the ASID (-1 for global) in the high half, the context in the low half (the VMID of an
    //   EL1&0 entry, 0 without EL2, or EL2 / EL2_0);
    // RIGHTS: the permissions (R0..X1, PAN, and IndirectPermissions' overlay bits) in the high half,
    //   the info (level | attr << 8 | sh << 16 | contiguous << 20 | leafShift << 24) in the low half.
    private static final int PA = 0, IPA = 1, ID = 2, RIGHTS = 3, STRIDE = 4;
    private final long[] entry;
    // Replacement is exact LRU, an empty way taken before any entry and the first empty way first.
    // With up to 16 ways, each set's order of use is one long (order[set]): a way number per nibble,
    // from the next victim (nibble 0: the first empty way, else the least recently used) to the
    // most recently used (nibble ways - 1), the empty ways lowest in ascending order. A fill reads
    // its victim from that one long, whose address the VA gives, and a hit or fill rewrites it: with
    // per-entry ages a fill read every way's age and compared them before it knew where to write,
    // and measured 11 ns against 3 ns this way (BENCHMARKS.md, issue 20 fifth round). More ways:
    // per-entry ages from a clock (age[], order null), the least recently used the oldest.
    static final int MAX_ORDERED_WAYS = 16;
    private static final long NIBBLE_ONES = 0x1111_1111_1111_1111L;
    private final long[] order;
    private final long emptyOrder;  // a set of empty ways: way k at nibble k
    private final int mruShift;     // the most recently used way's nibble, 4 x (ways - 1)
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
        this.entry = new long[entries * STRIDE];
        boolean ordered = ways <= MAX_ORDERED_WAYS;
        long empty = 0;
        for (int w = 0; w < Math.min(ways, MAX_ORDERED_WAYS); w++) empty |= (long) w << 4 * w;
        this.emptyOrder = empty;
        this.mruShift = 4 * (ways - 1);
        this.order = ordered ? new long[sets] : null;
        this.age = ordered ? null : new int[entries];
        Arrays.fill(tag, EMPTY);
        if (ordered) Arrays.fill(order, emptyOrder);
    }

    /** Way {@code w} of {@code set} becomes the most recently used (a hit, or an insert into it). */
    private void touch(int set, int w) {
        if (order == null) {
            age[set * ways + w] = tick();
            return;
        }
        long p = order[set];
        if ((int) (p >>> mruShift) == w) return;   // already the most recent: nothing moves
        // The nibble holding w: the lowest zero nibble of p ^ (w in every nibble). Then the nibbles
        // above it move down one, and w goes on top.
        long x = p ^ w * NIBBLE_ONES;
        int at = Long.numberOfTrailingZeros((x - NIBBLE_ONES) & ~x & NIBBLE_ONES << 3) & ~3;
        order[set] = p & ((1L << at) - 1) | (p >>> at >>> 4) << at | (long) w << mruShift;
    }

    /** The way of {@code set} an insert with no empty or equal way takes, or a fill takes: see {@link #order}. */
    private int victim(int set) {
        if (order != null) return (int) order[set] & 0xF;
        int first = set * ways;
        // Age and way in one long, so that Math.min (a conditional move) picks the oldest, the
        // first of equals (empty ways, age 0), without a branch per way.
        long oldest = Long.MAX_VALUE;
        for (int i = first; i < first + ways; i++) oldest = Math.min(oldest, (long) age[i] << 32 | (i - first));
        return (int) oldest;
    }

    /**
     * The next age (more than 16 ways). An age is an int (the victim search packs it with the way into one long); after
     * 2^31 - 1 lookups and inserts, which a long replay or emulation reaches, the ages are renumbered
     * first, each set's ways keeping their order, so that the least recently used stays the victim.
     */
    private int tick() {
        if (clock == Integer.MAX_VALUE) renumber();
        return ++clock;
    }

    /** Each set's used ways aged 1..ways in their order (an empty way stays 0); the clock at ways. */
    private void renumber() {
        for (int first = 0; first < age.length; first += ways) {
            int[] ranked = new int[ways];
            for (int w = 0; w < ways; w++) ranked[w] = first + w;
            for (int a = 1; a < ways; a++) {          // insertion sort by age: a set has tens of ways
                int way = ranked[a], b = a;
                for (; b > 0 && age[ranked[b - 1]] > age[way]; b--) ranked[b] = ranked[b - 1];
                ranked[b] = way;
            }
            int rank = 0;
            for (int way : ranked) if (age[way] != 0) age[way] = ++rank;
        }
        clock = ways;
    }

    private int set(long va, int s) { return (int) ((va >>> s) & (sets - 1)); }

    /** The index of the entry translating {@code va} for {@code currentAsid} without EL2 (VMID 0), or -1. */
    int lookup(long va, int currentAsid) { return lookup(va, 0, currentAsid); }

    /** The index of the entry translating {@code va} in {@code currentContext} for {@code currentAsid}, or -1. */
    int lookup(long va, int currentContext, int currentAsid) {
        long sizes = sizesPresent;
        while (sizes != 0) {
            int s = Long.numberOfTrailingZeros(sizes);
            sizes &= sizes - 1;
            long t = (va & -(1L << s)) | s;
            int set = set(va, s), first = set * ways;
            for (int i = first; i < first + ways; i++) {
                // The context compare runs only on a tag match, so the one-stage hit costs no more.
                if (tag[i] != t) continue;
                long id = entry[i * STRIDE + ID];
                int entryAsid = (int) (id >> 32);
                if ((int) id == currentContext && (entryAsid == -1 || entryAsid == currentAsid)) {
                    hits++;
                    touch(set, i - first);
                    return i;
                }
            }
        }
        misses++;
        return -1;
    }

    void insert(long va, long outputAddress, int s, int entryAsid, int permissions, int entryInfo) {
        insert(va, outputAddress, s, 0, entryAsid, permissions, entryInfo, EMPTY);
    }

    /**
     * Caches a translation of the {@code 1 << s} bytes around {@code va} in {@code entryContext};
     * {@code stage2Leaf} is a combined entry's stage-2 leaf (IPA | log2 span), else {@link #EMPTY}.
     * An entry for the same span, context and ASID is replaced (a walk after a permission miss
     * must not leave the stale, less permissive one to be found first).
     */
    void insert(long va, long outputAddress, int s, int entryContext, int entryAsid, int permissions, int entryInfo,
                long stage2Leaf) {
        int set = set(va, s), first = set * ways;
        long t = (va & -(1L << s)) | s;
        long id = (long) entryAsid << 32 | (entryContext & 0xFFFF_FFFFL);
        int victim = -1;
        for (int i = first; i < first + ways; i++) {
            if (tag[i] == EMPTY || (tag[i] == t && entry[i * STRIDE + ID] == id)) {
                victim = i;
                break;
            }
        }
        if (victim < 0) victim = first + victim(set);
        if (tag[victim] != EMPTY && tag[victim] != t) evictions++;
        tag[victim] = t;
        int e = victim * STRIDE;
        // The PA is kept as given: Mmu inserts a run only when its output address is aligned to it,
        // and caches the entry alone where a misprogrammed Contiguous run is not.
        entry[e + PA] = outputAddress;
        entry[e + IPA] = stage2Leaf;
        entry[e + ID] = id;
        entry[e + RIGHTS] = (long) permissions << 32 | (entryInfo & 0xFFFF_FFFFL);
        touch(set, victim - first);
        sizesPresent |= 1L << s;
    }

    /**
     * {@link #insert} of a translation that {@link #lookup} has just missed for the same VA, context
     * and ASID (the entry's ASID that one or global): no way of the set can hold the same span,
     * context and ASID, so the victim is the first empty way or else the least recently used, as
     * insert picks it ({@link #victim}). The TLB-miss path's insert, without insert's tag compares.
     */
    void fill(long va, long outputAddress, int s, int entryContext, int entryAsid, int permissions, int entryInfo) {
        int set = set(va, s);
        int victim;
        if (order != null) {
            // victim and touch in one: the next victim's nibble becomes the most recent.
            long p = order[set];
            int w = (int) p & 0xF;
            order[set] = p >>> 4 | (long) w << mruShift;
            victim = set * ways + w;
        } else {
            victim = set * ways + victim(set);
            age[victim] = tick();
        }
        if (tag[victim] != EMPTY) evictions++;
        tag[victim] = (va & -(1L << s)) | s;
        int e = victim * STRIDE;
        entry[e + PA] = outputAddress;
        entry[e + IPA] = EMPTY;
        entry[e + ID] = (long) entryAsid << 32 | (entryContext & 0xFFFF_FFFFL);
        entry[e + RIGHTS] = (long) permissions << 32 | (entryInfo & 0xFFFF_FFFFL);
        // Stored only when it changes: the next lookup reads it first, and a store of every fill
        // would have that read wait for this walk's leaf size.
        if ((sizesPresent & 1L << s) == 0) sizesPresent |= 1L << s;
    }

    long pa(int i, long va) { return entry[i * STRIDE + PA] + (va & ((1L << (tag[i] & SHIFT_BITS)) - 1)); }

    int perms(int i) { return (int) (entry[i * STRIDE + RIGHTS] >>> 32); }

    int info(int i) { return (int) entry[i * STRIDE + RIGHTS]; }

    int asid(int i) { return (int) (entry[i * STRIDE + ID] >> 32); }

    private int context(int i) { return (int) entry[i * STRIDE + ID]; }

    // ---- TLB maintenance (TLBI), EL1&0 forms ------------------------------------------------------

    /** Every entry, of every VMID (TLBI ALLE1; also VMALLE1 where there is no EL2). */
    public void invalidateAll() {
        Arrays.fill(tag, EMPTY);
        if (order != null) Arrays.fill(order, emptyOrder);
        else Arrays.fill(age, 0);
        sizesPresent = 0;
    }

    /**
     * TLBI VMALLS12E1 (stage 1 and stage 2 of a VMID), and TLBI VMALLE1 issued under that VMID: every
     * entry of the VMID. This TLB holds no stage-2-only entries, so both remove the same entries
     * (VMALLE1 must remove combined ones, which hold stage-1 information).
     */
    public void invalidateVmid(int vmid) {
        for (int i = 0; i < tag.length; i++) if (context(i) == vmid) remove(i);
    }

    /**
     * TLBI IPAS2E1 under {@code vmid}: the entries of the VMID whose stage-2 part came from the
     * stage-2 leaf that maps {@code ipaValue}. The Arm ARM requires only stage-2 entries to go and
     * has software follow with VMALLE1 for combined ones (Linux's __kvm_tlb_flush_vmid_ipa does);
     * removing the combined entries as well is the stronger choice an implementation may make.
     */
    public void invalidateIpa(long ipaValue, int vmid) {
        for (int i = 0; i < tag.length; i++) {
            long leaf = entry[i * STRIDE + IPA];
            if (tag[i] == EMPTY || leaf == EMPTY || context(i) != vmid) continue;
            long s = leaf & SHIFT_BITS;
            if (((ipaValue & -(1L << s)) | s) == leaf) remove(i);
        }
    }

    /** TLBI ASIDE1 without EL2 (VMID 0): non-global entries of {@code asid}. */
    public void invalidateAsid(int asidValue) { invalidateAsid(asidValue, 0); }

    /** TLBI ASIDE1 under {@code vmid}: its non-global entries of {@code asid}. */
    public void invalidateAsid(int asidValue, int vmid) {
        for (int i = 0; i < tag.length; i++) if (asid(i) == asidValue && context(i) == vmid) remove(i);
    }

    /** TLBI VAE1 without EL2 (VMID 0): entries for {@code va} that are global or tagged {@code asid}. */
    public void invalidateVa(long va, int asidValue) { invalidate(va, 0, asidValue, false, false); }

    /** TLBI VAE1 under {@code vmid}; with {@link #EL2} or {@link #EL2_0} TLBI VAE2. */
    public void invalidateVa(long va, int asidValue, int vmid) { invalidate(va, vmid, asidValue, false, false); }

    /** TLBI VALE1: as VAE1, last-level (page) entries only. */
    public void invalidateVaLastLevel(long va, int asidValue) { invalidate(va, 0, asidValue, false, true); }

    /** TLBI VAAE1: entries for {@code va} whatever their ASID. */
    public void invalidateVaAllAsids(long va) { invalidate(va, 0, 0, true, false); }

    /** TLBI ALLE2: every entry of the EL2 and EL2&amp;0 regimes. */
    public void invalidateEl2() {
        for (int i = 0; i < tag.length; i++) if (context(i) == EL2 || context(i) == EL2_0) remove(i);
    }

    private void invalidate(long va, int vmid, int asidValue, boolean allAsids, boolean lastLevelOnly) {
        for (int i = 0; i < tag.length; i++) {
            long t = tag[i];
            if (t == EMPTY || ((va & -(1L << (t & SHIFT_BITS))) | (t & SHIFT_BITS)) != t) continue;
            if (context(i) != vmid) continue;
            if (!allAsids && asid(i) != -1 && asid(i) != asidValue) continue;
            if (lastLevelOnly && (info(i) & 0xFF) != 3) continue;
            remove(i);
        }
    }

    /**
     * Empties way {@code i}: with ages its age is 0, older than any entry's; with a set order the
     * set's empty ways go to its bottom in ascending order, its entries above them in their order.
     */
    private void remove(int i) {
        tag[i] = EMPTY;
        if (order == null) {
            age[i] = 0;
            return;
        }
        int set = i / ways, first = set * ways;
        long p = order[set], empties = 0, used = 0;
        int emptyCount = 0, usedCount = 0;
        for (int w = 0; w < ways; w++) if (tag[first + w] == EMPTY) empties |= (long) w << 4 * emptyCount++;
        for (int k = 0; k < ways; k++) {
            int w = (int) (p >>> 4 * k) & 0xF;
            if (tag[first + w] != EMPTY) used |= (long) w << 4 * usedCount++;
        }
        order[set] = usedCount == 0 ? empties : empties | used << 4 * emptyCount;
    }

    public long hits() { return hits; }

    public long misses() { return misses; }

    public long evictions() { return evictions; }

    public int capacity() { return tag.length; }
}
