package dev.granule.cli;

import dev.granule.dump.KernelDump;
import dev.granule.geometry.Geometry;
import dev.granule.table.Mapping;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code granule dump translate FILE VA...}: walks the dumped kernel's TTBR1 tables for each address. */
@Command(name = "translate", mixinStandardHelpOptions = true,
        description = "Translate kernel virtual addresses through the dumped kernel's own page tables (TTBR1).")
final class DumpTranslateCommand implements Callable<Integer> {

    @Mixin
    DumpSourceOptions source = new DumpSourceOptions();

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "VA", description = "Kernel virtual addresses, e.g. 0xffff800080000000.")
    List<String> addresses = new ArrayList<>();

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<Long> vas = addresses.stream().map(AddressConverter::parse).toList();
        try (KernelDump dump = source.open()) {
            Geometry g = dump.geometry();
            out.printf("# %s, root %s%n", g.label(), Units.hex(dump.tables().rootPa()));
            for (long va : vas) {
                if (!dump.kernelWalker().covers(va)) {
                    out.printf("0x%016x  not a kernel (TTBR1) address for a %d-bit VA%n", va, g.vaBits());
                    continue;
                }
                Optional<Mapping> m = dump.translate(va);
                if (m.isEmpty()) {
                    out.printf("0x%016x  unmapped%n", va);
                } else {
                    Mapping x = m.get();
                    out.printf("0x%016x  -> 0x%013x  %s %s%s at level %d (%s)  %s%n", va, x.translate(va),
                            Units.bytes(x.size()), g.linuxLevelName(x.level()), x.isBlock() ? " block" : " page", x.level(),
                            String.format("0x%016x-0x%016x", x.va(), x.va() + x.size()),
                            x.attributes().summary() + (x.contiguous() ? " CON" : ""));
                }
            }
        }
        out.flush();
        return 0;
    }
}
