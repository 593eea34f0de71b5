package dev.granule.cli;

import picocli.CommandLine.ITypeConverter;

import java.util.Locale;

/** Parses sizes as kernel engineers write them: 4096, 0x1000, 64K, 2M, 4G, 1T (binary units). */
public final class SizeConverter implements ITypeConverter<Long> {

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    public static long parse(String value) {
        String s = value.trim().toUpperCase(Locale.ROOT).replace("_", "");
        if (s.endsWith("IB")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("B")) s = s.substring(0, s.length() - 1);
        int shift = 0;
        if (!s.isEmpty() && !s.startsWith("0X")) {
            char unit = s.charAt(s.length() - 1);
            shift = switch (unit) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                case 'P' -> 50;
                default -> 0;
            };
            if (shift != 0) s = s.substring(0, s.length() - 1);
        }
        try {
            long n = s.startsWith("0X") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
            if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) throw new NumberFormatException();
            return n << shift;
        } catch (NumberFormatException e) {
            throw new UserException("'" + value + "' is not a size; write e.g. 4096, 0x1000, 64K, 2M or 4G");
        }
    }
}
