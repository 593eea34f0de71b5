package dev.granule.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.dump.DumpFormatException;
import dev.granule.dump.ElfCore;
import dev.granule.dump.ElfNote;
import dev.granule.dump.KernelTables;
import dev.granule.dump.VmcoreInfo;
import dev.granule.dump.VmcoreInfoException;
import dev.granule.dump.VmcoreInfoGeometry;
import dev.granule.dump.VmcoreInfoScanner;
import dev.granule.memory.MappedMemory;
import dev.granule.memory.MemoryRange;
import dev.granule.table.TableWalker;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * Any bytes given to the ELF core reader: it either reads them or throws a
 * {@link DumpFormatException} with a message; nothing else may escape (no IndexOutOfBounds, no
 * OutOfMemoryError, no IllegalArgumentException from building memory). What it reads must be
 * self-consistent, and everything downstream (notes, registers, VMCOREINFO, the memory, a walk of
 * the tables VMCOREINFO points at) must behave the same way on it.
 */
class ElfCoreFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyBytesParseOrFailWithADumpFormatException(byte[] data) {
        ElfCore core;
        try {
            core = ElfCore.parse(MemorySegment.ofArray(data));
        } catch (DumpFormatException e) {
            message(e);
            return;
        }
        for (ElfNote n : core.notes()) {
            if (n.at() < 0 || n.at() + 12 > data.length || n.descSize() > data.length) {
                throw new AssertionError("note outside the file: " + n);
            }
            try {
                n.descBytes(1 << 16);
            } catch (DumpFormatException e) {
                message(e);
            }
        }
        try {
            core.prStatus();
        } catch (DumpFormatException e) {
            message(e);
        }
        long previousEnd = -1;
        for (MappedMemory.Segment s : core.segments()) {
            if (s.fileOffset() + s.fileSize() > data.length) throw new AssertionError("segment leaves the file: " + s);
        }
        try (MappedMemory memory = core.memory()) {
            for (MemoryRange r : memory.ranges()) {
                if (Long.compareUnsigned(r.base(), previousEnd) < 0 && previousEnd != -1) {
                    throw new AssertionError("ranges overlap or are unsorted: " + memory.ranges());
                }
                previousEnd = r.end();
                long first = (r.base() + 7) & -8L;
                if (first + 8 <= r.end()) memory.readLong(first);
                long last = (r.end() - 8) & -8L;
                if (last >= r.base()) memory.readLong(last);
            }
            Optional<String> text;
            try {
                text = core.vmcoreInfoText();
            } catch (DumpFormatException e) {
                message(e);
                text = Optional.empty();
            }
            if (text.isEmpty()) {
                text = VmcoreInfoScanner.scan(memory).map(f -> String.join("\n", f.info().entries().keySet()));
            }
            if (text.isPresent()) walk(memory, text.get());
        }
    }

    private static void walk(MappedMemory memory, String text) {
        KernelTables tables;
        try {
            tables = VmcoreInfoGeometry.detect(VmcoreInfo.parse(text));
        } catch (VmcoreInfoException e) {
            message(e);
            return;
        }
        TableWalker walker = tables.walker(memory);
        walker.setReadLimit(20_000);
        long[] leaves = {0};
        walker.walk((va, level, d) -> ++leaves[0] < 5_000);
        walker.lookup(walker.firstVa());
        walker.outputAddress(walker.lastVa());
    }

    private static void message(RuntimeException e) {
        if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("no message", e);
    }
}
