package dev.granule.impact.trace;

import dev.granule.geometry.Geometry;

/**
 * Replays packed accesses through one CPU's TLBs for one geometry, single-threaded, allocation-free.
 *
 * <p>Per translation: the L1 TLB of the access's kind (instruction or data) is looked up; on a miss
 * the unified L2; on an L2 miss the tables are walked ({@link #walkLevels} descriptor reads, or one
 * when the walk cache holds the descriptor above the leaf), the L2 and the L1 are filled. A first
 * touch is also a page fault: demand paging maps the entry's span, and the access then misses as
 * above. With {@code contpte} every TLB entry and fault covers a Contiguous run of pages
 * (CONT_PTES, one TLB entry on CPUs that use the hint), with {@code thp} a PMD block (walks one
 * level shorter); otherwise a page.
 */
public final class Replayer {

    public enum Mapping { PAGES, CONTPTE, THP }

    private final Geometry geometry;
    private final TlbConfig config;
    private final Mapping mapping;
    private final int entryShift;
    private final int walkLevels;
    private final int walkKeyShift;
    private final SetAssociativeTlb l1i, l1d, l2, walkCache;
    private final PageBitmap touched = new PageBitmap();
    // The key each L1 (or, without L1s, the L2) last translated: still cached and most recently
    // used in its set, so a repeat is a hit that changes no replacement state.
    private long lastI = -1, lastD = -1;

    private long accesses, instructions, translations, l1iMisses, l1dMisses, l2Misses, walkRefs, walkRefsCached, faults;

    public Replayer(Geometry geometry, TlbConfig config, Mapping mapping) {
        this.geometry = geometry;
        this.config = config;
        this.mapping = mapping;
        int leafLevel = mapping == Mapping.THP ? 2 : 3;
        if (mapping == Mapping.THP && !geometry.blockAllowed(2)) {
            throw new IllegalArgumentException(geometry.label() + " has no level-2 blocks for --thp");
        }
        this.entryShift = switch (mapping) {
            case PAGES -> geometry.pageShift();
            case CONTPTE -> geometry.pageShift() + Integer.numberOfTrailingZeros(geometry.contPtes());
            case THP -> geometry.shift(2);
        };
        this.walkLevels = leafLevel - geometry.startLevel() + 1;
        this.walkKeyShift = geometry.shift(leafLevel - 1 >= geometry.startLevel() ? leafLevel - 1 : leafLevel);
        this.l1i = config.l1i() == null ? null : new SetAssociativeTlb(config.l1i());
        this.l1d = config.l1d() == null ? null : new SetAssociativeTlb(config.l1d());
        this.l2 = new SetAssociativeTlb(config.l2());
        this.walkCache = new SetAssociativeTlb(config.walkCache());
    }

    public void accept(long[] batch, int count) {
        for (int i = 0; i < count; i++) {
            long a = batch[i];
            long va = a & Access.ADDRESS_MASK;
            int kind = (int) (a >>> 56) & 3;
            long first = va >>> entryShift;
            long last = (va + (a >>> 58)) >>> entryShift; // size - 1 is in bits [63:58]
            accesses++;
            boolean instruction = kind == Access.EXECUTE;
            if (instruction) instructions++;
            translate(first, instruction);
            if (last != first) translate(last, instruction);
        }
    }

    private void translate(long key, boolean instruction) {
        translations++;
        SetAssociativeTlb l1 = instruction ? l1i : l1d;
        if (l1 == null) {
            if (key == lastD) return;
            lastD = key;
        } else if (instruction) {
            if (key == lastI) return;
            lastI = key;
        } else {
            if (key == lastD) return;
            lastD = key;
        }
        if (l1 != null) {
            if (l1.lookup(key)) return;
            if (instruction) l1iMisses++;
            else l1dMisses++;
        }
        if (!l2.lookup(key)) {
            l2Misses++;
            if (touched.add(key)) faults++;
            walkRefs += walkLevels;
            long walkKey = key >>> (walkKeyShift - entryShift);
            if (walkLevels > 1 && walkCache.lookup(walkKey)) {
                walkRefsCached += 1;
            } else {
                walkRefsCached += walkLevels;
                if (walkLevels > 1) walkCache.insert(walkKey);
            }
            l2.insert(key);
        }
        if (l1 != null) l1.insert(key);
    }

    public ReplayResult result() {
        long entry = 1L << entryShift;
        return new ReplayResult(geometry.granule().label(), geometry.label(), config.name(),
                mapping.name().toLowerCase(), entry, accesses, instructions, translations, l1iMisses, l1dMisses, l2Misses,
                accesses == 0 ? 0 : 1000.0 * l2Misses / accesses, instructions == 0 ? 0 : 1000.0 * l2Misses / instructions,
                walkLevels, walkRefs, walkRefsCached, faults,
                touched.size() << entryShift, config.l1d() == null ? 0 : config.l1d().entries() * entry,
                config.l2().entries() * entry);
    }
}
