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
 * run: {@code PAGES} pages mapped page by page (no blocks, no runs) at a 48-bit VA in either format
 * (VMSAv8-64: levels 0..3 for 4K and 16K, 1..3 for 64K; VMSAv9-128: -1..3, -1..3 and 0..3, as a
 * 16-byte descriptor halves each table), with permission indirection on in both (TCR2_EL1.PIE for
 * VMSAv8-64, implied by TCR2_EL1.D128) and the same PIR_EL1/PIRE0_EL1, so the leaf work is the same.
 * Miss: the pages probed in order through a 1024-entry 4-way TLB, every probe misses, walks and
 * refills ({@link TlbMissBenchmark}'s pattern). Hit: 256 pages probed over and over, all cached.
 * Nanoseconds per probe.
 *
 * <p>The format is a parameter, so that a fork builds the tables and MMUs of the format it measures
 * and nothing else: until 2026-12-03 every fork built both formats' MMUs (VMSAv8-64's first) and ran
 * both formats' miss paths in its set-up, so the two formats' hit forks differed in what else was in
 * their heap and their profile, not only in the format.
 */
public class D128TlbBenchmark extends NanosecondBenchmark {

    static final int PAGES = 8192, HOT_PAGES = 256;
    static final long ALL_RW = 0xCCCC_CCCC_CCCC_CCCCL; // PIR/PIRE0: read/write at every PIIndex

    @Param({"4K", "16K", "64K"})
    public String granule;

    @Param({"d64", "d128"})
    public String format;

    Mmu miss, hit;
    long[] missVas, hotVas;

    @Setup
    public void setUp() {
        Granule g = Granule.ofPageSize(Long.parseLong(granule.replace("K", "")) << 10);
        boolean d128 = switch (format) {
            case "d64" -> false;
            case "d128" -> true;
            default -> throw new IllegalArgumentException("format d64 or d128, not " + format);
        };
        Tables t = Tables.dense(Geometry.of(g, d128 ? TranslationFormat.D128 : TranslationFormat.D64, 48, 48), PAGES, 1);
        missVas = inOrder(t, PAGES);
        hotVas = inOrder(t, HOT_PAGES);
        long tcr2 = d128 ? IndirectPermissions.TCR2_D128 : IndirectPermissions.TCR2_PIE;
        miss = mmu(t, g, tcr2);
        hit = mmu(t, g, tcr2);
        // Same mappings in both formats: page i at Tables.dense's PA (1 GiB) + i pages, none faulting.
        for (int i = 0; i < PAGES; i++) {
            long pa = miss.outputAddress(missVas[i], Access.READ, 0);
            long expected = (1L << 30) + (missVas[i] - t.base());
            if (pa != expected) {
                throw new IllegalStateException(format + " page " + i + ": PA 0x" + Long.toHexString(pa) + ", expected 0x"
                        + Long.toHexString(expected));
            }
        }
        long before = miss.tlb().hits();
        Tables.outputAddressSum(miss, missVas);
        if (miss.tlb().hits() != before) throw new IllegalStateException("the miss probes should all miss");
        Tables.outputAddressSum(hit, hotVas);
        before = hit.tlb().misses();
        Tables.outputAddressSum(hit, hotVas);
        if (hit.tlb().misses() != before) throw new IllegalStateException("the hit probes should all hit");
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
    public long tlbMiss() { return Tables.outputAddressSum(miss, missVas); }

    @Benchmark
    @OperationsPerInvocation(HOT_PAGES)
    public long tlbHit() { return Tables.outputAddressSum(hit, hotVas); }
}
