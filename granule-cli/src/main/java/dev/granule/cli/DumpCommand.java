package dev.granule.cli;

import picocli.CommandLine.Command;

/** {@code granule dump ...}: read kernel memory dumps whose page size was chosen at boot. */
@Command(name = "dump", subcommands = {DumpInfoCommand.class, DumpTranslateCommand.class, DumpReadCommand.class, DumpSymbolCommand.class,
        DumpPtdumpCommand.class, DumpCaptureCommand.class})
final class DumpCommand extends DumpGroup {
}
