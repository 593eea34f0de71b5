package dev.granule.bench;

import dev.granule.geometry.Geometry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Setup;

/**
 * A full table walk per probe (a TLB miss: pages only, so every walk reaches the last level) over
 * {@link Tables#dense} tables of 16384 pages that fit the caches, in the geometry of the boot
 * command line a subclass takes as its JMH parameter.
 */
public abstract class ProbeWalkBenchmark extends NanosecondBenchmark {

    static final int PROBES = 4096;

    Tables tables;

    /** The boot command line naming the geometry: the subclass's {@code @Param}. */
    abstract String boot();

    @Setup
    public void setUp() {
        tables = Tables.dense(Geometry.boot(boot()), 16384, PROBES);
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walk() {
        long sum = 0;
        for (long va : tables.vas()) sum += tables.walker().outputAddress(va);
        return sum;
    }
}
