package dev.granule.table;

import dev.granule.format.Descriptor;
import dev.granule.geometry.Geometry;

/**
 * The segments one table level cuts a VA range {@code [first, last]} into: one per entry the
 * range touches, clipped to the range, in address order, with that entry. {@code map},
 * {@code unmap}, {@code protect} and {@code collapse} all walk a level this way:
 *
 * <pre>{@code
 * LevelSegments s = segments.over(table, va, last);
 * while (s.next()) {
 *     Descriptor d = s.read(); // entry s.index() of the table, written through s.slot()
 *     ... addresses s.va() to s.last(), s.whole() if the range covers the entry's whole span
 * }
 * }</pre>
 *
 * <p>A cursor, not an iterator object per call: an {@link AddressSpace} keeps one per level and
 * reuses it for every edit, so the map's hot path allocates nothing. That is safe because an edit
 * descends one level at a time ({@code level} recurses into {@code level + 1} only), so a level's
 * cursor is never in two loops at once.
 */
final class LevelSegments {

    private final int shift;
    private final long span;
    /** Entries of a table at this level: the start-level table may hold more than the geometry's (TTBR1 of a short-descriptor regime). */
    private final int entries;
    /** The level's slot and scratch descriptor, shared with the edits' other helpers at this level. */
    private final Slot slot;
    private final Descriptor entry;
    private long table;
    private long rangeLast;
    private long va;
    private long segmentLast;
    private boolean started;

    LevelSegments(Geometry geometry, int level, int entries, Slot slot, Descriptor entry) {
        this.shift = geometry.shift(level);
        this.span = geometry.entrySpan(level);
        this.entries = entries;
        this.slot = slot;
        this.entry = entry;
    }

    /**
     * Starts over {@code [first, last]} (inclusive, unsigned) in the table at {@code table}; the
     * first {@link #next()} gives the first segment.
     */
    LevelSegments over(long table, long first, long last) {
        this.table = table;
        this.va = first;
        this.rangeLast = last;
        this.started = false;
        return this;
    }

    /** Moves to the next segment; false once the range is done. */
    boolean next() {
        if (started) {
            if (segmentLast == rangeLast) return false;
            va = segmentLast + 1;
        } else {
            started = true;
        }
        long entryLast = va | (span - 1);
        segmentLast = Long.compareUnsigned(rangeLast, entryLast) < 0 ? rangeLast : entryLast;
        return true;
    }

    /** First address of the current segment. */
    long va() { return va; }

    /** Last address of the current segment (inclusive). */
    long last() { return segmentLast; }

    /** Whether the current segment is its entry's whole span (the entry can be replaced, not cut). */
    boolean whole() {
        return (va & (span - 1)) == 0 && segmentLast == (va | (span - 1));
    }

    /** Index of the current segment's entry in its table. */
    int index() { return indexOf(va); }

    /** Index of {@code address}'s entry in a table at this level. */
    int indexOf(long address) {
        return (int) ((address >>> shift) & (entries - 1));
    }

    /** The slot of the current segment's entry, positioned on it. */
    Slot slot() { return slot.at(table, index()); }

    /** Reads the current segment's entry (into the level's scratch descriptor, returned). */
    Descriptor read() { return slot().read(entry); }

    /** Entries of the table from the current segment's to the last. */
    int entriesLeft() { return entries - index(); }

    /**
     * Makes the current segment {@code count} whole entries from its start (a contiguous run or a
     * batch of leaves written at once); the caller has checked that they lie inside the range.
     */
    void take(int count) {
        segmentLast = va + count * span - 1;
    }
}
