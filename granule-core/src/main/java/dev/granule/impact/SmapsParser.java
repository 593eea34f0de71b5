package dev.granule.impact;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses /proc/PID/smaps: a header line per mapping
 * ({@code start-end perms offset dev inode [path]}, the path may contain spaces) followed by
 * {@code Key: value [kB]} lines. Unknown keys are ignored; the fields used are Rss and Anonymous.
 * Mappings may overlap or come out of order: a live process that maps while its smaps is read
 * gives such files, and the analysis merges what overlaps.
 */
public final class SmapsParser {

    private SmapsParser() {}

    public static List<Vma> parse(String source, String text) {
        List<Vma> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        long start = 0, end = 0, inode = 0, rss = 0, anon = 0;
        String perms = null, path = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) continue;
            int colon = line.indexOf(':');
            int dash = line.indexOf('-');
            boolean header = dash > 0 && (colon < 0 || colon > dash) && isHex(line, 0, dash);
            if (header) {
                if (perms != null) out.add(new Vma(start, end, perms, inode, path, rss, anon));
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
