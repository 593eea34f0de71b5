package dev.granule.geometry;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a boot command line asks for, before any CPU is consulted. Null fields were not given.
 *
 * <p>Recognised parameters: {@code arm64.pagesize=4k|16k|64k} (also {@code 4K}, {@code 4096},
 * {@code 0x1000}), {@code arm64.nolva}, {@code granule.va_bits=N}, {@code granule.pa_bits=N},
 * {@code granule.format=d64|d128|lpae|short}. Everything else is ignored, as the kernel ignores parameters
 * it does not know, and listed in {@link #ignored()}.
 */
public record BootRequest(
        Granule pageSize,
        Integer vaBits,
        Integer paBits,
        TranslationFormat format,
        boolean noLva,
        List<String> ignored) {

    public BootRequest {
        ignored = List.copyOf(ignored);
    }

    public static BootRequest parse(String commandLine) {
        Granule pageSize = null;
        Integer vaBits = null;
        Integer paBits = null;
        TranslationFormat format = null;
        boolean noLva = false;
        List<String> ignored = new ArrayList<>();
        for (KernelCommandLine.Param p : KernelCommandLine.parse(commandLine)) {
            if (p.is("arm64.pagesize")) {
                pageSize = parsePageSize(p);
            } else if (p.is("arm64.nolva")) {
                if (p.value() != null) {
                    // The kernel's idreg-override treats a bare flag as =1; accept the explicit forms too.
                    noLva = parseBoolean(p);
                } else {
                    noLva = true;
                }
            } else if (p.is("granule.va_bits")) {
                vaBits = parseBits(p);
            } else if (p.is("granule.pa_bits")) {
                paBits = parseBits(p);
            } else if (p.is("granule.format")) {
                if (p.value() == null || p.value().isEmpty()) {
                    throw new BootParameterException(p.token(), "expected granule.format=d64, d128, lpae or short");
                }
                format = TranslationFormat.ofOption(p.value());
                if (format == null) {
                    throw new BootParameterException(p.token(), "unknown format '" + p.value() + "'; expected d64, d128, lpae or short");
                }
            } else {
                ignored.add(p.token());
            }
        }
        return new BootRequest(pageSize, vaBits, paBits, format, noLva, ignored);
    }

    private static Granule parsePageSize(KernelCommandLine.Param p) {
        String v = p.value();
        if (v == null || v.isEmpty()) {
            throw new BootParameterException(p.token(), "expected a page size: 4k, 16k or 64k");
        }
        String s = v.trim().toLowerCase(Locale.ROOT);
        long bytes;
        try {
            if (s.endsWith("k")) {
                bytes = Long.parseLong(s.substring(0, s.length() - 1)) * 1024;
            } else if (s.startsWith("0x")) {
                bytes = Long.parseLong(s.substring(2), 16);
            } else {
                bytes = Long.parseLong(s);
            }
        } catch (NumberFormatException e) {
            throw new BootParameterException(p.token(), "'" + v + "' is not a page size; expected 4k, 16k or 64k");
        }
        for (Granule g : Granule.values()) {
            if (g.pageSize() == bytes) return g;
        }
        throw new BootParameterException(p.token(), "arm64 has no " + v + " page size; expected 4k, 16k or 64k");
    }

    private static int parseBits(KernelCommandLine.Param p) {
        String v = p.value();
        if (v == null || v.isEmpty()) {
            throw new BootParameterException(p.token(), "expected a number of bits, e.g. " + p.key() + "=48");
        }
        try {
            int bits = Integer.parseInt(v.trim());
            if (bits <= 0 || bits > 64) {
                throw new BootParameterException(p.token(), bits + " is not an address size in bits (1..64)");
            }
            return bits;
        } catch (NumberFormatException e) {
            throw new BootParameterException(p.token(), "'" + v + "' is not a number of bits");
        }
    }

    private static boolean parseBoolean(KernelCommandLine.Param p) {
        return switch (p.value().toLowerCase(Locale.ROOT)) {
            case "1", "y", "yes", "on", "true" -> true;
            case "0", "n", "no", "off", "false" -> false;
            default -> throw new BootParameterException(p.token(), "expected a boolean (1/0, y/n, on/off)");
        };
    }
}
