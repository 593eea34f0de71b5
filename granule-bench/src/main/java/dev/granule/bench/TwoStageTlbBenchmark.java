package dev.granule.bench;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.TranslationRegime;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Setup;


/**
 * Two-stage translation (EL1&amp;0 under HCR_EL2.VM) beside one stage, over the same stage-1
 * tables (4K/48, 64 pages, 4 levels): the TLB hit with stage 2 on and off, and the TLB miss, which
 * with a 4K/48 stage 2 in pages reads 4 stage-2 descriptors for each of the 4 stage-1 table reads
 * and for the output IPA, plus the 4 stage-1 descriptors: 24 reads. The stage-2 tables map every
 * IPA the walk needs to the same PA (4K pages, so no stage-2 block shortens the walk); the stage-1
 * tables are where {@link Tables#dense} put them.
 */
public class TwoStageTlbBenchmark extends NanosecondBenchmark {

    static final int PROBES = 1024;
    // Stage-1 TCR_EL1: T0SZ 16, EPD1, IPS 48 bits. VTCR_EL2: T0SZ 16, SL0 0b10 (start at level 0
    // with 4K), TG0 4K, PS 48 bits, RES1 bit 31.
    static final long TCR = 16 | 0b101L << 32 | 1L << 23;
    static final long VTCR = 16 | 0b10L << 6 | 0b101L << 16 | 1L << 31;
    static final long HCR_VM = 1;
    // Stage-2 page: AF, SH Inner, S2AP read+write, MemAttr Normal Write-Back, valid page.
    static final long S2_PAGE = 1L << 10 | 0b11L << 8 | 0b11L << 6 | 0b1111L << 2 | 0b11;
    static final long OA_MASK = 0x0000_FFFF_FFFF_F000L;
    static final long S2_FRAMES = 1L << 32;     // stage-2 tables: 4 GiB up, away from both stage-1 ranges

    Mmu oneStage;
    Mmu twoStage;
    long[] vas;

    @Setup
    public void setUp() {
        Tables t = Tables.dense(Geometry.FOUR_K_48, 64, PROBES);
        PhysicalMemory memory = t.space().memory();
        Registers s1 = new Registers(TCR, t.space().root(), 0, 0xFF, 1, false);
        oneStage = t.mmu(new Tlb(1024, 4));
        long s2Root = S2_FRAMES;
        Stage2Builder s2 = new Stage2Builder(memory, s2Root);
        for (long va : t.vas()) {
            // The IPAs of the four stage-1 descriptors (each table's page) and of the output page.
            long table = t.space().root();
            for (int level = 0; level <= 3; level++) {
                s2.identity(table);
                long d = memory.readLong(table + ((va >>> (39 - 9 * level)) & 511) * 8);
                table = d & OA_MASK;
            }
            s2.identity(table);
        }
        twoStage = new Mmu(new TranslationRegime(s1, CpuFeatures.ALL),
                new Stage2Regime(HCR_VM, VTCR, s2Root | 1L << 48, CpuFeatures.ALL), memory, new Tlb(1024, 4));
        vas = t.vas();
        for (long va : vas) {
            long pa = oneStage.outputAddress(va, Access.READ, 0);
            if (pa == -1 || pa != twoStage.outputAddress(va, Access.READ, 0)) {
                throw new IllegalStateException("stage 2 is meant to be the identity; differs at 0x" + Long.toHexString(va));
            }
        }
    }

    /** Writes 4K/48 stage-2 tables mapping single IPA pages to the same PA. */
    static final class Stage2Builder {
        private final PhysicalMemory memory;
        private long next;

        Stage2Builder(PhysicalMemory memory, long root) {
            this.memory = memory;
            this.next = root + 4096;
        }

        void identity(long ipa) {
            long table = S2_FRAMES;
            for (int level = 0; level < 3; level++) {
                long slot = table + ((ipa >>> (39 - 9 * level)) & 511) * 8;
                long d = memory.readLong(slot);
                if ((d & 3) != 3) {
                    d = next | 0b11;
                    next += 4096;
                    memory.writeLong(slot, d);
                }
                table = d & OA_MASK;
            }
            memory.writeLong(table + ((ipa >>> 12) & 511) * 8, (ipa & OA_MASK) | S2_PAGE);
        }
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long oneStageHit() { return Tables.outputAddressSum(oneStage, vas); }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long twoStageHit() { return Tables.outputAddressSum(twoStage, vas); }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long oneStageMiss() { return Tables.missSum(oneStage, vas); }

    /** Up to 24 descriptor reads per probe. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long twoStageMiss() { return Tables.missSum(twoStage, vas); }
}
