package dev.granule.bench;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The MMU's TLB-hit path (64 distinct pages, a 1024-entry 4-way TLB: every probe hits after the
 * first round) against a TLB miss on every probe (invalidated each time), 4K/48.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TlbBenchmark {

    static final int PROBES = 1024;

    Mmu mmu;
    Tlb tlb;
    long[] vas;

    @Setup
    public void setUp() {
        Tables t = Tables.dense(Geometry.FOUR_K_48, 64, PROBES);
        long tcr = 16 | (0b101L << 32) | (1L << 23);
        tlb = new Tlb(1024, 4);
        mmu = new Mmu(new TranslationRegime(new Registers(tcr, t.space().root(), 0, 0xFF, 1, false), CpuFeatures.ALL),
                t.space().memory(), tlb);
        vas = t.vas();
    }

    private static long pa(Translation t) {
        return t instanceof Translation.Translated x ? x.pa() : -1;
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long tlbHit() {
        long sum = 0;
        for (long va : vas) sum += pa(mmu.translate(va, Access.READ, 0));
        return sum;
    }

    /** The allocation-free path: PA only, from the TLB entry. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long tlbHitOutputAddress() {
        long sum = 0;
        for (long va : vas) sum += mmu.outputAddress(va, Access.READ, 0);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long tlbMissWalk() {
        long sum = 0;
        for (long va : vas) {
            tlb.invalidateAll();
            sum += pa(mmu.translate(va, Access.READ, 0));
        }
        return sum;
    }
}
