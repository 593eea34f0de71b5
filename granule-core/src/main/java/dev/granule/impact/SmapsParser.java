package dev.granule.impact;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses /proc/PID/smaps: a header line per mapping
 * ({@code start-end perms offset dev inode [path]}, the path may contain spaces) followed by
 * {@code Key: value [kB]} lines. Unknown keys are ignored; the fields used are Rss and Anonymous.
 * Mappings may overlap or come out of order: a live process that maps while its smaps is read
 * gives such files, and the analysis merges what overlaps.
 *
 * <p>The file is read as a stream with bounded memory: lines of at most {@link #MAX_LINE} bytes,
 * at most {@link #MAX_BYTES} in all and {@link #MAX_MAPPINGS} mappings, so that {@code /dev/zero}
 * or an endless FIFO is refused with a one-line error naming the file and the limit.
 */
public final class SmapsParser {

    /** A header holds a path of at most PATH_MAX (4096) bytes besides its ~100 bytes of fields. */
    public static final int MAX_LINE = 8 << 10;
    /** About 1.2 KiB of smaps per mapping: room for {@link #MAX_MAPPINGS} of them. */
    public static final long MAX_BYTES = 2L << 30;
    /** Sixteen times Linux's default vm.max_map_count (65530). */
    public static final int MAX_MAPPINGS = 1 << 20;

    private SmapsParser() {}

    public static List<Vma> parse(String source, String text) {
        try {
            return parse(new BoundedLineReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)),
                    source, MAX_LINE, MAX_BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
    }

    /** Reads {@code file} (a /proc/PID/smaps or a saved copy) as a bounded stream. */
    public static List<Vma> parse(Path file) throws IOException {
        try (BoundedLineReader in = new BoundedLineReader(Files.newInputStream(file), file.toString(), MAX_LINE, MAX_BYTES)) {
            return parse(in);
        }
    }

    public static List<Vma> parse(BoundedLineReader in) throws IOException {
        String source = in.toString();
        List<Vma> out = new ArrayList<>();
        long start = 0, end = 0, inode = 0, rss = 0, anon = 0;
        String perms = null, path = null;
        for (String line; (line = in.readLine()) != null; ) {
            int i = (int) Math.min(Integer.MAX_VALUE - 1, in.lineNumber() - 1);
            if (line.isBlank()) continue;
            int colon = line.indexOf(':');
            int dash = line.indexOf('-');
            boolean header = dash > 0 && (colon < 0 || colon > dash) && isHex(line, 0, dash);
            if (header) {
                if (perms != null) out.add(new Vma(start, end, perms, inode, path, rss, anon));
                if (out.size() == MAX_MAPPINGS) {
                    throw new InputLimitException(source + ":" + (i + 1) + ": more than the limit of " + MAX_MAPPINGS
                            + " mappings for one process");
                }
                String[] f = line.trim().split("\\s+", 6);
                if (f.length < 5) throw new SmapsFormatException(source, i + 1, line, "mapping header needs 5 fields");
                String[] range = f[0].split("-", -1);
                try {
                    if (range.length != 2) throw new NumberFormatException(f[0]);
                    start = Long.parseUnsignedLong(range[0], 16);
                    end = Long.parseUnsignedLong(range[1], 16);
                    inode = Long.parseLong(f[4]);
                } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                    throw new SmapsFormatException(source, i + 1, line, "bad address range or inode");
                }
                if (Long.compareUnsigned(end, start) <= 0) throw new SmapsFormatException(source, i + 1, line, "empty or reversed range");
                if (((start | end) & 0xFFF) != 0) {
                    throw new SmapsFormatException(source, i + 1, line, "mapping bounds must be page aligned (4 KiB at least)");
                }
                if (f[1].length() != 4) throw new SmapsFormatException(source, i + 1, line, "permissions must be 4 characters");
                perms = f[1];
                path = f.length > 5 ? f[5] : "";
                rss = 0;
                anon = 0;
            } else if (colon > 0) {
                if (perms == null) throw new SmapsFormatException(source, i + 1, line, "field before the first mapping header");
                String key = line.substring(0, colon).trim();
                if (key.equals("Rss") || key.equals("Anonymous")) {
                    long kb = kilobytes(source, i + 1, line, line.substring(colon + 1));
                    if (key.equals("Rss")) rss = kb * 1024;
                    else anon = kb * 1024;
                }
            } else {
                throw new SmapsFormatException(source, i + 1, line, "neither a mapping header nor a 'Key: value' line");
            }
        }
        if (perms != null) out.add(new Vma(start, end, perms, inode, path, rss, anon));
        return out;
    }

    private static long kilobytes(String source, int line, String text, String value) {
        String v = value.trim();
        if (v.endsWith("kB")) v = v.substring(0, v.length() - 2).trim();
        try {
            long n = Long.parseLong(v);
            if (n < 0 || n > Long.MAX_VALUE / 1024) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new SmapsFormatException(source, line, text, "expected a size in kB");
        }
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) if (Character.digit(s.charAt(i), 16) < 0) return false;
        return to > from;
    }
}
