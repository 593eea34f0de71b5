package dev.granule.bench;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.MapFlag;
import dev.granule.table.VaRange;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

/**
 * Mapping 64 GiB with 4K pages and no blocks or runs (16 Mi PTEs, 128 MiB of PTE tables) into a
 * fresh address space, timed once per iteration: the "fits in memory and completes".
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = "-Xmx4g")
public class LargeMapBenchmark {

    @Param({"64"})
    public int gibibytes;

    SparseMemory memory;
    AddressSpace space;

    @Setup(org.openjdk.jmh.annotations.Level.Iteration)
    public void setUp() {
        Geometry g = Geometry.FOUR_K_48;
        memory = SparseMemory.ofPaBits(48);
        FrameAllocator frames = FrameAllocator.over(memory, g.pageSize(), new MemoryRange(1L << 46, 1L << 30));
        space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
    }

    @TearDown(org.openjdk.jmh.annotations.Level.Iteration)
    public void tearDown() {
        memory.close();
    }

    @Benchmark
    public long mapPagesOnly() {
        space.map(1L << 40, 1L << 36, (long) gibibytes << 30, Attributes.userData(),
                EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
        return space.tableBytes();
    }
}
