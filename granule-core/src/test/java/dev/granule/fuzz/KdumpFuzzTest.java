package dev.granule.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.dump.DumpBytes;
import dev.granule.dump.DumpFormatException;
import dev.granule.dump.FlattenedFile;
import dev.granule.dump.KdumpFile;
import dev.granule.dump.KdumpMemory;
import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.PageState;

import java.lang.foreign.MemorySegment;

/**
 * Any bytes given to the kdump-compressed and flattened readers: they either read them or throw a
 * {@link DumpFormatException}; reading the memory they describe either gives bytes, throws a
 * DumpFormatException (a broken page descriptor or codec stream) or a {@link MemoryAccessException}
 * (a page not in the dump). Nothing else may escape, and what is read must be self-consistent:
 * ranges sorted and disjoint, every byte of a range present.
 */
class KdumpFuzzTest {

    /** Pages read per input: the cost of one input stays bounded whatever its bitmaps claim. */
    static final int MAX_PAGES_READ = 64;

    @FuzzTest(maxDuration = "30s")
    void kdumpFilesReadOrFailWithADumpFormatException(byte[] data) {
        KdumpFile k;
        try {
            k = KdumpFile.parse(new DumpBytes.Mapped(MemorySegment.ofArray(data)));
        } catch (DumpFormatException e) {
            message(e);
            return;
        }
        exercise(k);
    }

    @FuzzTest(maxDuration = "30s")
    void flattenedFilesIndexOrFailWithADumpFormatException(byte[] data) {
        FlattenedFile f;
        try {
            f = FlattenedFile.index(MemorySegment.ofArray(data));
        } catch (DumpFormatException e) {
            message(e);
            return;
        }
        // A record far out makes a sparse logical file (makedumpfile -R would write one); holes read as zeros.
        if (f.size() < 0) throw new AssertionError("negative logical size: " + f.size());
        KdumpFile k;
        try {
            k = KdumpFile.parse(f);
        } catch (DumpFormatException e) {
            message(e);
            return;
        }
        exercise(k);
    }

    private static void exercise(KdumpFile k) {
        KdumpMemory m;
        try {
            m = k.memory();
        } catch (DumpFormatException e) {
            message(e);
            return;
        }
        try (m) {
            long previousEnd = -1;
            int read = 0;
            for (MemoryRange r : m.ranges()) {
                if (r.base() <= previousEnd) throw new AssertionError("ranges overlap, touch (one run split in two) or are unsorted: " + r);
                previousEnd = r.end();
                if (!m.contains(r.base(), r.size())) throw new AssertionError("a range is not contained: " + r);
                if (m.pageState(r.base()) != PageState.PRESENT) throw new AssertionError("a range's first page is not present: " + r);
                for (long pa = r.base(); pa < r.end() && read < MAX_PAGES_READ; pa += m.pageSize(), read++) {
                    try {
                        m.readLong(pa);
                        m.readLong(pa + m.pageSize() - 8);
                    } catch (DumpFormatException e) {
                        message(e);
                    }
                }
            }
            try {
                m.readLong(previousEnd < 0 ? 0 : previousEnd);
            } catch (MemoryAccessException | DumpFormatException e) {
                message(e);
            }
        }
    }

    private static void message(RuntimeException e) {
        if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n")) {
            throw new AssertionError("an error without a one-line message", e);
        }
    }
}
