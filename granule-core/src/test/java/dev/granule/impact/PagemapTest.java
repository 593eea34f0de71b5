package dev.granule.impact;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PagemapTest {

    @TempDir
    Path dir;

    /** A pagemap file with the given entries written at their page's offset (page index x 8). */
    Path pagemap(long[][] entries) throws IOException {
        Path file = dir.resolve("pagemap");
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (long[] e : entries) {
                ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, e[1]);
                c.write(b, e[0] * 8);
            }
        }
        return file;
    }

    @Test
    void presentPagesFormRunsAndSwappedPagesAreNotResident() throws IOException {
        // Pages 0x400 and 0x402 present (bit 63, a PFN below), 0x401 swapped (bit 62), 0x403 absent.
        Path file = pagemap(new long[][]{{0x400, 1L << 63 | 0x1234}, {0x401, 1L << 62}, {0x402, 1L << 63}, {0x405, 1L << 63}});
        Vma vma = new Vma(0x400000, 0x404000, "rw-p", 0, "", 8192, 8192);
        try (Pagemap p = new Pagemap(file, 4096)) {
            assertThat(p.residentRuns(vma)).containsExactly(0x400000, 0x401000, 0x402000, 0x403000);
            // Adjacent present pages join; the run stops at the mapping's end (page 0x405 is outside).
            assertThat(p.residentRuns(new Vma(0x402000, 0x406000, "rw-p", 0, "", 4096, 0)))
                    .containsExactly(0x402000, 0x403000, 0x405000, 0x406000);
            assertThat(p.residentRuns(new Vma(0x400000, 0x404000, "rw-p", 0, "", 0, 0)))
                    .as("nothing resident by smaps: not read").isEmpty();
        }
    }

    @Test
    void touchedPagesOfThisProcessAreResident() throws IOException {
        Path self = Path.of("/proc/self/pagemap");
        assumeTrue(Files.isReadable(self), "no /proc/self/pagemap here");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(64 * 4096, 4096);
            for (int page : new int[]{0, 2, 9, 63}) m.set(ValueLayout.JAVA_BYTE, page * 4096L, (byte) 1);
            long base = m.address();
            List<Vma> vmas = SmapsParser.parse("/proc/self/smaps", Files.readString(Path.of("/proc/self/smaps")));
            Vma vma = vmas.stream().filter(v -> v.start() <= base && base < v.end()).findFirst().orElseThrow();
            try (Pagemap p = new Pagemap(self, 4096)) {
                long[] runs = p.residentRuns(vma);
                for (int page : new int[]{0, 2, 9, 63}) {
                    long a = base + page * 4096L;
                    boolean inRun = false;
                    for (int i = 0; i < runs.length; i += 2) inRun |= runs[i] <= a && a < runs[i + 1];
                    assertThat(inRun).as("touched page %d at 0x%x resident", page, a).isTrue();
                }
            }
        }
    }
}
