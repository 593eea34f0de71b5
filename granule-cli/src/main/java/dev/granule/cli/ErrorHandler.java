package dev.granule.cli;

import picocli.CommandLine;

/**
 * Turns exceptions from commands into one-line errors a user can act on. A stack trace is printed
 * only with {@code --debug} (or GRANULE_DEBUG=1): users should see what is wrong, not where.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

    static final int USER_ERROR = 2;
    static final int INTERNAL_ERROR = 70;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        boolean debug = debugRequested(parsed);
        var err = cmd.getErr();
        // Typed errors from the library name the bad input; they are the user's to fix, not ours.
        boolean userError = ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                || ex instanceof java.io.UncheckedIOException || ex instanceof UserException
                || ex instanceof dev.granule.table.PageTableException
                || ex instanceof dev.granule.memory.MemoryAccessException;
        if (userError) {
            err.println("granule: error: " + message(ex));
        } else {
            err.println("granule: internal error: " + ex + " (please report; rerun with --debug for details)");
        }
        if (debug) ex.printStackTrace(err);
        err.flush();
        return userError ? USER_ERROR : INTERNAL_ERROR;
    }

    /**
     * The exception's message; for a file system's refusal, whose message is little more than the
     * path (NoSuchFileException's is the path alone), the path and what is wrong with it.
     */
    static String message(Exception ex) {
        if (!(ex instanceof java.nio.file.FileSystemException f) || f.getFile() == null) return ex.getMessage();
        String what = switch (f) {
            case java.nio.file.NoSuchFileException n -> "no such file or directory";
            case java.nio.file.AccessDeniedException a -> "permission denied";
            case java.nio.file.FileAlreadyExistsException e -> "already exists";
            case java.nio.file.NotDirectoryException n -> "not a directory";
            case java.nio.file.DirectoryNotEmptyException d -> "directory not empty";
            default -> f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
        };
        return f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + what;
    }

    private static boolean debugRequested(CommandLine.ParseResult parsed) {
        if ("1".equals(System.getenv("GRANULE_DEBUG"))) return true;
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) return true;
        }
        return false;
    }
}
