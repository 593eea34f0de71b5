package dev.granule.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.granule.geometry.Boot;
import dev.granule.geometry.BootResult;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.CpuPreset;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.TranslationFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code granule boot "<cmdline>"}: resolves a boot command line into a geometry and prints it. */
@Command(name = "boot",
        footerHeading = "%nExamples:%n",
        footer = {"  granule boot \"arm64.pagesize=16k granule.va_bits=47\"", "  granule boot --cpu cortex-a76 --json \"arm64.pagesize=64k\""},
        description = {"Resolve a kernel-style boot command line into a translation geometry.",
                "Recognised: arm64.pagesize=4k|16k|64k, arm64.nolva, granule.va_bits=N, granule.pa_bits=N,"
                        + " granule.format=d64|d128|lpae|short. Unknown parameters are ignored with a warning."},
        mixinStandardHelpOptions = true)
final class BootCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "CMDLINE",
            description = "The boot command line, quoted, e.g. \"arm64.pagesize=16k granule.va_bits=47\".")
    String commandLine = "";

    @Mixin
    CpuOptions cpuOptions = new CpuOptions();

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--kernel-tables",
            description = "Also build the early kernel tables (linear map of --dram, kernel image) and report their memory.")
    boolean kernelTables;

    @Mixin
    KernelTablesOptions kernel = new KernelTablesOptions();

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CpuFeatures cpu = cpuOptions.features();
        BootResult result = Boot.resolve(commandLine, cpu);
        PrintWriter out = spec.commandLine().getOut();
        KernelTablesReport tables = kernelTables || kernel.dram != null
                ? KernelTablesReport.of(kernel.build(result.geometry(), 4L << 30), kernel.rodata.name()) : null;
        if (json) {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            Map<String, Object> m = toJson(result, cpuOptions.describe());
            if (tables != null) m.put("kernelTables", tables);
            out.println(mapper.writeValueAsString(m));
        } else {
            printTable(out, result, cpuOptions.describe());
            if (tables != null) tables.print(out);
        }
        out.flush();
        return 0;
    }

    static Map<String, Object> toJson(BootResult r, String cpuName) {
        Geometry g = r.geometry();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("geometry", g.label());
        m.put("cpu", cpuName);
        m.put("granule", g.granule().label());
        m.put("format", g.format().option());
        m.put("vaBits", g.vaBits());
        m.put("paBits", g.paBits());
        m.put("lpa2", g.lpa2());
        m.put("levels", g.levels());
        m.put("startLevel", g.startLevel());
        m.put("descriptorBytes", g.descriptorBytes());
        m.put("linux", g.linuxDefines());
        Map<String, Object> tcr = new LinkedHashMap<>();
        tcr.put("T0SZ", g.txsz());
        tcr.put("T1SZ", g.txsz());
        tcr.put("TG0", g.tg0());
        tcr.put("TG1", g.tg1());
        tcr.put("IPS", g.ips());
        tcr.put("DS", g.lpa2() ? 1 : 0);
        m.put("tcr", tcr);
        List<Map<String, Object>> levels = new ArrayList<>();
        for (int level = g.startLevel(); level <= 3; level++) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("level", level);
            l.put("architecturalLevel", g.architecturalLevel(level));
            l.put("linuxName", g.linuxLevelName(level));
            l.put("shift", g.shift(level));
            l.put("vaBits", g.bitsAt(level));
            l.put("entries", g.entries(level));
            l.put("tableBytes", g.tableBytes(level));
            l.put("entrySpan", g.entrySpan(level));
            l.put("leaf", leafName(g, level));
            l.put("contiguousEntries", g.contiguousEntries(level));
            levels.add(l);
        }
        m.put("perLevel", levels);
        m.put("fallbacks", r.fallbacks());
        m.put("ignored", r.ignored());
        return m;
    }

    static void printTable(PrintWriter out, BootResult r, String cpuName) {
        Geometry g = r.geometry();
        out.printf("geometry     %s%n", g.label());
        out.printf("cpu          %s%n", cpuName);
        out.printf("format       %s (%d-byte descriptors)%n", g.format().archName(), g.descriptorBytes());
        out.printf("page size    %s (PAGE_SHIFT %d)%n", Units.bytes(g.pageSize()), g.pageShift());
        out.printf("VA / PA      %d / %d bits%s%n", g.vaBits(), g.paBits(), g.lpa2() ? "  (FEAT_LPA2, TCR.DS=1)" : "");
        out.printf("levels       %d (start level %d)%n", g.levels(), g.startLevel());
        if (g.format() == TranslationFormat.SHORT) {
            out.printf("TTBCR        EAE=0  N=%d  (SCTLR.TRE=1 AFE=1: TEX remap, access flag)%n", g.txsz());
        } else if (g.format().isAArch32()) {
            out.printf("TTBCR        EAE=1  T0SZ=T1SZ=%d%n", g.txsz());
        } else {
            out.printf("TCR_EL1      T0SZ=T1SZ=%d  TG0=%s  TG1=%s  IPS=%s  DS=%d%n", g.txsz(),
                    bin2(g.tg0()), bin2(g.tg1()), bin3(g.ips()), g.lpa2() ? 1 : 0);
            if (g.format() == TranslationFormat.D128) {
                out.println("TCR2_EL1     D128=1  (permission indirection, PIE, is always on)");
            }
        }
        out.println();
        out.printf("%-6s %-4s %6s %8s %8s %10s %8s  %-10s %s%n",
                "level", "name", "shift", "VA bits", "entries", "table", "entry", "leaf", "contiguous");
        for (int level = g.startLevel(); level <= 3; level++) {
            int cont = g.contiguousEntries(level);
            // Short descriptors: Arm's first and second level (granule numbers them 2 and 3).
            String levelLabel = g.format() == TranslationFormat.SHORT ? "L" + g.architecturalLevel(level)
                    : String.valueOf(level);
            out.printf("%-6s %-4s %6d %8d %8d %10s %8s  %-10s %s%n",
                    levelLabel, g.linuxLevelName(level), g.shift(level), g.bitsAt(level), g.entries(level),
                    Units.bytes(g.tableBytes(level)), Units.bytes(g.entrySpan(level)), leafName(g, level),
                    cont > 1 ? cont + " x " + Units.bytes(g.entrySpan(level)) + " = "
                            + Units.bytes(cont * g.entrySpan(level)) : "-");
        }
        out.println();
        for (var e : g.linuxDefines().entrySet()) {
            String v = e.getKey().equals("PAGE_MASK") ? String.format("%#x", e.getValue()) : String.valueOf(e.getValue());
            out.printf("%-22s %s%n", e.getKey(), v);
        }
        if (!r.warnings().isEmpty()) {
            out.println();
            for (String w : r.warnings()) out.println("warning: " + w);
        }
    }

    /** The leaf a level holds; short descriptors call theirs sections (blocks) and pages. */
    private static String leafName(Geometry g, int level) {
        if (level == 3) return "page";
        if (!g.blockAllowed(level)) return "table only";
        return g.format() == TranslationFormat.SHORT ? "section" : "block";
    }

    private static String bin2(int v) {
        return "0b" + ((v >> 1) & 1) + (v & 1);
    }

    private static String bin3(int v) {
        return "0b" + ((v >> 2) & 1) + ((v >> 1) & 1) + (v & 1);
    }
}
