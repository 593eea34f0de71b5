package dev.granule.bench;

import dev.granule.geometry.Geometry;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Tlb;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Setup;


/**
 * The MMU's TLB-hit path (64 distinct pages, a 1024-entry 4-way TLB: every probe hits after the
 * first round) against a TLB miss on every probe (invalidated each time), 4K/48.
 */
public class TlbBenchmark extends NanosecondBenchmark {

    static final int PROBES = 1024;

    Mmu mmu;
    long[] vas;

    @Setup
    public void setUp() {
        Tables t = Tables.dense(Geometry.FOUR_K_48, 64, PROBES);
        mmu = t.mmu(new Tlb(1024, 4));
        vas = t.vas();
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long tlbHit() {
        long sum = 0;
        for (long va : vas) sum += Tables.pa(mmu.translate(va, Access.READ, 0));
        return sum;
    }

    /** The allocation-free path: PA only, from the TLB entry. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long tlbHitOutputAddress() {
        return Tables.outputAddressSum(mmu, vas);
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long tlbMissWalk() { return Tables.missSum(mmu, vas); }
}
