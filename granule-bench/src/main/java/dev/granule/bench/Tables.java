package dev.granule.bench;

import dev.granule.format.Attributes;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.MapFlag;
import dev.granule.table.TableWalker;
import dev.granule.table.VaRange;

import java.util.EnumSet;
import java.util.SplittableRandom;

/**
 * Benchmark fixtures: an address space with {@code pages} pages mapped at page granularity (no
 * blocks, no runs, so every walk goes to the last level), and a shuffled list of VAs inside it.
 *
 * @param space  the tables
 * @param walker a walker over them
 * @param vas    mapped addresses in random order
 * @param base   first mapped VA
 */
public record Tables(AddressSpace space, TableWalker walker, long[] vas, long base) {

    /** VA where the mapped range starts: high enough that every level's index is non-zero. */
    static long baseFor(Geometry g) {
        long base = 0;
        for (int level = g.startLevel(); level <= 3; level++) base |= 1L << g.shift(level);
        return base & g.vaMask();
    }

    public static Tables dense(Geometry g, int pages, int probes) {
        SparseMemory memory = SparseMemory.ofPaBits(g.paBits());
        // Short-descriptor tables must lie below 4 GiB (32-bit table addresses).
        MemoryRange pool = g.format() == TranslationFormat.SHORT ? new MemoryRange(1L << 31, 1L << 30)
                : new MemoryRange(1L << (g.paBits() - 1), 1L << 32);
        FrameAllocator frames = FrameAllocator.over(memory, g.fullTableBytes(), pool);
        AddressSpace space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
        long base = baseFor(g);
        space.map(base, 1L << 30, (long) pages << g.pageShift(), Attributes.userData(),
                EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
        SplittableRandom random = new SplittableRandom(42);
        long[] vas = new long[probes];
        for (int i = 0; i < probes; i++) {
            vas[i] = base + ((long) random.nextInt(pages) << g.pageShift()) + random.nextInt((int) g.pageSize());
        }
        return new Tables(space, space.walker(), vas, base);
    }

    /**
     * An MMU translating through these tables as TTBR0 of a 4K/48 stage 1 regime, caching in
     * {@code tlb}: TCR_EL1 T0SZ = 16 (48-bit VAs), TG0 = 4K, IPS = 0b101 (48-bit PAs), EPD1 (no
     * TTBR1 walks); MAIR attribute 0 Normal write-back, SCTLR.M set.
     */
    public Mmu mmu(Tlb tlb) {
        if (!space.geometry().equals(Geometry.FOUR_K_48)) {
            throw new IllegalStateException("the TCR here is 4K/48's; these tables are " + space.geometry().label());
        }
        long tcr = 16 | (0b101L << 32) | (1L << 23);
        var registers = new Registers(tcr, space.root(), 0, 0xFF, 1, false);
        return new Mmu(new TranslationRegime(registers, CpuFeatures.ALL), space.memory(), tlb);
    }

    /**
     * What the TLB benchmarks time: {@code mmu}'s output address for a read at EL0 of every probe,
     * the PA only (nothing allocated), summed so that no translation is dead code.
     */
    static long outputAddressSum(Mmu mmu, long[] vas) {
        long sum = 0;
        for (long va : vas) sum += mmu.outputAddress(va, Access.READ, 0);
        return sum;
    }

    /**
     * What the TLB-miss benchmarks time: {@code mmu}'s whole TLB invalidated before each probe, so
     * that every read at EL0 is a full walk (the {@link Translation} record made), the PAs summed.
     */
    static long missSum(Mmu mmu, long[] vas) {
        Tlb tlb = mmu.tlb();
        long sum = 0;
        for (long va : vas) {
            tlb.invalidateAll();
            sum += pa(mmu.translate(va, Access.READ, 0));
        }
        return sum;
    }

    /** A translation's PA, -1 for a fault. */
    static long pa(Translation t) {
        return t instanceof Translation.Translated x ? x.pa() : -1;
    }
}
