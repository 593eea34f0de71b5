package dev.granule.cli;

import picocli.CommandLine.ITypeConverter;

/**
 * Parses addresses as kernel engineers write them: {@code 0xffff800080000000}, with optional
 * {@code _} or {@code `} separators (as gdb and crash print them), or decimal. The full unsigned
 * 64-bit range is accepted: kernel addresses have the top bit set.
 */
public final class AddressConverter implements ITypeConverter<Long> {

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    public static long parse(String value) {
        String s = value.trim().replace("_", "").replace("`", "");
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                String digits = s.substring(2);
                if (digits.isEmpty() || digits.length() > 16) throw new NumberFormatException();
                return Long.parseUnsignedLong(digits, 16);
            }
            return Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw new UserException("'" + value + "' is not an address; write e.g. 0xffff800080000000");
        }
    }
}
