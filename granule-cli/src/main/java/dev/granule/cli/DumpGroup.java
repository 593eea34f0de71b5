package dev.granule.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code granule dump} without its subcommands, which {@link DumpCommand} adds (see {@link CommandTree}). */
@Command(name = "dump",
        footerHeading = "%nExamples:%n",
        footer = {"  granule dump info vmcore.elf", "  granule dump translate vmcore.elf 0xffff800080000000",
                "  granule dump read vmcore.elf jiffies --u64"},
        description = {"Read an arm64 kernel memory dump (ELF vmcore, makedumpfile's kdump-compressed or flattened file, QEMU",
                "dump-guest-memory, raw image): detect the page size and VA size it ran with, translate its kernel addresses,",
                "read its memory, name its symbols, list its tables."},
        mixinStandardHelpOptions = true)
class DumpGroup implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
