package dev.granule.dump;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The kernel's VMCOREINFO text: one {@code KEY=VALUE} line per entry, as {@code kernel/vmcore_info.c}
 * (formerly {@code crash_core.c}) and {@code arch/arm64/kernel/vmcore_info.c} write it.
 *
 * <p>The kernel's formats differ per kind of entry, and the accessors follow them:
 * <ul>
 *   <li>{@code PAGESIZE=%ld}, {@code NUMBER(name)=%ld}, {@code SIZE(..)=%lu}, {@code OFFSET(..)=%lu},
 *       {@code LENGTH(..)=%lu}: decimal (a NUMBER may be negative);
 *   <li>arm64's own {@code NUMBER(VA_BITS)} is decimal, but its {@code NUMBER(kimage_voffset)},
 *       {@code NUMBER(PHYS_OFFSET)}, {@code NUMBER(TCR_EL1_T1SZ)}, {@code NUMBER(MODULES_VADDR)} ...
 *       are printed {@code 0x%llx}: a NUMBER with a {@code 0x} prefix is hexadecimal;
 *   <li>{@code SYMBOL(name)=%lx} and {@code KERNELOFFSET=%lx}: hexadecimal without a prefix.
 * </ul>
 * Keys are kept in order; a repeated key keeps its last value (the kernel appends CRASHTIME at
 * panic). Lines that are not {@code KEY=VALUE} are kept as warnings rather than refusing the dump.
 */
public final class VmcoreInfo {

    /** The kernel's buffer is one page (VMCOREINFO_BYTES = PAGE_SIZE): at most 64K. */
    public static final int MAX_BYTES = 1 << 16;

    private final Map<String, String> entries;
    private final List<String> warnings;

    private VmcoreInfo(Map<String, String> entries, List<String> warnings) {
        this.entries = Collections.unmodifiableMap(entries);
        this.warnings = List.copyOf(warnings);
    }

    /** Parses VMCOREINFO text; stops at the first NUL (the note is NUL-padded). */
    public static VmcoreInfo parse(String text) {
        if (text.length() > MAX_BYTES) {
            throw new VmcoreInfoException("VMCOREINFO is " + text.length() + " bytes; the kernel writes at most "
                    + MAX_BYTES + " (one page)");
        }
        int nul = text.indexOf('\0');
        if (nul >= 0) text = text.substring(0, nul);
        Map<String, String> entries = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (line.isEmpty()) continue;
            int eq = line.indexOf('=');
            if (eq <= 0) {
                warnings.add("line " + lineNo + ": '" + abbreviate(line) + "' is not KEY=VALUE (ignored)");
                continue;
            }
            entries.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return new VmcoreInfo(entries, warnings);
    }

    public static VmcoreInfo parse(byte[] bytes) {
        return parse(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    /** Every entry, in the order the kernel wrote them. */
    public Map<String, String> entries() { return entries; }

    public List<String> warnings() { return warnings; }

    public boolean isEmpty() { return entries.isEmpty(); }

    public Optional<String> get(String key) { return Optional.ofNullable(entries.get(key)); }

    public Optional<String> osRelease() { return get("OSRELEASE"); }

    public Optional<String> buildId() { return get("BUILD-ID"); }

    /** PAGESIZE, decimal. */
    public OptionalLong pageSize() { return decimal("PAGESIZE"); }

    /** {@code NUMBER(name)}: decimal, or hexadecimal with a 0x prefix (arm64's own entries). */
    public OptionalLong number(String name) {
        String key = "NUMBER(" + name + ")";
        String v = entries.get(key);
        if (v == null) return OptionalLong.empty();
        String t = v.trim();
        boolean negative = t.startsWith("-");
        String body = negative ? t.substring(1) : t;
        if (body.startsWith("0x") || body.startsWith("0X")) {
            long value = hex(key, v, body.substring(2));
            return OptionalLong.of(negative ? -value : value);
        }
        try {
            return OptionalLong.of(Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw malformed(key, v, "a decimal number or 0x-prefixed hexadecimal");
        }
    }

    /** {@code SYMBOL(name)}: a kernel virtual address, hexadecimal without a prefix. */
    public OptionalLong symbol(String name) { return hexEntry("SYMBOL(" + name + ")"); }

    /** KERNELOFFSET: the KASLR displacement of the kernel image, hexadecimal without a prefix. */
    public OptionalLong kernelOffset() { return hexEntry("KERNELOFFSET"); }

    public OptionalLong size(String name) { return decimal("SIZE(" + name + ")"); }

    public OptionalLong offset(String structAndField) { return decimal("OFFSET(" + structAndField + ")"); }

    public OptionalLong length(String name) { return decimal("LENGTH(" + name + ")"); }

    /** NUMBER(VA_BITS): the configured VA size (CONFIG_ARM64_VA_BITS), not necessarily the one in use. */
    public OptionalLong vaBits() { return number("VA_BITS"); }

    /**
     * NUMBER(TCR_EL1_T1SZ): T1SZ as the CPU ran, so 64 - T1SZ is the kernel VA size in use. Some
     * vendor kernels spelled it in lower case; both are accepted.
     */
    public OptionalLong tcrEl1T1sz() {
        OptionalLong v = number("TCR_EL1_T1SZ");
        return v.isPresent() ? v : number("tcr_el1_t1sz");
    }

    public OptionalLong kimageVoffset() { return number("kimage_voffset"); }

    public OptionalLong physOffset() { return number("PHYS_OFFSET"); }

    /** Every SYMBOL(...) entry, name to address, in order; entries that do not parse are skipped. */
    public Map<String, Long> symbols() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String key : entries.keySet()) {
            if (key.startsWith("SYMBOL(") && key.endsWith(")")) {
                String name = key.substring(7, key.length() - 1);
                try {
                    symbol(name).ifPresent(v -> out.put(name, v));
                } catch (VmcoreInfoException ignored) {
                    // reported by whoever asks for that symbol
                }
            }
        }
        return out;
    }

    private OptionalLong decimal(String key) {
        String v = entries.get(key);
        if (v == null) return OptionalLong.empty();
        try {
            return OptionalLong.of(Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
            throw malformed(key, v, "a decimal number");
        }
    }

    private OptionalLong hexEntry(String key) {
        String v = entries.get(key);
        if (v == null) return OptionalLong.empty();
        String t = v.trim();
        if (t.startsWith("0x") || t.startsWith("0X")) t = t.substring(2);
        return OptionalLong.of(hex(key, v, t));
    }

    private static long hex(String key, String raw, String digits) {
        if (digits.isEmpty() || digits.length() > 16) throw malformed(key, raw, "at most 16 hexadecimal digits");
        try {
            return Long.parseUnsignedLong(digits, 16);
        } catch (NumberFormatException e) {
            throw malformed(key, raw, "hexadecimal");
        }
    }

    private static VmcoreInfoException malformed(String key, String value, String expected) {
        return new VmcoreInfoException("VMCOREINFO " + key + "=" + abbreviate(value) + " is not " + expected);
    }

    @Override
    public String toString() { return "VmcoreInfo[" + entries.size() + " entries]"; }
}
