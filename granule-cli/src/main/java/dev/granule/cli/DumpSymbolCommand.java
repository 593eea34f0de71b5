package dev.granule.cli;

import dev.granule.dump.KernelDump;
import dev.granule.dump.SymbolTable;
import dev.granule.dump.TranslationText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code granule dump symbol FILE NAME|ADDRESS...}: a symbol's address, or the symbol an address
 * lies in, from the kallsyms tables in the dump or a System.map.
 */
@Command(name = "symbol",
        footerHeading = "%nExamples:%n",
        footer = {"  granule dump symbol vmcore.kdump schedule", "  granule dump symbol vmcore.kdump 0xffff800080123456 --system-map System.map"}, mixinStandardHelpOptions = true,
        description = {"Look up kernel symbols: NAME gives its address, ADDRESS the symbol it lies in.",
                "From the kallsyms tables in the dump (Linux 6.0+, no debug info needed) or --system-map FILE."})
final class DumpSymbolCommand implements Callable<Integer> {

    @Mixin
    DumpSourceOptions source = new DumpSourceOptions();

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME|ADDRESS", description = "Symbol names (name+0xoff too) or addresses.")
    List<String> queries;

    @Mixin
    SymbolOptions symbols = new SymbolOptions();

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (symbols.noSymbols) throw new UserException("--no-symbols leaves nothing to look up");
        PrintWriter out = spec.commandLine().getOut();
        try (KernelDump dump = source.open()) {
            SymbolOptions.Resolver names = symbols.resolver(dump);
            SymbolTable t = names.table().orElseThrow(() -> new UserException(
                    "no symbols: the dump's VMCOREINFO does not locate kallsyms (Linux before 6.0) or they are not in the dump; give --system-map"));
            out.printf("# %s%n", t.source());
            for (String q : queries) {
                long va = names.address(q);
                StringBuilder b = TranslationText.hex(new StringBuilder(), va, 16);
                var sym = t.containing(va);
                if (sym.isPresent()) {
                    b.append("  ").append(sym.get().type()).append(' ').append(names.symbolize(va));
                } else {
                    b.append("  no symbol");
                }
                out.println(b);
            }
        }
        out.flush();
        return 0;
    }
}
