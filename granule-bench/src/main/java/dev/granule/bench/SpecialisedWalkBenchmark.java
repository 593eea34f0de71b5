package dev.granule.bench;

import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the format abstraction costs a VMSAv8-64 walk, measured in one run: the generic walker
 * (formats plugged in through {@code DescriptorFormat}, slots of any width, replicated entries,
 * skip-level tables) against a walk written for 4K/48-bit VMSAv8-64 only, with its masks and
 * shifts as literals and descriptors read as longs, over the same tables and addresses.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class SpecialisedWalkBenchmark {

    static final int PROBES = 4096;
    static final Tables TABLES = Tables.dense(Geometry.FOUR_K_48, 16384, PROBES);

    /** VMSAv8-64, 4K granule, 48-bit VA and OA: four levels of 512 entries, OA in bits [47:12]. */
    static long specialisedFourK48(PhysicalMemory memory, long root, long va) {
        long table = root;
        for (int shift = 39; ; shift -= 9) {
            long d = memory.readLong(table + ((va >>> shift) & 511) * 8);
            if ((d & 1) == 0) return -1;
            boolean leaf = shift == 12 || (d & 2) == 0;
            if (leaf) {
                // Blocks at levels 1 and 2 only (AArch64.BlockDescSupported, 4K, DS=0); level 3 needs type 0b11.
                if ((shift == 39 && (d & 2) == 0) || (shift == 12 && (d & 2) == 0)) return -1;
                return (d & 0x0000_FFFF_FFFF_F000L & -(1L << shift)) | (va & ((1L << shift) - 1));
            }
            table = d & 0x0000_FFFF_FFFF_F000L;
        }
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long generic() {
        long sum = 0;
        for (long va : TABLES.vas()) sum += TABLES.walker().outputAddress(va);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long specialised() {
        long sum = 0;
        PhysicalMemory memory = TABLES.space().memory();
        long root = TABLES.space().root();
        for (long va : TABLES.vas()) sum += specialisedFourK48(memory, root, va);
        return sum;
    }
}
