package dev.granule.bench;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
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
 * The MMU's TLB-miss path on its own, without {@code TlbBenchmark.tlbMissWalk}'s invalidation of
 * the whole TLB before each probe: 8192 pages probed in order through a 1024-entry 4-way LRU TLB,
 * so every probe misses, walks and refills one entry (evicting one), as a replay's misses do;
 * against the compiled walk of the same tables and addresses. 4K/48, nanoseconds per probe.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TlbMissBenchmark {

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
        long tcr = 16 | (0b101L << 32) | (1L << 23);
        tlb = new Tlb(1024, 4);
        mmu = new Mmu(new TranslationRegime(new Registers(tcr, tables.space().root(), 0, 0xFF, 1, false), CpuFeatures.ALL),
                tables.space().memory(), tlb);
        long before = tlb.hits();
        for (int round = 0; round < 2; round++) for (long va : vas) mmu.outputAddress(va, Access.READ, 0);
        if (tlb.hits() != before) throw new IllegalStateException("the probes should all miss: " + (tlb.hits() - before) + " hits");
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long mmuMissOutputAddress() {
        long sum = 0;
        for (long va : vas) sum += mmu.outputAddress(va, Access.READ, 0);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long compiledWalk() {
        long sum = 0;
        for (long va : vas) sum += tables.walker().outputAddress(va);
        return sum;
    }
}
