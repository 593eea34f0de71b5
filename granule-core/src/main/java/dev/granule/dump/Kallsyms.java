package dev.granule.dump;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The kernel's own symbol table, decoded from the dump without debug info (as drgn does): Linux
 * 6.0 and later publish the kallsyms tables in VMCOREINFO ({@code SYMBOL(kallsyms_names)},
 * {@code kallsyms_num_syms}, {@code kallsyms_token_table}, {@code kallsyms_token_index},
 * {@code kallsyms_offsets}, {@code kallsyms_relative_base}). As kernel/kallsyms.c lays them out:
 * each name is a length byte (two bytes when its top bit is set: low 7 bits, then the next byte
 * shifted by 7) and that many token numbers; token {@code t} is the NUL-terminated string at
 * {@code kallsyms_token_table + kallsyms_token_index[t]}; the first character of a name is its nm type.
 * Addresses are base-relative (arm64 has no absolute per-CPU symbols):
 * {@code kallsyms_relative_base + (u32) kallsyms_offsets[i]}.
 */
public final class Kallsyms {

    /** More symbols than any kernel has; bounds what a corrupt count can cost. */
    static final int MAX_SYMBOLS = 1 << 21;

    private Kallsyms() {}

    /** The kernel's symbols, or empty when VMCOREINFO does not publish the tables (kernels before 6.0). */
    public static Optional<SymbolTable> read(KernelDump dump) {
        if (dump.vmcoreInfo().isEmpty()) return Optional.empty();
        VmcoreInfo info = dump.vmcoreInfo().get();
        OptionalLong names = info.symbol("kallsyms_names");
        OptionalLong count = info.symbol("kallsyms_num_syms");
        OptionalLong tokenTable = info.symbol("kallsyms_token_table");
        OptionalLong tokenIndex = info.symbol("kallsyms_token_index");
        OptionalLong offsets = info.symbol("kallsyms_offsets");
        OptionalLong base = info.symbol("kallsyms_relative_base");
        if (names.isEmpty() || count.isEmpty() || tokenTable.isEmpty() || tokenIndex.isEmpty() || offsets.isEmpty() || base.isEmpty()) {
            return Optional.empty();
        }
        Reader r = new Reader(dump);
        long n = Integer.toUnsignedLong(r.u32(count.getAsLong()));
        if (n == 0 || n > MAX_SYMBOLS) {
            throw new DumpFormatException(-1, "kallsyms_num_syms is " + n + "; a kernel has 1 to " + MAX_SYMBOLS + " symbols");
        }
        String[] tokens = new String[256];
        for (int t = 0; t < 256; t++) {
            int at = r.u16(tokenIndex.getAsLong() + 2L * t);
            StringBuilder b = new StringBuilder();
            for (long va = tokenTable.getAsLong() + at; ; va++) {
                int c = r.u8(va);
                if (c == 0) break;
                if (b.length() == 256) throw new DumpFormatException(-1, "kallsyms token " + t + " is not NUL-terminated within 256 bytes");
                b.append((char) c);
            }
            tokens[t] = b.toString();
        }
        long relativeBase = r.u64(base.getAsLong());
        List<SymbolTable.Symbol> out = new ArrayList<>((int) n);
        long at = names.getAsLong();
        StringBuilder name = new StringBuilder();
        for (long i = 0; i < n; i++) {
            int len = r.u8(at++);
            if ((len & 0x80) != 0) len = (len & 0x7F) | (r.u8(at++) << 7);
            name.setLength(0);
            for (int k = 0; k < len; k++) name.append(tokens[r.u8(at++)]);
            if (name.isEmpty()) throw new DumpFormatException(-1, "kallsyms name " + i + " is empty");
            long address = relativeBase + Integer.toUnsignedLong(r.u32(offsets.getAsLong() + 4 * i));
            out.add(new SymbolTable.Symbol(address, name.charAt(0), name.substring(1)));
        }
        return Optional.of(SymbolTable.of("kallsyms in the dump (" + n + " symbols)", out));
    }

    /** Little-endian reads of kernel virtual memory through the dump, a page at a time. */
    private static final class Reader {
        private final KernelDump dump;
        private final byte[] page;
        private long pageVa = 1; // not page-aligned: nothing cached

        Reader(KernelDump dump) {
            this.dump = dump;
            this.page = new byte[(int) dump.geometry().pageSize()];
        }

        int u8(long va) {
            long p = va & -page.length;
            if (p != pageVa) {
                dump.readVirtual(p, page, 0, page.length);
                pageVa = p;
            }
            return page[(int) (va - p)] & 0xFF;
        }

        int u16(long va) { return u8(va) | u8(va + 1) << 8; }

        int u32(long va) { return u16(va) | u16(va + 2) << 16; }

        long u64(long va) { return Integer.toUnsignedLong(u32(va)) | (long) u32(va + 4) << 32; }
    }

}
