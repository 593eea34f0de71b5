package dev.granule.bench;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.TranslationFormat;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
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
}
