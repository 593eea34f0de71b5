package dev.granule.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code granule trace} without its subcommands, which {@link TraceCommand} adds (see {@link CommandTree}). */
@Command(name = "trace", description = "Address traces for 'granule impact --trace'.", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  granule trace convert ls.lackey ls.trace.zst", "  granule trace convert - out.trace < perf-script.txt"})
class TraceGroup implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
