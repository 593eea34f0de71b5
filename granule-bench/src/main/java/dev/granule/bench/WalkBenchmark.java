package dev.granule.bench;

import dev.granule.geometry.Geometry;
import dev.granule.table.Mapping;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A full table walk (a TLB miss) per granule and level count, on tables that fit the caches, and
 * the naive baseline: the convenient lookup that decodes into objects on the heap.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WalkBenchmark {

    static final int PROBES = 4096;

    @Param({"arm64.pagesize=4k granule.va_bits=39", "arm64.pagesize=4k", "arm64.pagesize=4k granule.va_bits=52",
            "arm64.pagesize=16k granule.va_bits=47", "arm64.pagesize=64k granule.va_bits=42",
            "arm64.pagesize=64k granule.va_bits=52"})
    public String boot;

    Tables tables;

    @Setup
    public void setUp() {
        Geometry g = Geometry.boot(boot);
        tables = Tables.dense(g, 16384, PROBES);
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walk() {
        long sum = 0;
        for (long va : tables.vas()) sum += tables.walker().outputAddress(va);
        return sum;
    }

    /** The baseline the design avoids: a Mapping, Attributes and Descriptor allocated per lookup. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long naiveLookup() {
        long sum = 0;
        for (long va : tables.vas()) {
            Optional<Mapping> m = tables.walker().lookup(va);
            sum += m.map(x -> x.translate(va)).orElse(-1L);
        }
        return sum;
    }
}
