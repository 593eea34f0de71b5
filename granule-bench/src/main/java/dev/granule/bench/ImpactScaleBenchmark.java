package dev.granule.bench;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.impact.ImpactAnalysis;
import dev.granule.impact.PageSizeImpact;
import dev.granule.impact.SmapsParser;
import dev.granule.impact.Vma;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.MapFlag;
import dev.granule.table.VaRange;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code granule impact} at server size, milliseconds per analysis (3 page sizes each): a
 * 4 TiB-resident process (one 4 TiB heap among 60 library-like mappings), 10,000 processes of 60
 * mappings parsed from smaps text, and, for the record, what the analysis before this change did:
 * building the tables with the engine page by page, for a 64 GiB-resident process (4K pages only;
 * it refused more than 256 GiB). Forks run in -Xmx256m.
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class ImpactScaleBenchmark extends SmallHeapBenchmark {

    List<Vma> fourTebibytes, sixtyFourGibibytes;
    List<String> smaps;

    static List<Vma> process(long heapBytes, SplittableRandom random) {
        List<Vma> out = new ArrayList<>();
        long lib = 0x7f00_0000_0000L;
        for (int i = 0; i < 59; i++) {
            long size = (1 + random.nextInt(512)) << 12;
            out.add(new Vma(lib, lib + size, "r-xp", 1000 + i, "/usr/lib/lib" + i + ".so", size / 2 & -4096L, 0));
            lib += size + (random.nextInt(16) << 12);
        }
        out.add(new Vma(0x1000_0000_0000L, 0x1000_0000_0000L + heapBytes, "rw-p", 0, "", heapBytes, heapBytes));
        return out;
    }

    static String smapsText(List<Vma> vmas) {
        StringBuilder b = new StringBuilder();
        for (Vma v : vmas) {
            b.append(Long.toHexString(v.start())).append('-').append(Long.toHexString(v.end())).append(' ').append(v.perms())
                    .append(" 00000000 08:01 ").append(v.inode()).append(' ').append(v.path()).append('\n')
                    .append("Size: ").append(v.size() >> 10).append(" kB\nRss: ").append(v.rssBytes() >> 10)
                    .append(" kB\nAnonymous: ").append(v.anonBytes() >> 10).append(" kB\n");
        }
        return b.toString();
    }

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(10_000);
        fourTebibytes = process(4L << 40, random);
        sixtyFourGibibytes = process(64L << 30, random);
        smaps = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) smaps.add(smapsText(process((1 + random.nextInt(1024)) << 20, random)));
        if (ImpactAnalysis.analyse(fourTebibytes).getFirst().tlbEntries() < 1L << 30) throw new IllegalStateException("4 TiB not counted");
    }

    @Benchmark
    public List<PageSizeImpact> fourTebibyteProcess() {
        return ImpactAnalysis.analyse(fourTebibytes);
    }

    @Benchmark
    public List<PageSizeImpact> tenThousandProcesses() {
        List<List<PageSizeImpact>> per = new ArrayList<>();
        for (int i = 0; i < smaps.size(); i++) per.add(ImpactAnalysis.analyse(SmapsParser.parse("p" + i, smaps.get(i))));
        return ImpactAnalysis.total(per);
    }

    /** The arithmetic on the 64 GiB process, beside the engine below. */
    @Benchmark
    public List<PageSizeImpact> sixtyFourGibibyteProcess() {
        return ImpactAnalysis.analyse(sixtyFourGibibytes);
    }

    /** The old way for the 64 GiB process at 4K only: map every resident page with the engine and count its tables. */
    @Benchmark
    public long sixtyFourGibibyteProcessEngineBuilt4K() {
        Geometry g = Geometry.FOUR_K_48;
        try (SparseMemory memory = SparseMemory.confinedOfPaBits(48)) {
            FrameAllocator frames = FrameAllocator.over(memory, g.pageSize(), new MemoryRange(0xFF00_0000_0000L, 1L << 36));
            AddressSpace space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
            for (Vma v : sixtyFourGibibytes) {
                long res = Math.min((v.rssBytes() + 4095) & -4096L, v.size());
                if (res > 0) space.map(v.start(), v.start(), res, Attributes.userData(),
                        EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
            }
            return space.tableBytes();
        }
    }
}
