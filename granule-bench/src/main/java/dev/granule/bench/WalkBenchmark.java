package dev.granule.bench;

import dev.granule.table.Mapping;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;

import java.util.Optional;

/**
 * A full table walk (a TLB miss) per granule and level count, on tables that fit the caches, and
 * the naive baseline: the convenient lookup that decodes into objects on the heap.
 */
public class WalkBenchmark extends ProbeWalkBenchmark {

    @Param({"arm64.pagesize=4k granule.va_bits=39", "arm64.pagesize=4k", "arm64.pagesize=4k granule.va_bits=52",
            "arm64.pagesize=16k granule.va_bits=47", "arm64.pagesize=64k granule.va_bits=42",
            "arm64.pagesize=64k granule.va_bits=52"})
    public String boot;

    @Override
    String boot() { return boot; }

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
