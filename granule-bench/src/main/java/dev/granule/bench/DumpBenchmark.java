package dev.granule.bench;

import dev.granule.dump.ElfCoreWriter;
import dev.granule.dump.KernelDump;
import dev.granule.geometry.Geometry;
import dev.granule.table.KernelLayout;
import dev.granule.table.Ptdump;
import dev.granule.table.TableWalker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Kernel dumps: translating kernel addresses through the tables in a memory-mapped ELF vmcore, and a
 * ptdump of the kernel's whole TTBR1 half. The dump is written at setup from {@link KernelLayout}'s
 * arm64 kernel (1 GiB of DRAM, the linear map in pages as with {@code rodata=full}, so a linear
 * address takes a full walk), with the VMCOREINFO Linux writes; the same tables in the sparse memory
 * model they were built in are walked alongside, so the mapped file's cost shows as a ratio.
 */
@State(Scope.Benchmark)
public class DumpBenchmark extends NanosecondBenchmark {

    static final int PROBES = 4096;
    static final long DRAM = 1L << 30;

    @Param({"arm64.pagesize=4k", "arm64.pagesize=64k granule.va_bits=48"})
    public String boot;

    Path file;
    KernelDump dump;
    KernelLayout.Built built;
    TableWalker inFile;
    TableWalker inModel;
    long[] vas;

    @Setup(Level.Trial)
    public void writeAndOpenDump() throws IOException {
        Geometry g = Geometry.boot(boot);
        KernelLayout layout = KernelLayout.virt(g, DRAM);
        built = layout.build(true);
        file = Files.createTempFile("granule-bench-vmcore", ".elf");
        ElfCoreWriter.write(file, built.memory(), List.of(ElfCoreWriter.Note.vmcoreInfo(layout.vmcoreInfo(built.space().root()))));
        dump = KernelDump.open(file);
        if (!dump.geometry().equals(g)) throw new IllegalStateException("dump read back as " + dump.geometry());
        inFile = dump.kernelWalker();
        inModel = built.space().walker();
        SplittableRandom random = new SplittableRandom(42);
        vas = new long[PROBES];
        for (int i = 0; i < PROBES; i++) vas[i] = layout.linearVa(layout.dram().base() + random.nextLong(DRAM));
        if (inFile.outputAddress(vas[0]) != inModel.outputAddress(vas[0]) || inFile.outputAddress(vas[0]) == -1) {
            throw new IllegalStateException("the dump and the model disagree on 0x" + Long.toHexString(vas[0]));
        }
    }

    @TearDown(Level.Trial)
    public void closeAndDelete() throws IOException {
        dump.close();
        built.memory().close();
        Files.deleteIfExists(file);
    }

    /** Linear-map address to PA through the tables in the mapped vmcore (a 4- or 3-level walk). */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long translateInMappedDump() { return translateAll(inFile); }

    /** The same walks over the same tables in the sparse memory model they were built in. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long translateInMemoryModel() { return translateAll(inModel); }

    private long translateAll(TableWalker walker) {
        long sum = 0;
        for (long va : vas) sum += walker.outputAddress(va);
        return sum;
    }

    /** The whole TTBR1 half as ranges (linear map, kernel image), time per ptdump. */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public int ptdumpKernelHalf() {
        return Ptdump.ranges(inFile, inFile.firstVa(), inFile.lastVa()).size();
    }
}
