package dev.granule.dump;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Kernel symbols by address and by name, from the kernel's kallsyms tables in the dump
 * ({@link Kallsyms}) or a System.map ({@link SystemMap}), at the addresses the dumped kernel ran at.
 */
public final class SymbolTable {

    /** One symbol: its address, nm type letter and name. */
    public record Symbol(long address, char type, String name) {}

    /** Addresses further than this past the nearest symbol are not named after it (data after _end, the linear map). */
    static final long MAX_OFFSET = 1L << 24;

    private final String source;
    private final long[] addresses;
    private final String[] names;
    private final char[] types;
    private final Map<String, Integer> byName;

    private SymbolTable(String source, List<Symbol> symbols) {
        this.source = source;
        Symbol[] sorted = symbols.toArray(Symbol[]::new);
        Arrays.sort(sorted, (a, b) -> Long.compareUnsigned(a.address(), b.address()));
        addresses = new long[sorted.length];
        names = new String[sorted.length];
        types = new char[sorted.length];
        byName = new HashMap<>(sorted.length * 2);
        for (int i = 0; i < sorted.length; i++) {
            addresses[i] = sorted[i].address();
            names[i] = sorted[i].name();
            types[i] = sorted[i].type();
            byName.putIfAbsent(sorted[i].name(), i); // the first (lowest) of equal names, as kallsyms_lookup_name finds it
        }
    }

    public static SymbolTable of(String source, List<Symbol> symbols) {
        return new SymbolTable(source, symbols);
    }

    /** Where the symbols came from, e.g. "kallsyms in the dump (123456 symbols)". */
    public String source() { return source; }

    public int size() { return addresses.length; }

    public OptionalLong address(String name) {
        Integer i = byName.get(name);
        return i == null ? OptionalLong.empty() : OptionalLong.of(addresses[i]);
    }

    /** The symbol at or below {@code va}, or -1. */
    private int floor(long va) {
        int lo = 0;
        int hi = addresses.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addresses[mid], va) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** {@code name} or {@code name+0xoff} for {@code va}, or null when no symbol is near below it. */
    public String symbolize(long va) {
        int i = floor(va);
        if (i < 0) return null;
        long off = va - addresses[i];
        if (Long.compareUnsigned(off, MAX_OFFSET) >= 0 || i == addresses.length - 1 && off != 0) return null;
        return off == 0 ? names[i] : names[i] + "+0x" + Long.toHexString(off);
    }

    /** The symbol at or below {@code va} as a value, if any is near. */
    public java.util.Optional<Symbol> containing(long va) {
        int i = floor(va);
        if (i < 0 || Long.compareUnsigned(va - addresses[i], MAX_OFFSET) >= 0) return java.util.Optional.empty();
        return java.util.Optional.of(new Symbol(addresses[i], types[i], names[i]));
    }
}
