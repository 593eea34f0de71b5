package dev.granule.dump;

import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.TableWalker;
import dev.granule.table.VaRange;

import java.util.List;

/**
 * Where a dumped kernel's translation tables are and how to read them: the geometry the kernel
 * ran with and the physical address of its TTBR1 root table, with the evidence for each.
 *
 * @param evidence one line per fact used, e.g. {@code page size 4K from PAGESIZE=4096}
 */
public record KernelTables(Geometry geometry, long rootPa, List<String> evidence) {

    public KernelTables {
        evidence = List.copyOf(evidence);
    }

    /** A walker over the kernel half (TTBR1) of the address space. */
    public TableWalker walker(PhysicalMemory memory) {
        return TableWalker.of(geometry, memory, rootPa, VaRange.UPPER);
    }

    /**
     * The root table address in a TTBR value for {@code g}: BADDR is bits [47:1] (the table is at
     * least 8-byte aligned, so bit 0, CnP, is dropped), and with a 52-bit output address (64K with
     * FEAT_LPA, or 4K/16K with FEAT_LPA2) TTBR bits [5:2] hold BADDR[51:48] and BADDR[5:0] are zero.
     * ASID (bits [63:48]) is ignored.
     */
    public static long rootFromTtbr(Geometry g, long ttbr) {
        if (g.paBits() == 52) {
            return (ttbr & 0x0000_FFFF_FFFF_FFC0L) | (((ttbr >>> 2) & 0xF) << 48);
        }
        return ttbr & 0x0000_FFFF_FFFF_FFFEL;
    }
}
