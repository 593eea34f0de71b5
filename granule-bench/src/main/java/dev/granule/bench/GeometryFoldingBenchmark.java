package dev.granule.bench;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.table.AddressSpace;
import dev.granule.table.MapFlag;
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

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The seed design's risk, measured: the same walk and map code with the geometry
 * <ul>
 *   <li><b>constant</b>: a {@code static final} built from {@link Geometry#FOUR_K_48}, what a kernel
 *       compiled for one page size has;
 *   <li><b>boot</b>: a {@code static final} built at class initialisation from a boot command
 *       line ({@code -Dgranule.boot=...}): chosen at start-up, yet a constant to the JIT, like the
 *       kernel's {@code __ro_after_init} PAGE_SHIFT;
 *   <li><b>runtime</b>: held in an ordinary field, chosen at start-up, as a library that serves
 *       several geometries in one process (a 4K TTBR0 and a 64K TTBR1) must hold it.
 * </ul>
 * HotSpot folds {@code static final} fields and the fields of records reached from them; the
 * engine's objects are plain final classes, so this fork trusts final instance fields too
 * ({@code TrustFinalNonStaticFields}), which lets "constant" and "boot" fold all the way down.
 * All three run in the same fork under the same flags.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UnlockExperimentalVMOptions", "-XX:+TrustFinalNonStaticFields"})
public class GeometryFoldingBenchmark {

    static final int PROBES = 4096;
    static final int MAP_PAGES = 8192;
    static final Set<MapFlag> PAGES_ONLY = EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS);

    static final Tables CONSTANT = Tables.dense(Geometry.FOUR_K_48, 16384, PROBES);
    static final Tables BOOT = Tables.dense(
            Geometry.boot(System.getProperty("granule.boot", "arm64.pagesize=4k")), 16384, PROBES);

    Tables runtime;

    @Setup
    public void setUp() {
        runtime = Tables.dense(Geometry.boot("arm64.pagesize=4k"), 16384, PROBES);
    }

    private static long walkAll(Tables t) {
        long sum = 0;
        for (long va : t.vas()) sum += t.walker().outputAddress(va);
        return sum;
    }

    /** Maps MAP_PAGES pages above the dense range and unmaps them (the unmap frees whole tables). */
    private static void mapCycle(Tables t) {
        AddressSpace s = t.space();
        long va = t.base() + (1L << 32);
        long size = (long) MAP_PAGES << s.geometry().pageShift();
        s.map(va, 1L << 31, size, Attributes.userData(), PAGES_ONLY);
        s.unmap(va, size);
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walkConstant() { return walkAll(CONSTANT); }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walkBoot() { return walkAll(BOOT); }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walkRuntime() { return walkAll(runtime); }

    @Benchmark
    @OperationsPerInvocation(MAP_PAGES)
    public void mapConstant() { mapCycle(CONSTANT); }

    @Benchmark
    @OperationsPerInvocation(MAP_PAGES)
    public void mapBoot() { mapCycle(BOOT); }

    @Benchmark
    @OperationsPerInvocation(MAP_PAGES)
    public void mapRuntime() { mapCycle(runtime); }
}
