package dev.granule.mmu;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TLB's least-recently-used replacement across the wrap of its int age clock, which a replay or
 * emulation of more than 2^31 accesses reaches: the clock is set just below Integer.MAX_VALUE (by
 * reflection, rather than 2^31 real lookups), then the order of use decides the victim as always.
 * Only a TLB of more than {@link Tlb#MAX_ORDERED_WAYS} ways keeps ages (fewer keep each set's order
 * in one long, with no clock), so these sets have 17 ways.
 */
class TlbAgeWrapTest {

    private static final int PAGE = 12;
    private static final int WAYS = Tlb.MAX_ORDERED_WAYS + 1;

    @Test
    void theLeastRecentlyUsedWayIsEvictedAcrossTheClocksWrap() throws ReflectiveOperationException {
        Tlb tlb = new Tlb(WAYS, WAYS);                 // one set: every page lands in it
        Field clock = Tlb.class.getDeclaredField("clock");
        clock.setAccessible(true);
        clock.setInt(tlb, Integer.MAX_VALUE - WAYS + 2);
        for (int p = 0; p < WAYS; p++) tlb.insert(va(p), va(p) + 0x4000_0000L, PAGE, -1, 0, 0);
        assertThat(tlb.lookup(va(0), 0)).isGreaterThanOrEqualTo(0);   // page 0 becomes the most recent; page 1 the least
        tlb.insert(va(WAYS), va(WAYS) + 0x4000_0000L, PAGE, -1, 0, 0);
        assertThat(tlb.lookup(va(1), 0)).as("page 1, the least recently used, evicted").isEqualTo(-1);
        for (int p = 0; p <= WAYS; p++) {
            if (p != 1) assertThat(tlb.lookup(va(p), 0)).as("page %d kept", p).isGreaterThanOrEqualTo(0);
        }
    }

    @Test
    void renumberingKeepsEachSetsOrderAndLeavesEmptyWaysEmpty() throws ReflectiveOperationException {
        Tlb tlb = new Tlb(2 * WAYS, WAYS);             // two sets; 4K pages alternate between them
        Field clock = Tlb.class.getDeclaredField("clock");
        clock.setAccessible(true);
        // Set 0 gets the even pages 0, 2, .. 2(WAYS - 2) (one way left empty), set 1 gets page 1;
        // the clock wraps during these inserts.
        clock.setInt(tlb, Integer.MAX_VALUE - WAYS / 2);
        for (int p = 0; p < WAYS - 1; p++) tlb.insert(va(2 * p), va(2 * p), PAGE, -1, 0, 0);
        tlb.insert(va(1), va(1), PAGE, -1, 0, 0);
        tlb.insert(va(2 * (WAYS - 1)), va(2 * (WAYS - 1)), PAGE, -1, 0, 0);   // fills set 0's empty way, not an eviction
        assertThat(tlb.evictions()).isZero();
        tlb.lookup(va(0), 0);                           // page 0 now the most recent of set 0; page 2 the least
        tlb.insert(va(2 * WAYS), va(2 * WAYS), PAGE, -1, 0, 0);
        assertThat(tlb.lookup(va(2), 0)).isEqualTo(-1);
        assertThat(tlb.lookup(va(0), 0)).isGreaterThanOrEqualTo(0);
        assertThat(tlb.lookup(va(1), 0)).isGreaterThanOrEqualTo(0);
    }

    private static long va(int page) { return (long) page << PAGE; }
}
