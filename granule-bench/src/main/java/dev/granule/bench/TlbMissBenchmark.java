package dev.granule.bench;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.TranslationRegime;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;


/**
 * The MMU's TLB-miss path on its own, without {@code TlbBenchmark.tlbMissWalk}'s invalidation of
 * the whole TLB before each probe: 8192 pages probed in order through a 1024-entry 4-way LRU TLB,
 * so every probe misses, walks and refills one entry (evicting one), as a replay's misses do;
 * against the compiled walk of the same tables and addresses. 48-bit VAs and PAs in each granule
 * (4 levels at 4K and 16K, 3 at 64K), nanoseconds per probe.
 *
 * <p>{@link #paired} is the ratio's own measure, made for this shared, loaded machine: each
 * invocation times a block of {@link #BLOCK} probes on each side back to back (some 20-60 us each,
 * alternating which goes first; the blocks walk on through the 8192 pages, so the MMU's probes
 * still all miss), and {@link Paired} keeps per iteration the sums and the fastest block of each
 * side. Both sides run in the same spell, and the fastest blocks are the ones no other process
 * interrupted: the miss/walk ratio is {@code missBest / walkBest} (or of the sums).
 */
public class TlbMissBenchmark extends NanosecondBenchmark {

    static final int PAGES = 8192;

    @Param({"4K", "16K", "64K"})
    public String granule;

    Mmu mmu;
    Tlb tlb;
    Tables tables;
    long[] vas;

    @Setup
    public void setUp() {
        Granule granule = Granule.ofPageSize(Long.parseLong(this.granule.replace("K", "")) << 10);
        Geometry g = Geometry.of(granule, TranslationFormat.D64, 48, 48);
        tables = Tables.dense(g, PAGES, 1);
        vas = new long[PAGES];
        for (int i = 0; i < PAGES; i++) vas[i] = tables.base() + ((long) i << g.pageShift()) + 8;
        tlb = new Tlb(1024, 4);
        // TTBR0 of an EL1&0 regime: T0SZ 16 (48-bit VAs), the granule's TG0, IPS 0b101 (48-bit PAs),
        // EPD1 (no TTBR1 walks); MAIR attribute 0 Normal write-back, SCTLR.M set.
        long tcr = 16 | (long) granule.tg0() << 14 | 0b101L << 32 | 1L << 23;
        mmu = new Mmu(new TranslationRegime(new Registers(tcr, tables.space().root(), 0, 0xFF, 1, false), CpuFeatures.ALL),
                tables.space().memory(), tlb);
        long before = tlb.hits();
        for (int round = 0; round < 2; round++) {
            for (long va : vas) {
                long pa = mmu.outputAddress(va, Access.READ, 0);
                if (pa != tables.walker().outputAddress(va)) throw new IllegalStateException("the MMU and the walk disagree at 0x" + Long.toHexString(va));
            }
        }
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
        return walkSum();
    }

    private long walkSum() {
        long sum = 0;
        for (long va : vas) sum += tables.walker().outputAddress(va);
        return sum;
    }

    static final int BLOCK = 1024;

    /** Per iteration, each side's nanoseconds per probe in its fastest block, and its sums ({@link #paired}). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Paired {
        // JMH zeroes the public counters before each iteration; the fastest blocks are kept here
        // (Double.MAX_VALUE until one is timed) and reported through the two methods below.
        public long missNanos, walkNanos, probes;
        double missFastest, walkFastest;
        int cursor;
        boolean missFirst;

        @Setup(Level.Iteration)
        public void reset() {
            missFastest = walkFastest = Double.MAX_VALUE;
        }

        public double missBest() { return missFastest; }

        public double walkBest() { return walkFastest; }
    }

    @Benchmark
    @OperationsPerInvocation(2 * BLOCK)
    public long paired(Paired p) {
        long sum = 0;
        int from = p.cursor;
        p.cursor = (from + BLOCK) % PAGES;
        p.missFirst = !p.missFirst;
        for (int side = 0; side < 2; side++) {
            boolean miss = p.missFirst == (side == 0);
            long start = System.nanoTime();
            if (miss) {
                for (int i = from; i < from + BLOCK; i++) sum += mmu.outputAddress(vas[i], Access.READ, 0);
            } else {
                for (int i = from; i < from + BLOCK; i++) sum += tables.walker().outputAddress(vas[i]);
            }
            long nanos = System.nanoTime() - start;
            if (miss) {
                p.missNanos += nanos;
                p.missFastest = Math.min(p.missFastest, (double) nanos / BLOCK);
            } else {
                p.walkNanos += nanos;
                p.walkFastest = Math.min(p.walkFastest, (double) nanos / BLOCK);
            }
        }
        p.probes += BLOCK;
        return sum;
    }
}
