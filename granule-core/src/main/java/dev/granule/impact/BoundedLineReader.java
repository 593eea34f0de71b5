package dev.granule.impact;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Lines of an outside file read as a stream with bounded memory and length: a line longer than
 * {@code maxLine} bytes or a stream longer than {@code maxBytes} ends the read with an
 * {@link InputLimitException} naming the file and the limit, so that {@code /dev/zero}, a FIFO
 * that never ends or a multi-GB file cannot exhaust the heap. Bytes are ISO-8859-1 characters
 * (every byte is one char: /proc files and traces are ASCII, and a stray byte is just a bad line).
 */
public final class BoundedLineReader implements AutoCloseable {

    private final InputStream in;
    private final String source;
    private final int maxLine;
    private final long maxBytes;
    private final byte[] buffer = new byte[1 << 16];
    /** A line that runs past the read buffer, gathered. */
    private final byte[] gathered;
    private byte[] lineBytes;
    private int lineStart;
    private int position, limit;
    private long consumed;
    private long lineNumber;

    public BoundedLineReader(InputStream in, String source, int maxLine, long maxBytes) {
        if (maxLine < 1 || maxBytes < 1) throw new IllegalArgumentException("limits must be positive: " + maxLine + ", " + maxBytes);
        this.in = in;
        this.source = source;
        this.maxLine = maxLine;
        this.maxBytes = maxBytes;
        this.gathered = new byte[maxLine];
    }

    /** The next line without its terminator ({@code \n}, a {@code \r} before it dropped), or null at the end. */
    public String readLine() throws IOException {
        int n = readLineBytes();
        return n < 0 ? null : new String(lineBytes, lineStart, n, StandardCharsets.ISO_8859_1);
    }

    /**
     * As {@link #readLine()}, without a String or a copy: the line is left at
     * {@link #lineBytes()}{@code [}{@link #lineStart()}{@code , lineStart() + n)} until the next read
     * (in the read buffer itself when all of it is there, which is most lines), and n is returned,
     * or -1 at the end (for callers reading millions of lines).
     */
    public int readLineBytes() throws IOException {
        if (position == limit && !fill()) return -1;
        byte[] in = buffer;
        int p = position;
        int stop = Math.min(limit, p + maxLine + 1); // a line that fits ends by here
        for (int i = p; i < stop; i++) {
            if (in[i] == '\n') {
                position = i + 1;
                return line(in, p, i - p);
            }
        }
        if (stop - p > maxLine) {
            position = stop;
            throw tooLong();
        }
        return gather();
    }

    /** The rest of a line that runs past the read buffer, copied piece by piece into {@link #gathered}. */
    private int gather() throws IOException {
        byte[] out = gathered;
        int n = 0;
        while (true) {
            if (position == limit && !fill()) break; // the last line, without a line end
            byte[] in = buffer;
            int p = position;
            int end = limit;
            boolean lineEnd = false;
            while (p < end) {
                byte b = in[p++];
                if (b == '\n') {
                    lineEnd = true;
                    break;
                }
                if (n == maxLine) {
                    position = p;
                    throw tooLong();
                }
                out[n++] = b;
            }
            position = p;
            if (lineEnd) break;
        }
        return line(out, 0, n);
    }

    private int line(byte[] bytes, int start, int n) {
        lineNumber++;
        lineBytes = bytes;
        lineStart = start;
        return n > 0 && bytes[start + n - 1] == '\r' ? n - 1 : n;
    }

    private InputLimitException tooLong() {
        return new InputLimitException(source + ": line " + (lineNumber + 1) + " is longer than the limit of "
                + Units.bytes(maxLine) + " (not a text file of this kind?)");
    }

    /** Where the last line {@link #readLineBytes()} read is (the read buffer, or a copy; overwritten by the next read). */
    public byte[] lineBytes() { return lineBytes; }

    /** Where in {@link #lineBytes()} the last line starts. */
    public int lineStart() { return lineStart; }

    /**
     * Whether bytes already read wait in the buffer, so the next {@link #readLine()} may not block:
     * a caller that batches its output flushes it when this turns false (before waiting on a pipe).
     */
    public boolean hasBufferedInput() { return position < limit; }

    /** The file's name, as messages give it. */
    @Override
    public String toString() { return source; }

    /** Lines returned so far: the number of the last one. */
    public long lineNumber() { return lineNumber; }

    private boolean fill() throws IOException {
        int r = in.read(buffer, 0, buffer.length);
        if (r <= 0) return false;
        consumed += r;
        if (consumed > maxBytes) {
            throw new InputLimitException(source + ": longer than the limit of " + Units.bytes(maxBytes)
                    + " for this kind of file (an endless stream such as /dev/zero, or not the file meant?)");
        }
        position = 0;
        limit = r;
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    /** Byte counts as "8 KiB", "2 GiB" in messages. */
    static final class Units {
        private Units() {}

        static String bytes(long n) {
            String[] unit = {"bytes", "KiB", "MiB", "GiB", "TiB"};
            int u = 0;
            while (u < unit.length - 1 && n >= 1024 && n % 1024 == 0) {
                n /= 1024;
                u++;
            }
            return n + " " + unit[u];
        }
    }
}
