package dev.granule.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code ./granule}. Subcommands are registered here, one class each; the rest of the
 * top command (help, version, description) is declared on {@link RootCommand}, which picocli merges in.
 */
@Command(subcommands = {
        BootCommand.class,
        PtdumpCommand.class,
        TranslateCommand.class,
        ImpactCommand.class,
        TraceCommand.class,
        DumpCommand.class,
        CompatCommand.class,
        CommandLine.HelpCommand.class
})
public final class Main extends RootCommand {

    /** Set by {@link #main} only: the commands' writer is then the process's own standard output. */
    private static volatile boolean processStdout;

    public static void main(String[] args) {
        processStdout = true;
        System.exit(execute(args));
    }

    /**
     * Whether a command's default writer is this process's standard output, so that a command
     * streaming bulk text ({@code dump translate}) may write its bytes to {@link System#out}
     * directly; false for a command run through {@link #execute} with a writer of its own.
     */
    static boolean writesToProcessStdout() { return processStdout; }

    /** For tests of the byte path: as if run by {@link #main}. */
    static void writeToProcessStdout(boolean on) { processStdout = on; }

    /** Runs the tool with {@code args}; returns the exit code. */
    public static int execute(String... args) {
        return commandLineFor(args).execute(args);
    }

    /** The whole command tree: every command and subcommand (generators, tests that walk the tree). */
    public static CommandLine newCommandLine() {
        return CommandTree.configure(new CommandLine(new Main()));
    }

    /** The command tree to run {@code args} with: only the branch they name (see {@link CommandTree}). */
    public static CommandLine commandLineFor(String... args) {
        return CommandTree.forArguments(args);
    }
}
