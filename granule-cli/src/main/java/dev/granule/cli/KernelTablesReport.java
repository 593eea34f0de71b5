package dev.granule.cli;

import dev.granule.table.KernelLayout;
import dev.granule.table.Mapping;

import java.io.PrintWriter;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the early kernel tables cost: table pages and bytes, and the leaves by size (a JSON-able
 * record, printed as a short block after the geometry).
 *
 * @param dramBytes      DRAM the linear map covers
 * @param rodata         the rodata= mode used
 * @param tablePages     table frames in use, the PGD included
 * @param tableBytes     bytes of table memory
 * @param leavesBySize   leaf size in bytes -> number of leaves of that size
 * @param contiguousLeaves leaves with the Contiguous bit set
 */
record KernelTablesReport(long dramBytes, String rodata, long tablePages, long tableBytes,
                          Map<Long, Long> leavesBySize, long contiguousLeaves) {

    static KernelTablesReport of(KernelLayout.Built built, String rodata) {
        try (var memory = built.memory()) {
            Map<Long, Long> bySize = new TreeMap<>();
            long contiguous = 0;
            for (Mapping m : built.space().mappings()) {
                bySize.merge(m.size(), 1L, Long::sum);
                if (m.contiguous()) contiguous++;
            }
            var frames = built.frames();
            return new KernelTablesReport(memory.ranges().getFirst().size(), rodata, frames.live(), frames.liveBytes(),
                    bySize, contiguous);
        }
    }

    void print(PrintWriter out) {
        out.println();
        out.printf("kernel tables  %s DRAM at 0x40000000, rodata=%s%n", Units.bytes(dramBytes), rodata);
        out.printf("table memory   %d pages, %s%n", tablePages, Units.bytes(tableBytes));
        StringBuilder leaves = new StringBuilder();
        for (var e : leavesBySize.entrySet()) {
            if (!leaves.isEmpty()) leaves.append(", ");
            leaves.append(e.getValue()).append(" x ").append(Units.bytes(e.getKey()));
        }
        out.printf("leaves         %s (%d with the Contiguous bit)%n", leaves, contiguousLeaves);
    }
}
