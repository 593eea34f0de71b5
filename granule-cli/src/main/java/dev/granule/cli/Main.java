package dev.granule.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./granule}. Subcommands are registered here, one class each. */
@Command(name = "granule",
        footerHeading = "%nExamples:%n",
        footer = {"  granule boot \"arm64.pagesize=16k granule.va_bits=47\"", "  granule translate --tcr 0x500800010 --ttbr0 0x40000000 --image tables.bin@0x40000000 0x1234", "  granule dump info vmcore.elf", "  granule help boot"},
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Models of the arm64 virtual-memory system, with the geometry chosen at start-up.",
        subcommands = {
                BootCommand.class,
                PtdumpCommand.class,
                TranslateCommand.class,
                ImpactCommand.class,
                TraceCommand.class,
                DumpCommand.class,
                CompatCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the tool with {@code args}; returns the exit code. Used by tests. */
    public static int execute(String... args) {
        return newCommandLine().execute(args);
    }

    public static CommandLine newCommandLine() {
        CommandLine cmd = new CommandLine(new Main());
        cmd.setExecutionExceptionHandler(new ErrorHandler());
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        return cmd;
    }
}
