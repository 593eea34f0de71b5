package dev.granule.compat;

import java.util.Locale;

/** Page sizes as users write them: "4k", "16K", "65536", "0x4000". */
public final class PageSizes {
    private PageSizes() {}

    public static String name(long size) {
        if (size >= 1024 && size % 1024 == 0) return (size / 1024) + "K";
        return Long.toString(size);
    }

    public static long parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        long v;
        try {
            if (t.endsWith("k")) v = Long.parseLong(t.substring(0, t.length() - 1)) * 1024;
            else if (t.startsWith("0x")) v = Long.parseLong(t.substring(2), 16);
            else v = Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("page size '" + text + "' is not 4k, 16k, 64k or a number of bytes");
        }
        if (v != 4096 && v != 16384 && v != 65536) {
            throw new IllegalArgumentException("page size '" + text + "' is not 4K, 16K or 64K, the base pages of the architectures granule knows");
        }
        return v;
    }
}
