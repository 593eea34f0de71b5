package dev.granule.cli;

/** Formats byte counts the way kernel engineers write them: 4K, 2M, 1G, 512G, 4T, 16P. */
public final class Units {
    private static final String[] SUFFIX = {"", "K", "M", "G", "T", "P", "E"};

    private Units() {}

    public static String bytes(long n) {
        if (n == 0) return "0";
        int unit = 0;
        long v = n;
        while (unit < SUFFIX.length - 1 && v % 1024 == 0) {
            v /= 1024;
            unit++;
        }
        if (unit == 0 && n >= 1024) return approx(n);
        return v + SUFFIX[unit];
    }

    /** A rounded size for values that are not a power-of-two multiple, e.g. 1.5M. */
    public static String approx(long n) {
        double v = n;
        int unit = 0;
        while (v >= 1024 && unit < SUFFIX.length - 1) {
            v /= 1024;
            unit++;
        }
        return (v == Math.rint(v) ? String.valueOf((long) v) : String.format("%.1f", v)) + SUFFIX[unit];
    }

    public static String hex(long v) {
        return String.format("%#x", v);
    }
}
