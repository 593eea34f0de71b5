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
@Command(name = "translate",
        footerHeading = "%nExamples:%n",
        footer = {"  granule dump translate vmcore.elf 0xffff800080000000 0xffff000002750123", "  granule dump translate --json vmcore.elf 0xffff800080000000"}, mixinStandardHelpOptions = true,
        description = "Translate kernel virtual addresses through the dumped kernel's own page tables (TTBR1).")
final class DumpTranslateCommand implements Callable<Integer> {

    @Mixin
    DumpSourceOptions source = new DumpSourceOptions();

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "VA", description = "Kernel virtual addresses, e.g. 0xffff800080000000.")
    List<String> addresses = new ArrayList<>();

    @picocli.CommandLine.Option(names = "--json", description = "Print JSON (addresses as 0x strings) instead of text.")
    boolean json;

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
            if (json) {
                out.println(new com.fasterxml.jackson.databind.ObjectMapper()
                        .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(toJson(dump, vas)));
            } else {
                out.printf("# %s, root %s%n", g.label(), Units.hex(dump.tables().rootPa()));
                for (long va : vas) printText(out, dump, va);
            }
        }
        out.flush();
        return 0;
    }

    private static void printText(PrintWriter out, KernelDump dump, long va) {
        Geometry g = dump.geometry();
        if (!dump.kernelWalker().covers(va)) {
            out.printf("0x%016x  not a kernel (TTBR1) address for a %d-bit VA%n", va, g.vaBits());
            return;
        }
        Optional<Mapping> m = dump.translate(va);
        if (m.isEmpty()) {
            out.printf("0x%016x  unmapped%n", va);
            return;
        }
        Mapping x = m.get();
        out.printf("0x%016x  -> 0x%013x  %s %s%s at level %d (%s)  %s%n", va, x.translate(va),
                Units.bytes(x.size()), g.linuxLevelName(x.level()), x.isBlock() ? " block" : " page", x.level(),
                String.format("0x%016x-0x%016x", x.va(), x.va() + x.size()),
                x.attributes().summary() + (x.contiguous() ? " CON" : ""));
    }

    static java.util.Map<String, Object> toJson(KernelDump dump, List<Long> vas) {
        Geometry g = dump.geometry();
        java.util.Map<String, Object> root = new java.util.LinkedHashMap<>();
        root.put("geometry", g.label());
        root.put("root", Units.hex(dump.tables().rootPa()));
        List<java.util.Map<String, Object>> results = new ArrayList<>();
        for (long va : vas) {
            java.util.Map<String, Object> r = new java.util.LinkedHashMap<>();
            r.put("va", String.format("0x%016x", va));
            Optional<Mapping> m = dump.kernelWalker().covers(va) ? dump.translate(va) : Optional.empty();
            r.put("kernelAddress", dump.kernelWalker().covers(va));
            r.put("mapped", m.isPresent());
            m.ifPresent(x -> {
                r.put("pa", Units.hex(x.translate(va)));
                r.put("leafVa", Units.hex(x.va()));
                r.put("leafPa", Units.hex(x.pa()));
                r.put("size", x.size());
                r.put("level", x.level());
                r.put("linuxLevel", g.linuxLevelName(x.level()));
                r.put("contiguous", x.contiguous());
                r.put("attributes", x.attributes().summary());
                r.put("descriptor", String.format("0x%016x", x.descriptor().lo()));
            });
            results.add(r);
        }
        root.put("translations", results);
        return root;
    }
}
