package dev.granule.bench;

import dev.granule.format.Attributes;
import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.MapFlag;
import dev.granule.table.Slot;
import dev.granule.table.TableWalker;
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
 * The seed design's risk, measured: the same walk and map code with the 4K/48-bit geometry
 * <ul>
 *   <li><b>constant</b>: tables for {@link Geometry#FOUR_K_48} in a {@code static final}, what a
 *       kernel compiled for one page size has;
 *   <li><b>boot</b>: a {@code static final} built at class initialisation from a boot command
 *       line ({@code -Dgranule.boot=...}), like the kernel's {@code __ro_after_init} PAGE_SHIFT;
 *   <li><b>runtime</b>: tables held in an ordinary field, built from a command line at start-up,
 *       as a library serving several geometries in one process (a 4K TTBR0 and a 64K TTBR1) holds them.
 * </ul>
 * In all three the walk and the map's leaf loop run in the hidden copy of their code made for
 * 4K/48 (see {@code Vmsa64Walk}), whose geometry is a class constant; only how the tables are
 * reached differs. Two more walks give the scale: <b>genericRuntime</b>, the format-generic walk
 * (slots, 128-bit {@code Descriptor}s, the format an object in a field), which is what every walk did
 * before the per-geometry copies; and <b>handWritten</b>, a walk written for 4K/48 VMSAv8-64 alone
 * with its masks and shifts as literals, over the same memory and addresses.
 * No experimental JIT flags: what a user's JVM does.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GeometryFoldingBenchmark {

    static final int PROBES = 4096;
    static final int MAP_PAGES = 8192;
    static final int DENSE_PAGES = 16384;
    static final Set<MapFlag> PAGES_ONLY = EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS);

    /**
     * Each holder's tables are built only in the forks that use them (a holder class is initialised
     * on first use, and JMH makes a {@link RuntimeTables} state only for the benchmarks that take one), so
     * every fork has one set of tables, built at the same point of start-up: earlier versions built
     * all three in every fork, in the order constant, boot, runtime, and which set came first was a
     * suspect for the constant variant's lead in map.
     */
    static final class Constant {
        static final Tables TABLES = Tables.dense(Geometry.FOUR_K_48, DENSE_PAGES, PROBES);
    }

    /** Built from {@code -Dgranule.boot=...} when the class is initialised, then constant: {@code __ro_after_init}. */
    static final class Boot {
        static final Tables TABLES = Tables.dense(
                Geometry.boot(System.getProperty("granule.boot", "arm64.pagesize=4k")), DENSE_PAGES, PROBES);
    }

    /** Tables built from a command line at start-up and held in an ordinary field. */
    @State(Scope.Thread)
    public static class RuntimeTables {
        Tables tables;
        DescriptorFormat format;
        Slot slot;
        Descriptor scratch;
        int rootMask;

        @Setup
        public void setUp() {
            tables = Tables.dense(Geometry.boot("arm64.pagesize=4k"), DENSE_PAGES, PROBES);
            format = tables.walker().format();
            slot = new Slot(tables.space().memory(), format.descriptorShift());
            scratch = new Descriptor();
            rootMask = tables.walker().range().rootEntries(tables.walker().geometry()) - 1;
        }
    }

    private static long walkAll(Tables t) {
        long sum = 0;
        for (long va : t.vas()) sum += t.walker().outputAddress(va);
        return sum;
    }

    /** VMSAv8-64, 4K granule, 48-bit VA and OA: four levels of 512 entries, OA in bits [47:12]. */
    static long handWrittenFourK48(PhysicalMemory memory, long root, long va) {
        if ((va >>> 48) != 0) return -1;
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
    public long walkConstant() { return walkAll(Constant.TABLES); }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walkBoot() { return walkAll(Boot.TABLES); }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walkRuntime(RuntimeTables r) { return walkAll(r.tables); }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walkGenericRuntime(RuntimeTables r) {
        long sum = 0;
        long root = r.tables.space().root();
        for (long va : r.tables.vas()) sum += TableWalker.outputAddress(r.format, r.slot, r.scratch, root, r.rootMask, va);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long walkHandWritten(RuntimeTables r) {
        long sum = 0;
        PhysicalMemory memory = r.tables.space().memory();
        long root = r.tables.space().root();
        for (long va : r.tables.vas()) sum += handWrittenFourK48(memory, root, va);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(MAP_PAGES)
    public void mapConstant() { mapCycle(Constant.TABLES); }

    @Benchmark
    @OperationsPerInvocation(MAP_PAGES)
    public void mapBoot() { mapCycle(Boot.TABLES); }

    @Benchmark
    @OperationsPerInvocation(MAP_PAGES)
    public void mapRuntime(RuntimeTables r) { mapCycle(r.tables); }
}
