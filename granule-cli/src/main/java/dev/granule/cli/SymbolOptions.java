package dev.granule.cli;

import dev.granule.dump.Kallsyms;
import dev.granule.dump.KernelDump;
import dev.granule.dump.SymbolTable;
import dev.granule.dump.VmcoreInfo;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/** Where kernel symbol names come from: a System.map, else the kallsyms tables in the dump. */
final class SymbolOptions {

    @Option(names = "--system-map", paramLabel = "FILE",
            description = "Symbols from this System.map (moved to the dumped kernel's KASLR addresses) instead of the dump's kallsyms.")
    Path systemMap;

    @Option(names = "--no-symbols", description = "Do not name addresses after kernel symbols.")
    boolean noSymbols;

    /** Addresses from text and names for addresses, for one dump. */
    static final class Resolver {
        private final Optional<SymbolTable> table;
        private final Optional<VmcoreInfo> info;

        Resolver(Optional<SymbolTable> table) { this(table, Optional.empty()); }

        /** {@code info}'s SYMBOL(name) entries answer for names the table lacks (kallsyms without data symbols). */
        Resolver(Optional<SymbolTable> table, Optional<VmcoreInfo> info) {
            this.table = table;
            this.info = info;
        }

        Optional<SymbolTable> table() { return table; }

        /** {@code 0x...}, a decimal number, {@code name} or {@code name+0xoff}. */
        long address(String token) {
            char c = token.isEmpty() ? ' ' : token.charAt(0);
            if (c >= '0' && c <= '9') return AddressConverter.parse(token);
            int plus = token.indexOf('+');
            String name = plus < 0 ? token : token.substring(0, plus);
            long offset = plus < 0 ? 0 : AddressConverter.parse(token.substring(plus + 1));
            OptionalLong fromInfo = info.isPresent() ? info.get().symbol(name) : OptionalLong.empty();
            if (table.isEmpty() && fromInfo.isPresent()) return fromInfo.getAsLong() + offset;
            if (table.isEmpty()) {
                throw new UserException("'" + token + "' is not an address, and there are no symbols to look it up in "
                        + "(give --system-map, or a dump of Linux 6.0 or later, whose VMCOREINFO locates kallsyms)");
            }
            OptionalLong a = table.get().address(name);
            if (a.isEmpty()) a = fromInfo;
            if (a.isEmpty()) throw new UserException("no symbol '" + name + "' in " + table.get().source() + " or VMCOREINFO");
            return a.getAsLong() + offset;
        }

        /** The symbol name for {@code va} ({@code name+0xoff}), or null. */
        String symbolize(long va) {
            return table.isEmpty() ? null : table.get().symbolize(va);
        }
    }

    Resolver resolver(KernelDump dump) throws IOException {
        if (systemMap != null) {
            // A System.map of a large kernel is a few MiB; refuse what cannot be one before reading it.
            InputFile.requireReadable("--system-map " + systemMap, systemMap, 1L << 30);
            return new Resolver(Optional.of(dev.granule.dump.SystemMap.read(systemMap, dump.vmcoreInfo())), dump.vmcoreInfo());
        }
        if (noSymbols) return new Resolver(Optional.empty(), dump.vmcoreInfo());
        try {
            return new Resolver(Kallsyms.read(dump), dump.vmcoreInfo());
        } catch (IllegalArgumentException e) {
            // Unreadable kallsyms (pages not in the dump, a corrupt table) cost the names, not the command.
            return new Resolver(Optional.empty(), dump.vmcoreInfo());
        }
    }
}
