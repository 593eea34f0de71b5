package dev.granule.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The tool's top command without its subcommands: name, help, version and description. {@link Main}
 * adds the subcommands; {@link CommandTree} starts from this one alone when the arguments name the
 * subcommand to run, so that the others' models are never built.
 */
@Command(name = "granule",
        footerHeading = "%nExamples:%n",
        footer = {"  granule boot \"arm64.pagesize=16k granule.va_bits=47\"", "  granule translate --tcr 0x500800010 --ttbr0 0x40000000 --image tables.bin@0x40000000 0x1234", "  granule dump info vmcore.elf", "  granule help boot"},
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Models of the arm64 virtual-memory system, with the geometry chosen at start-up.")
class RootCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
