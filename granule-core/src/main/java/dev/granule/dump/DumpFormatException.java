package dev.granule.dump;

/**
 * A dump file that is not what it claims to be: truncated, malformed or for another machine. The
 * message names what is wrong and the file offset where it was found, so that a user can check
 * the bytes with a hex dump; {@link #offset()} is -1 when no single offset is to blame.
 */
public class DumpFormatException extends IllegalArgumentException {
    private final long offset;

    public DumpFormatException(long offset, String message) {
        super(offset >= 0 ? message + String.format(" (at file offset %#x)", offset) : message);
        this.offset = offset;
    }

    public long offset() { return offset; }
}
