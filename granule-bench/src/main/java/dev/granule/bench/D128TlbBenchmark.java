package dev.granule.bench;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import dev.granule.mmu.Access;
import dev.granule.mmu.IndirectPermissions;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.PermissionRegisters;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.TranslationRegime;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The MMU with VMSAv9-128 tables against VMSAv8-64 tables of the same mappings, per granule, in one
 * run: {@code PAGES} pages mapped page by page (no blocks, no runs) at a 48-bit VA in both formats
 * (VMSAv8-64: levels 0..3 for 4K and 16K, 1..3 for 64K; VMSAv9-128: -1..3, -1..3 and 0..3, as a
 * 16-byte descriptor halves each table), with permission indirection on in both (TCR2_EL1.PIE for
 * VMSAv8-64, implied by TCR2_EL1.D128) and the same PIR_EL1/PIRE0_EL1, so the leaf work is the same.
 * Miss: the pages probed in order through a 1024-entry 4-way TLB, every probe misses, walks and
 * refills ({@link TlbMissBenchmark}'s pattern). Hit: 256 pages probed over and over, all cached.
 * Nanoseconds per probe.
 */
public class D128TlbBenchmark extends NanosecondBenchmark {

    static final int PAGES = 8192, HOT_PAGES = 256;
    static final long ALL_RW = 0xCCCC_CCCC_CCCC_CCCCL; // PIR/PIRE0: read/write at every PIIndex

    @Param({"4K", "16K", "64K"})
    public String granule;

    Mmu d64Miss, d128Miss, d64Hit, d128Hit;
    long[] d64MissVas, d128MissVas, d64HotVas, d128HotVas;

    @Setup
    public void setUp() {
        Granule g = Granule.ofPageSize(Long.parseLong(granule.replace("K", "")) << 10);
        Tables t64 = Tables.dense(Geometry.of(g, TranslationFormat.D64, 48, 48), PAGES, 1);
        Tables t128 = Tables.dense(Geometry.of(g, TranslationFormat.D128, 48, 48), PAGES, 1);
        d64MissVas = inOrder(t64, PAGES);
        d128MissVas = inOrder(t128, PAGES);
        d64HotVas = inOrder(t64, HOT_PAGES);
        d128HotVas = inOrder(t128, HOT_PAGES);
        d64Miss = mmu(t64, g, IndirectPermissions.TCR2_PIE);
        d128Miss = mmu(t128, g, IndirectPermissions.TCR2_D128);
        d64Hit = mmu(t64, g, IndirectPermissions.TCR2_PIE);
        d128Hit = mmu(t128, g, IndirectPermissions.TCR2_D128);
        // Same mappings: both formats must give the same PAs (and none may fault).
        for (int i = 0; i < PAGES; i++) {
            long a = d64Miss.outputAddress(d64MissVas[i], Access.READ, 0);
            long b = d128Miss.outputAddress(d128MissVas[i], Access.READ, 0);
            if (a < 0 || a != b) throw new IllegalStateException("page " + i + ": d64 0x" + Long.toHexString(a) + ", d128 0x" + Long.toHexString(b));
        }
        for (Mmu m : new Mmu[]{d64Miss, d128Miss}) {
            long before = m.tlb().hits();
            Tables.outputAddressSum(m, m == d64Miss ? d64MissVas : d128MissVas);
            if (m.tlb().hits() != before) throw new IllegalStateException("the miss probes should all miss");
        }
        Tables.outputAddressSum(d64Hit, d64HotVas);
        Tables.outputAddressSum(d128Hit, d128HotVas);
    }

    /** The first {@code pages} mapped pages in VA order, 8 bytes into each. */
    static long[] inOrder(Tables t, int pages) {
        long[] vas = new long[pages];
        int shift = t.space().geometry().pageShift();
        for (int i = 0; i < pages; i++) vas[i] = t.base() + ((long) i << shift) + 8;
        return vas;
    }

    /** TTBR0 of an EL1&0 regime over the tables: T0SZ 16, the granule's TG0, IPS 48 bits, EPD1. */
    static Mmu mmu(Tables t, Granule g, long tcr2) {
        long tcr = 16 | (long) g.tg0() << 14 | 0b101L << 32 | 1L << 23;
        var regime = new TranslationRegime(new Registers(tcr, t.space().root(), 0, 0xFF, 1, false),
                new PermissionRegisters(tcr2, ALL_RW, ALL_RW, 0, 0), CpuFeatures.ALL);
        if (regime.d128() != (t.space().geometry().format() == TranslationFormat.D128)) {
            throw new IllegalStateException("the regime's format is not the tables'");
        }
        return new Mmu(regime, t.space().memory(), new Tlb(1024, 4));
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long d64TlbMiss() { return Tables.outputAddressSum(d64Miss, d64MissVas); }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long d128TlbMiss() { return Tables.outputAddressSum(d128Miss, d128MissVas); }

    @Benchmark
    @OperationsPerInvocation(HOT_PAGES)
    public long d64TlbHit() { return Tables.outputAddressSum(d64Hit, d64HotVas); }

    @Benchmark
    @OperationsPerInvocation(HOT_PAGES)
    public long d128TlbHit() { return Tables.outputAddressSum(d128Hit, d128HotVas); }
}
