package dev.granule.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code granule dump ...}: read kernel memory dumps whose page size was chosen at boot. */
@Command(name = "dump",
        footerHeading = "%nExamples:%n",
        footer = {"  granule dump info vmcore.elf", "  granule dump translate vmcore.elf 0xffff800080000000"},
        description = {"Read an arm64 kernel memory dump (kdump vmcore, QEMU dump-guest-memory ELF, raw image):",
                "detect the page size and VA size it ran with, translate its kernel addresses, list its tables."},
        mixinStandardHelpOptions = true,
        subcommands = {DumpInfoCommand.class, DumpTranslateCommand.class, DumpPtdumpCommand.class, DumpCaptureCommand.class})
final class DumpCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
