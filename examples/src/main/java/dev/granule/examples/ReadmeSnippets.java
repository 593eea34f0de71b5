package dev.granule.examples;

import dev.granule.format.Attributes;
import dev.granule.format.PermissionIndirection;
import dev.granule.geometry.Boot;
import dev.granule.geometry.BootResult;
import dev.granule.geometry.CpuPreset;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.IndirectPermissions;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.VaRange;

/**
 * The Java snippets of the README and docs/, each line as it is written there (ExamplesIT checks
 * that every line of every java block appears here), run from a module of its own. Each prints what it
 * computed, for the test to compare with values worked out from the architecture.
 */
public final class ReadmeSnippets {

    public static void main(String[] args) {
        bootGeometry();
        pageTables();
        permissions();
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

    /** docs/permissions.md: Linux's PIR_EL1/PIRE0_EL1 applied to a PAGE_KERNEL leaf. */
    static void permissions() {
        long tcr2 = IndirectPermissions.TCR2_PIE, porEl1 = 0, porEl0 = 0;
        long pir = PermissionIndirection.LINUX.pir(), pire0 = PermissionIndirection.LINUX.pire0();
        boolean pan = false, ha = false, hd = false;
        // PAGE_KERNEL: UXN [54], PXN [53], DBM [51] (PTE_WRITE), AF [10], AP[1] = 0: PIIndex 0b1110.
        long descriptor = 1L << 54 | 1L << 53 | 1L << 51 | 1L << 10 | 0x8000_0000L | 0b11;
        long descriptorHigh = 0; // a D128 leaf's upper half with PIIndex 0
        var p = IndirectPermissions.of(tcr2, pir, pire0, porEl1, porEl0);   // register values
        int rights = p.ofVmsa64(descriptor, pan);       // VMSAv8-64 leaf: PIIndex = UXN:PXN:DBM:AP[1], POIndex = [62:60]
        int rights128 = p.ofVmsa128(descriptorHigh, pan); // VMSAv9-128 leaf: PIIndex [118:115], POIndex [124:121]
        rights = IndirectPermissions.withDirtyState(rights, descriptor, ha && hd); // nDirty (bit 7) blocks writes
        System.out.println("permissions kernel=" + IndirectPermissions.describe(rights) + " index0=" + IndirectPermissions.describe(rights128));
    }
}
