package dev.granule.bench;

import dev.granule.geometry.Geometry;
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

import java.util.concurrent.TimeUnit;

/**
 * The one walker over every descriptor format: the same dense page-granular tables (every walk
 * reaches the last level) in VMSAv8-64, VMSAv9-128, Armv7 LPAE and Armv7 short descriptors. Each
 * fork sees one format only, as a process that booted with it would.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FormatWalkBenchmark {

    static final int PROBES = 4096;

    @Param({"granule.format=d64", "granule.format=d128", "granule.format=d128 arm64.pagesize=64k granule.va_bits=42",
            "granule.format=lpae", "granule.format=short"})
    public String boot;

    Tables tables;

    @Setup
    public void setUp() {
        tables = Tables.dense(Geometry.boot(boot), 16384, PROBES);
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walk() {
        long sum = 0;
        for (long va : tables.vas()) sum += tables.walker().outputAddress(va);
        return sum;
    }
}
