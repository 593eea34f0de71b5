package dev.granule.impact;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Which pages of a mapping are resident, from {@code /proc/PID/pagemap}: one little-endian u64
 * per base page of the running kernel, bit 63 "present in RAM" (Documentation/admin-guide/mm/pagemap.rst).
 * Swapped pages (bit 62) are not resident. Reading another process's pagemap needs the right to
 * ptrace it (root, or the same user); the PFN bits, which need CAP_SYS_ADMIN, are not used.
 */
public final class Pagemap implements AutoCloseable {

    /** Entries read per system call: 512 KiB of pagemap, 256 MiB of address space at 4K. */
    private static final int BATCH = 1 << 16;
    static final long PRESENT = 1L << 63;

    private final FileChannel channel;
    private final long basePage;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BATCH * 8).order(ByteOrder.LITTLE_ENDIAN);

    /**
     * @param file     a pagemap file ({@code /proc/PID/pagemap}, or a saved copy with the same layout)
     * @param basePage the page size the file's entries describe (the host's, 4096 on most arm64 and x86 machines)
     */
    public Pagemap(Path file, long basePage) throws IOException {
        if (Long.bitCount(basePage) != 1 || basePage < 4096) {
            throw new IllegalArgumentException("a base page is a power of two of at least 4096, not " + basePage);
        }
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        this.basePage = basePage;
    }

    public long basePage() { return basePage; }

    /**
     * The resident ranges of {@code vma} as {@code [start0, end0, start1, end1, ...]} in bytes,
     * ascending, adjacent pages joined. Skips reading when smaps reports nothing resident.
     */
    public long[] residentRuns(Vma vma) throws IOException {
        if (vma.rssBytes() == 0 || Long.compareUnsigned(vma.end(), 1L << 56) > 0) return new long[0];
        long[] runs = new long[16];
        int n = 0;
        long page = vma.start() / basePage, last = (vma.end() - 1) / basePage;
        long runStart = -1;
        while (page <= last) {
            int count = (int) Math.min(BATCH, last - page + 1);
            buffer.clear().limit(count * 8);
            long position = page * 8;
            while (buffer.hasRemaining()) {
                int read = channel.read(buffer, position + buffer.position());
                if (read < 0) break; // beyond a saved copy's end: not resident
            }
            buffer.flip();
            for (int i = 0; i < count; i++) {
                boolean present = buffer.remaining() >= 8 && (buffer.getLong() & PRESENT) != 0;
                long address = (page + i) * basePage;
                if (present && runStart < 0) {
                    runStart = address;
                } else if (!present && runStart >= 0) {
                    if (n + 2 > runs.length) runs = Arrays.copyOf(runs, runs.length * 2);
                    runs[n++] = runStart;
                    runs[n++] = address;
                    runStart = -1;
                }
            }
            page += count;
        }
        if (runStart >= 0) {
            if (n + 2 > runs.length) runs = Arrays.copyOf(runs, runs.length + 2);
            runs[n++] = runStart;
            runs[n++] = (last + 1) * basePage;
        }
        return Arrays.copyOf(runs, n);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
