package dev.granule.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Looks at a path a user passed before any command opens it, so that a directory, a FIFO, a device
 * such as {@code /dev/zero}, an unreadable or an oversized file is one line saying what it is, not a
 * stack trace, a read that never ends (a FIFO without a writer blocks on open; {@code /dev/zero}
 * never ends) or "no such file". Only regular files are opened, and only to test that they can be.
 */
public final class InputFile {

    /** What a path names, from the file-type bits of its mode (stat(2) st_mode &amp; S_IFMT). */
    public enum Kind {
        REGULAR("a regular file"), MISSING("missing"), DIRECTORY("a directory"), FIFO("a FIFO (named pipe)"),
        CHARACTER_DEVICE("a character device"), BLOCK_DEVICE("a block device"), SOCKET("a socket"),
        OTHER("not a regular file");

        final String description;

        Kind(String description) {
            this.description = description;
        }
    }

    private static final int S_IFMT = 0170000;

    private InputFile() {}

    /** The kind of file {@code path} names, following symbolic links as open(2) would. */
    public static Kind kind(Path path) {
        try {
            Integer mode = (Integer) Files.getAttribute(path, "unix:mode");
            return switch (mode & S_IFMT) {
                case 0100000 -> Kind.REGULAR;
                case 0040000 -> Kind.DIRECTORY;
                case 0010000 -> Kind.FIFO;
                case 0020000 -> Kind.CHARACTER_DEVICE;
                case 0060000 -> Kind.BLOCK_DEVICE;
                case 0140000 -> Kind.SOCKET;
                default -> Kind.OTHER;
            };
        } catch (NoSuchFileException e) {
            return Kind.MISSING;
        } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
            return basicKind(path); // no "unix" attribute view on this file system
        }
    }

    private static Kind basicKind(Path path) {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return a.isRegularFile() ? Kind.REGULAR : a.isDirectory() ? Kind.DIRECTORY : Kind.OTHER;
        } catch (IOException e) {
            return Files.exists(path) ? Kind.OTHER : Kind.MISSING;
        }
    }

    /**
     * Checks that {@code path} can be read as a stream: a regular file (of any size: it is read with
     * bounded memory), or a FIFO, as a pipe from another program is (process substitution included);
     * anything else is refused as {@link #requireReadable} refuses it.
     */
    public static void requireStreamable(String what, Path path) {
        if (kind(path) != Kind.FIFO) requireReadable(what, path, Long.MAX_VALUE);
    }

    /**
     * Checks that {@code path} is a regular file this process can open for reading and at most
     * {@code maxBytes} long, and returns its size; otherwise throws a {@link UserException} whose
     * message starts with {@code what} (e.g. "--image tables.bin" or "dump vmcore.elf").
     */
    public static long requireReadable(String what, Path path, long maxBytes) {
        Kind kind = kind(path);
        switch (kind) {
            case REGULAR -> { }
            case MISSING -> throw new UserException(what + ": no such file");
            case DIRECTORY -> throw new UserException(what + ": is a directory, not a file");
            default -> throw new UserException(what + ": is " + kind.description
                    + ", not a regular file; save its contents to a file and pass that");
        }
        // Root passes access(2) for almost everything, so open it: that is the check the kernel makes.
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > maxBytes) {
                throw new UserException(what + ": is " + Units.bytes(size) + ", more than the " + Units.bytes(maxBytes)
                        + " granule reads from such a file");
            }
            return size;
        } catch (AccessDeniedException e) {
            throw new UserException(what + ": permission denied", e);
        } catch (NoSuchFileException e) {
            throw new UserException(what + ": no such file", e); // removed since kind() looked
        } catch (IOException e) {
            throw new UserException(what + ": cannot open (" + e.getMessage() + ")", e);
        }
    }
}
