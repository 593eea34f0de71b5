package dev.granule.bench;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Armv7Mmu;
import dev.granule.mmu.Armv7Registers;
import dev.granule.mmu.Tlb;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;


/**
 * The AArch32 MMU's TLB-hit path, to set beside {@link TlbBenchmark}'s AArch64 one in the same run:
 * 64 small pages (4 KiB, client domain, short descriptors) or 64 LPAE pages, a 1024-entry 4-way TLB,
 * every probe a hit after the first round. The short-descriptor hit also reads the DACR.
 */
public class Armv7TlbBenchmark extends NanosecondBenchmark {

    static final int PAGES = 64, PROBES = 1024;
    static final long L1 = 0x4000_0000L, L2 = 0x4001_0000L, L3 = 0x4002_0000L;

    @Param({"short", "lpae"})
    String format;

    Armv7Mmu mmu;
    long[] vas;

    @Setup
    public void setUp() {
        SparseMemory memory = SparseMemory.of(new MemoryRange(L1, 1L << 24));
        Armv7Registers r;
        if (format.equals("short")) {
            // First-level entry 0 -> a page table at L2; 64 small pages, AP[1:0] = 0b11, domain 0 client.
            memory.writeInt(L1, (int) (L2 | 0b01));
            for (int i = 0; i < PAGES; i++) memory.writeInt(L2 + 4L * i, (int) (0x8000_0000L + ((long) i << 12) | 0b11L << 4 | 0b10));
            r = new Armv7Registers(1, 0, L1, 0, 0x5555_5555L, 0, 0, false);
        } else {
            // Level 1 entry 0 -> L2, level 2 entry 0 -> L3, 64 pages with AF and AP[2:1] = 0b01.
            memory.writeLong(L1, L2 | 0b11);
            memory.writeLong(L2, L3 | 0b11);
            for (int i = 0; i < PAGES; i++) memory.writeLong(L3 + 8L * i, 0x8000_0000L + ((long) i << 12) | 1L << 10 | 0b01L << 6 | 0b11);
            r = new Armv7Registers(1, 1L << 31, L1, 0, 0, 0xFF, 0, false);
        }
        mmu = new Armv7Mmu(r, memory, Armv7Mmu.Profile.ARMV7, new Tlb(1024, 4));
        vas = new long[PROBES];
        java.util.Random random = new java.util.Random(1);
        for (int i = 0; i < PROBES; i++) vas[i] = ((long) random.nextInt(PAGES) << 12) | random.nextInt(4096) & ~7;
        for (long va : vas) {
            if (mmu.outputAddress(va, Access.READ, 0) != 0x8000_0000L + va) throw new IllegalStateException("set-up maps 0x" + Long.toHexString(va) + " wrongly");
        }
    }

    /** The allocation-free path: PA only, from the TLB entry. */
    @Benchmark
    @OperationsPerInvocation(PROBES)
    public long tlbHitOutputAddress() {
        long sum = 0;
        for (long va : vas) sum += mmu.outputAddress(va, Access.READ, 0);
        return sum;
    }
}
