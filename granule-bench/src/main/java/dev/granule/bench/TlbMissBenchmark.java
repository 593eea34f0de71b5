package dev.granule.bench;

import dev.granule.geometry.Geometry;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Tlb;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Setup;


/**
 * The MMU's TLB-miss path on its own, without {@code TlbBenchmark.tlbMissWalk}'s invalidation of
 * the whole TLB before each probe: 8192 pages probed in order through a 1024-entry 4-way LRU TLB,
 * so every probe misses, walks and refills one entry (evicting one), as a replay's misses do;
 * against the compiled walk of the same tables and addresses. 4K/48, nanoseconds per probe.
 */
public class TlbMissBenchmark extends NanosecondBenchmark {

    static final int PAGES = 8192;

    Mmu mmu;
    Tlb tlb;
    Tables tables;
    long[] vas;

    @Setup
    public void setUp() {
        Geometry g = Geometry.FOUR_K_48;
        tables = Tables.dense(g, PAGES, 1);
        vas = new long[PAGES];
        for (int i = 0; i < PAGES; i++) vas[i] = tables.base() + ((long) i << g.pageShift()) + 8;
        tlb = new Tlb(1024, 4);
        mmu = tables.mmu(tlb);
        long before = tlb.hits();
        for (int round = 0; round < 2; round++) for (long va : vas) mmu.outputAddress(va, Access.READ, 0);
        if (tlb.hits() != before) throw new IllegalStateException("the probes should all miss: " + (tlb.hits() - before) + " hits");
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long mmuMissOutputAddress() {
        return Tables.outputAddressSum(mmu, vas);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long compiledWalk() {
        long sum = 0;
        for (long va : vas) sum += tables.walker().outputAddress(va);
        return sum;
    }
}
