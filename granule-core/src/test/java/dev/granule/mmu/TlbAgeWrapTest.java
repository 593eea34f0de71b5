package dev.granule.mmu;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TLB's least-recently-used replacement across the wrap of its int age clock, which a replay or
 * emulation of more than 2^31 accesses reaches: the clock is set just below Integer.MAX_VALUE (by
 * reflection, rather than 2^31 real lookups), then the order of use decides the victim as always.
 */
class TlbAgeWrapTest {

    private static final int PAGE = 12;

    @Test
    void theLeastRecentlyUsedWayIsEvictedAcrossTheClocksWrap() throws ReflectiveOperationException {
        Tlb tlb = new Tlb(4, 4);                       // one set of four ways: every page lands in it
        Field clock = Tlb.class.getDeclaredField("clock");
        clock.setAccessible(true);
        clock.setInt(tlb, Integer.MAX_VALUE - 2);
        long a = 0x1000, b = 0x2000, c = 0x3000, d = 0x4000, e = 0x5000;
        for (long va : new long[] {a, b, c, d}) tlb.insert(va, va + 0x4000_0000L, PAGE, -1, 0, 0);
        assertThat(tlb.lookup(a, 0)).isGreaterThanOrEqualTo(0);   // a becomes the most recent; b the least
        tlb.insert(e, e + 0x4000_0000L, PAGE, -1, 0, 0);
        assertThat(tlb.lookup(b, 0)).as("b, the least recently used, evicted").isEqualTo(-1);
        for (long va : new long[] {a, c, d, e}) assertThat(tlb.lookup(va, 0)).as("0x%x kept", va).isGreaterThanOrEqualTo(0);
    }

    @Test
    void renumberingKeepsEachSetsOrderAndLeavesEmptyWaysEmpty() throws ReflectiveOperationException {
        Tlb tlb = new Tlb(8, 4);                       // two sets of four ways; 4K pages alternate between them
        Field clock = Tlb.class.getDeclaredField("clock");
        clock.setAccessible(true);
        clock.setInt(tlb, Integer.MAX_VALUE - 1);
        // Set 0 gets pages 0x0, 0x2000, 0x4000 (one way left empty), set 1 gets 0x1000.
        for (long va : new long[] {0x0, 0x2000, 0x1000, 0x4000}) tlb.insert(va, va, PAGE, -1, 0, 0);
        tlb.insert(0x6000, 0x6000, PAGE, -1, 0, 0);    // fills set 0's empty way, not an eviction
        assertThat(tlb.evictions()).isZero();
        tlb.lookup(0x0, 0);                             // order in set 0 now: 0x2000, 0x4000, 0x6000, 0x0
        tlb.insert(0x8000, 0x8000, PAGE, -1, 0, 0);
        assertThat(tlb.lookup(0x2000, 0)).isEqualTo(-1);
        assertThat(tlb.lookup(0x1000, 0)).isGreaterThanOrEqualTo(0);
    }
}
