package dev.granule.dump;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A kernel's System.map ({@code nm -n vmlinux}: {@code <hex address> <type> <name>} per line) at
 * link-time addresses, moved to where the dumped kernel ran: a KASLR kernel runs every symbol at
 * the link address plus {@code KERNELOFFSET}; VMCOREINFO's {@code SYMBOL(_stext)} against the map's
 * {@code _stext} gives the same shift and is preferred, since it is a runtime address itself.
 */
public final class SystemMap {

    /** More lines than any kernel's map has; bounds what a wrong file can cost. */
    static final int MAX_SYMBOLS = 1 << 22;

    private SystemMap() {}

    public static SymbolTable read(Path file, java.util.Optional<VmcoreInfo> info) throws IOException {
        List<SymbolTable.Symbol> symbols = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            String line;
            long n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                String[] f = line.trim().split("\\s+");
                if (f.length < 3 || f[0].isEmpty()) continue;
                long address;
                try {
                    address = Long.parseUnsignedLong(f[0], 16);
                } catch (NumberFormatException e) {
                    throw new DumpFormatException(-1, file + " line " + n + ": '" + f[0] + "' is not a hex address; not a System.map");
                }
                if (f[1].length() != 1) throw new DumpFormatException(-1, file + " line " + n + ": '" + f[1] + "' is not an nm type letter");
                if (address == -1L) continue; // Debian's placeholder: "ffffffffffffffff B The real System.map is in ... -dbg"
                if (symbols.size() == MAX_SYMBOLS) throw new DumpFormatException(-1, file + " has more than " + MAX_SYMBOLS + " symbols");
                symbols.add(new SymbolTable.Symbol(address, f[1].charAt(0), f[2]));
            }
        }
        if (symbols.isEmpty()) {
            throw new DumpFormatException(-1, file + " holds no symbols (Debian's linux-image packages ship a placeholder; "
                    + "the real System.map is in the -dbg package)");
        }
        long shift = 0;
        String how = "link addresses";
        if (info.isPresent()) {
            OptionalLong runtime = info.get().symbol("_stext");
            OptionalLong linked = symbols.stream().filter(s -> s.name().equals("_stext")).mapToLong(SymbolTable.Symbol::address).findFirst();
            if (runtime.isPresent() && linked.isPresent()) {
                shift = runtime.getAsLong() - linked.getAsLong();
                how = String.format("moved by %#x (VMCOREINFO _stext - System.map _stext)", shift);
            } else {
                OptionalLong kaslr = info.get().kernelOffset();
                if (kaslr.isPresent()) {
                    shift = kaslr.getAsLong();
                    how = String.format("moved by KERNELOFFSET %#x", shift);
                }
            }
        }
        List<SymbolTable.Symbol> moved = new ArrayList<>(symbols.size());
        for (SymbolTable.Symbol s : symbols) moved.add(new SymbolTable.Symbol(s.address() + shift, s.type(), s.name()));
        return SymbolTable.of("System.map " + file + " (" + moved.size() + " symbols, " + how + ")", moved);
    }
}
