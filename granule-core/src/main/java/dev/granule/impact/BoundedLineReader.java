package dev.granule.impact;

import java.io.IOException;
import java.io.InputStream;

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
    private final char[] line;
    private int position, limit;
    private long consumed;
    private long lineNumber;

    public BoundedLineReader(InputStream in, String source, int maxLine, long maxBytes) {
        if (maxLine < 1 || maxBytes < 1) throw new IllegalArgumentException("limits must be positive: " + maxLine + ", " + maxBytes);
        this.in = in;
        this.source = source;
        this.maxLine = maxLine;
        this.maxBytes = maxBytes;
        this.line = new char[maxLine];
    }

    /** The next line without its terminator ({@code \n}, a {@code \r} before it dropped), or null at the end. */
    public String readLine() throws IOException {
        int n = readLineInPlace();
        return n < 0 ? null : new String(line, 0, n);
    }

    /**
     * As {@link #readLine()}, without a String: the line is left in {@link #lineChars()}{@code [0, n)}
     * until the next read, and n is returned, or -1 at the end (for callers reading millions of lines).
     */
    public int readLineInPlace() throws IOException {
        int n = 0;
        boolean any = false;
        byte[] in = buffer;
        char[] out = line;
        while (true) {
            if (position == limit && !fill()) {
                if (!any) return -1;
                break;
            }
            any = true;
            // The buffered bytes up to the line end, in locals (this loop runs once per byte of a batch).
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
                    throw new InputLimitException(source + ": line " + (lineNumber + 1) + " is longer than the limit of "
                            + Units.bytes(maxLine) + " (not a text file of this kind?)");
                }
                out[n++] = (char) (b & 0xFF);
            }
            position = p;
            if (lineEnd) break;
        }
        lineNumber++;
        if (n > 0 && out[n - 1] == '\r') n--;
        return n;
    }

    /** The last line {@link #readLineInPlace()} read (overwritten by the next read). */
    public char[] lineChars() { return line; }

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
