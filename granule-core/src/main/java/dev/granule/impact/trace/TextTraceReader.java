package dev.granule.impact.trace;

import dev.granule.impact.InputLimitException;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads the text trace formats ({@link TraceFormat#LACKEY}, {@link TraceFormat#PERF},
 * {@link TraceFormat#PLAIN}) as a stream: bytes are parsed where they lie in one reused buffer,
 * no String or object per line, and accesses leave in packed batches. Memory is the buffer and
 * the batches in flight, whatever the trace's length. A line longer than {@link #MAX_LINE} ends
 * the read (an endless line such as /dev/zero's); a malformed line is counted and skipped, or ends
 * the read with {@code strict}; a stream that is mostly malformed is refused as not a trace.
 */
final class TextTraceReader {

    static final int MAX_LINE = 4096;
    /** After this many lines, more than half of them malformed means the input is not a trace of this format. */
    static final long JUDGE_AFTER = 10_000;

    private final InputStream in;
    private final String source;
    private final boolean strict;
    private final int batchSize;
    private TraceFormat format;
    private final byte[] buffer = new byte[1 << 16];
    private int start, limit;

    private long lines, accesses, malformed, firstMalformed;
    private String firstWhy = "";
    private long[] batch;
    private int count;
    private AccessSink sink;

    TextTraceReader(InputStream in, String source, TraceFormat format, boolean strict, int batchSize) {
        if (format == TraceFormat.BINARY) throw new IllegalArgumentException("not a text format: " + format);
        this.in = in;
        this.source = source;
        this.format = format;
        this.strict = strict;
        this.batchSize = batchSize;
    }

    /** Reads to the end; returns the stats with {@code inputBytes} 0 (the caller counts the stored bytes). */
    TraceStats read(AccessSink sink) throws IOException, InterruptedException {
        this.sink = sink;
        batch = new long[batchSize];
        while (true) {
            int nl = -1;
            for (int i = start; i < limit; i++) {
                if (buffer[i] == '\n') {
                    nl = i;
                    break;
                }
            }
            if (nl < 0) {
                if (limit - start > MAX_LINE) throw tooLong();
                // Move the partial line to the front and read more behind it.
                System.arraycopy(buffer, start, buffer, 0, limit - start);
                limit -= start;
                start = 0;
                int r = in.read(buffer, limit, buffer.length - limit);
                if (r < 0) {
                    if (limit > 0) line(0, limit);
                    limit = 0;
                    break;
                }
                limit += r;
                continue;
            }
            if (nl - start > MAX_LINE) throw tooLong();
            line(start, nl);
            start = nl + 1;
        }
        if (count > 0) sink.accept(batch, count);
        return new TraceStats(format == null ? TraceFormat.PLAIN : format, lines, accesses, malformed, firstMalformed, firstWhy, 0);
    }

    private InputLimitException tooLong() {
        return new InputLimitException(source + ": line " + (lines + 1) + " is longer than the limit of " + MAX_LINE
                + " bytes (not a text trace?)");
    }

    private void line(int from, int to) throws InterruptedException {
        lines++;
        if (to > from && buffer[to - 1] == '\r') to--;
        int p = skipBlanks(from, to);
        if (p == to || buffer[p] == '#') return;
        if (to - p >= 2 && (buffer[p] == '=' && buffer[p + 1] == '=' || buffer[p] == '-' && buffer[p + 1] == '-')) {
            return; // Valgrind's own messages: ==PID== ... and --PID-- ...
        }
        if (format == null) format = detect(p, to);
        String why = switch (format) {
            case LACKEY -> lackey(p, to);
            case PERF -> perf(p, to);
            case PLAIN -> plain(p, to);
            case BINARY -> throw new IllegalStateException();
        };
        if (why != null) bad(from, to, why);
    }

    private TraceFormat detect(int p, int to) {
        byte c = buffer[p];
        if ((c == 'I' || c == 'L' || c == 'S' || c == 'M') && p + 1 < to && (buffer[p + 1] == ' ' || buffer[p + 1] == '\t')) {
            for (int i = p; i < to; i++) if (buffer[i] == ',') return TraceFormat.LACKEY;
        }
        for (int i = p; i < to; i++) {
            if (buffer[i] == ':' && (i + 1 == to || buffer[i + 1] == ' ' || buffer[i + 1] == '\t')) return TraceFormat.PERF;
        }
        return TraceFormat.PLAIN;
    }

    /** {@code I  ADDR,SIZE}, {@code  L ADDR,SIZE}, {@code  S ...}, {@code  M ...}. */
    private String lackey(int p, int to) throws InterruptedException {
        byte c = buffer[p];
        int kind = switch (c) {
            case 'I' -> Access.EXECUTE;
            case 'L', 'M' -> Access.READ;
            case 'S' -> Access.WRITE;
            default -> -1;
        };
        if (kind < 0) return "a lackey line starts with I, L, S or M";
        int q = skipBlanks(p + 1, to);
        if (q == p + 1) return "expected a blank after the access kind";
        long va = 0;
        int digits = 0;
        for (; q < to && buffer[q] != ','; q++, digits++) {
            int d = Character.digit(buffer[q], 16);
            if (d < 0) return "not a hex address";
            if (digits >= 14) return "address not below 2^56";
            va = va << 4 | d;
        }
        if (digits == 0 || q == to) return "expected ADDRESS,SIZE";
        long size = 0;
        int sizeDigits = 0;
        for (q++; q < to && buffer[q] != ' ' && buffer[q] != '\t'; q++, sizeDigits++) {
            int d = buffer[q] - '0';
            if (d < 0 || d > 9 || sizeDigits >= 9) return "size must be a decimal number of bytes";
            size = size * 10 + d;
        }
        if (sizeDigits == 0 || size == 0) return "size must be at least 1 byte";
        if (skipBlanks(q, to) != to) return "unexpected text after the size";
        if (c == 'M') {
            emit(va, Access.READ, size);
            emit(va, Access.WRITE, size);
        } else {
            emit(va, kind, size);
        }
        return null;
    }

    /**
     * Fields up to the event (the last field ending in ':'), then the data address in hex. The kind
     * is the data source's operation where perf printed one ({@code data_src}: its value in hex, then
     * "|OP STORE|LVL ...", as builtin-script.c's data_src__fprintf writes it; on Arm SPE and AMD IBS
     * loads and stores share one event), else a store event's name.
     */
    private String perf(int p, int to) throws InterruptedException {
        int eventStart = -1, eventEnd = -1;
        for (int i = p; i < to; ) {
            int e = i;
            while (e < to && buffer[e] != ' ' && buffer[e] != '\t') e++;
            if (buffer[e - 1] == ':') {
                eventStart = i;
                eventEnd = e;
            }
            i = skipBlanks(e, to);
        }
        if (eventStart < 0) return "no event field (a field ending in ':')";
        int q = skipBlanks(eventEnd, to);
        int end = q;
        while (end < to && buffer[end] != ' ' && buffer[end] != '\t') end++;
        if (q == end) return "no address after the event";
        if (instructionPointerForm(end, to)) {
            return "the hex after the event is the sample's instruction address, not a data address (perf script's "
                    + "default fields for this event): print data addresses with perf script -F event,addr";
        }
        long va = hex(q, end);
        if (va == -1) return "not a hex address";
        if (va == -2) return "address not below 2^56";
        int op = indexOf(end, to, "|OP ");
        int kind = op < 0 ? -1
                : startsWith(op + 4, to, "STORE") ? Access.WRITE
                : startsWith(op + 4, to, "LOAD") ? Access.READ
                : startsWith(op + 4, to, "EXEC") ? Access.EXECUTE
                : -1;   // PFETCH, N/A: the event's name decides
        if (kind < 0) kind = indexOf(eventStart, eventEnd, "store", true) >= 0 ? Access.WRITE : Access.READ;
        emit(va, kind, 1);
        return null;
    }

    /**
     * Whether what follows the address at {@code from} is perf script's instruction-pointer tail,
     * "SYMBOL+0xOFFSET (DSO)" or "[unknown] (DSO)" (a C++ symbol may hold blanks), with no data
     * source and no second hex number: the shape of a line printed without the addr field, whose
     * one hex number is the IP. (With addr and ip both printed, the IP is the second number.)
     */
    private boolean instructionPointerForm(int from, int to) {
        if (buffer[to - 1] != ')' || indexOf(from, to, "|") >= 0) return false;
        boolean symbol = false;
        for (int i = skipBlanks(from, to); i < to; ) {
            int e = i;
            while (e < to && buffer[e] != ' ' && buffer[e] != '\t') e++;
            if (hex(i, e) != -1) return false;   // a number (-2: one of 2^56 or more, a kernel IP)
            symbol |= indexOf(i, e, "+0x") >= 0 || e - i == 9 && startsWith(i, e, "[unknown]");
            i = skipBlanks(e, to);
        }
        return symbol;
    }

    /** Where {@code word} first starts in [from, to), or -1; {@code anyCase}: the buffer's letters lower-cased (word is lower case). */
    private int indexOf(int from, int to, String word, boolean anyCase) {
        for (int i = from; i + word.length() <= to; i++) if (startsWith(i, to, word, anyCase)) return i;
        return -1;
    }

    private int indexOf(int from, int to, String word) { return indexOf(from, to, word, false); }

    private boolean startsWith(int at, int to, String word, boolean anyCase) {
        if (at + word.length() > to) return false;
        for (int j = 0; j < word.length(); j++) {
            int c = anyCase ? Character.toLowerCase(buffer[at + j]) : buffer[at + j];
            if (c != word.charAt(j)) return false;
        }
        return true;
    }

    private boolean startsWith(int at, int to, String word) { return startsWith(at, to, word, false); }

    /** {@code [r|w|x] ADDRESS}. */
    private String plain(int p, int to) throws InterruptedException {
        int kind = Access.READ;
        int q = p;
        if (p + 1 < to && (buffer[p + 1] == ' ' || buffer[p + 1] == '\t')) {
            kind = switch (buffer[p]) {
                case 'r', 'R' -> Access.READ;
                case 'w', 'W' -> Access.WRITE;
                case 'x', 'X' -> Access.EXECUTE;
                default -> -1;
            };
            if (kind < 0) return "access kind must be r, w or x";
            q = skipBlanks(p + 1, to);
        }
        int end = q;
        while (end < to && buffer[end] != ' ' && buffer[end] != '\t') end++;
        if (skipBlanks(end, to) != to) return "expected '[r|w|x] <hex address>'";
        long va = hex(q, end);
        if (va == -1) return "not a hex address";
        if (va == -2) return "address not below 2^56";
        emit(va, kind, 1);
        return null;
    }

    /** The hex number in [from, to) with an optional 0x; -1 if not hex, -2 if 2^56 or more. */
    private long hex(int from, int to) {
        if (to - from > 2 && buffer[from] == '0' && (buffer[from + 1] == 'x' || buffer[from + 1] == 'X')) from += 2;
        if (from == to) return -1;
        long v = 0;
        boolean big = false;
        for (int i = from; i < to; i++) {
            int d = Character.digit(buffer[i], 16);
            if (d < 0) return -1;
            if ((v >>> (Access.ADDRESS_BITS - 4)) != 0) big = true;
            v = v << 4 | d;
        }
        return big ? -2 : v;
    }


    private int skipBlanks(int p, int to) {
        while (p < to && (buffer[p] == ' ' || buffer[p] == '\t')) p++;
        return p;
    }

    private void emit(long va, int kind, long size) throws InterruptedException {
        // Pieces of at most MAX_SIZE bytes; the address wraps nowhere: an access ending past 2^56 stops there.
        while (size > 0) {
            int piece = (int) Math.min(size, Access.MAX_SIZE);
            if (count == batch.length) {
                sink.accept(batch, count);
                batch = new long[batchSize];
                count = 0;
            }
            batch[count++] = Access.pack(va, kind, piece);
            accesses++;
            size -= piece;
            va += piece;
            if ((va & ~Access.ADDRESS_MASK) != 0) break;
        }
    }

    private void bad(int from, int to, String why) {
        malformed++;
        if (firstMalformed == 0) {
            firstMalformed = lines;
            String text = new String(buffer, from, Math.min(to - from, 120), java.nio.charset.StandardCharsets.ISO_8859_1);
            firstWhy = why + ": '" + text + "'";
        }
        if (strict) throw new TraceFormatException(source + ":" + lines + ": " + why + " ("
                + format.name().toLowerCase() + " trace): '" + new String(buffer, from, Math.min(to - from, 120),
                java.nio.charset.StandardCharsets.ISO_8859_1) + "'");
        if (lines >= JUDGE_AFTER && malformed * 2 > lines) {
            throw new TraceFormatException(source + ": " + malformed + " of the first " + lines + " lines are not "
                    + format.name().toLowerCase() + " trace lines (first at line " + firstMalformed + ": " + firstWhy + ")");
        }
    }
}
