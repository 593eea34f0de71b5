package dev.granule.cli;

import dev.granule.geometry.Boot;
import dev.granule.geometry.BootResult;
import dev.granule.table.KernelLayout;
import dev.granule.table.Ptdump;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code granule ptdump "<cmdline>"}: builds the early kernel tables (linear map and kernel image)
 * for the geometry the command line selects and lists them like Linux's arm64 ptdump.
 */
@Command(name = "ptdump",
        footerHeading = "%nExample:%n",
        footer = {"  granule ptdump \"arm64.pagesize=4k\" --rodata on --dram 4G"},
        description = {"Build a kernel's TTBR1 tables (linear map of DRAM, kernel text/rodata/data) for the",
                "geometry a boot command line selects, and list them like /sys/kernel/debug/kernel_page_tables."},
        mixinStandardHelpOptions = true)
final class PtdumpCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "CMDLINE", description = "Boot command line, quoted.")
    String commandLine = "";

    @Mixin
    CpuOptions cpuOptions = new CpuOptions();

    @Mixin
    KernelTablesOptions kernel = new KernelTablesOptions();

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        BootResult boot = Boot.resolve(commandLine, cpuOptions.features());
        PrintWriter out = spec.commandLine().getOut();
        KernelLayout.Built built = kernel.build(boot.geometry(), 1L << 30);
        try (var memory = built.memory()) {
            out.printf("# %s, %s DRAM, rodata=%s%n", boot.geometry().label(), Units.bytes(kernelDram(built)),
                    kernel.rodata);
            out.print(Ptdump.render(built.space().walker(), built.markers()));
            var frames = built.frames();
            out.printf("# %d table pages, %s of table memory%n", frames.live(), Units.bytes(frames.liveBytes()));
            for (String w : boot.warnings()) out.println("# warning: " + w);
        }
        out.flush();
        return 0;
    }

    private static long kernelDram(KernelLayout.Built built) {
        return built.memory().ranges().getFirst().size();
    }
}
