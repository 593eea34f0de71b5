package dev.granule.examples;

import dev.granule.format.Attributes;
import dev.granule.geometry.Boot;
import dev.granule.geometry.BootResult;
import dev.granule.geometry.CpuPreset;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.VaRange;

/**
 * The Java snippets of the README, each line as it is written there (ExamplesIT checks that every
 * line of every README java block appears here), run from a module of its own. Each prints what it
 * computed, for the test to compare with values worked out from the architecture.
 */
public final class ReadmeSnippets {

    public static void main(String[] args) {
        bootGeometry();
        pageTables();
    }

    /** README, "Boot geometry". */
    static void bootGeometry() {
        Geometry g = Geometry.boot("arm64.pagesize=64k granule.va_bits=52");   // every-feature CPU
        BootResult r = Boot.resolve("arm64.pagesize=64k", CpuPreset.ALL.features());
        r.geometry().ptrsPerPgd();   r.fallbacks();   r.ignored();
        Geometry fixed = Geometry.FOUR_K_48;   // the "compile-time" path: a constant geometry
        System.out.println("boot " + g.label() + " PTRS_PER_PGD=" + g.ptrsPerPgd() + " default-va=" + r.geometry().vaBits()
                + " fixed=" + fixed.label());
    }

    /** README, "Page tables": map, protect, unmap and collapse, then a lookup through the tables. */
    static void pageTables() {
        Geometry g = Geometry.boot("arm64.pagesize=16k granule.va_bits=47");
        SparseMemory ram = SparseMemory.ofPaBits(g.paBits());              // off-heap, only touched 64K chunks exist
        FrameAllocator frames = FrameAllocator.over(ram, g.pageSize(), new MemoryRange(1L << 40, 1L << 30));
        AddressSpace space = AddressSpace.create(g, ram, frames, VaRange.LOWER);   // TTBR0; root() is BADDR
        space.map(0x200_0000, 0x8000_0000L, 34L << 20, Attributes.userData());    // a 32M block + a 2M CONT run
        space.protect(0x400_0000, 0x4000, Attributes.userText());              // breaks that run, keeps the rest
        space.unmap(0x200_4000, 0x4000);                                      // splits the block
        space.collapse(0x200_0000, 32L << 20);                                // merges back what can be merged
        space.lookup(0x200_0123).orElseThrow().pa();   space.walker().outputAddress(0x200_0123);   // allocation-free
        System.out.printf("tables lookup=%#x walk=%#x unmapped=%s%n", space.lookup(0x200_0123).orElseThrow().pa(),
                space.walker().outputAddress(0x200_0123), space.lookup(0x200_4000).isEmpty());
    }
}
