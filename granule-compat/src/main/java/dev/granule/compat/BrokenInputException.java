package dev.granule.compat;

/**
 * An input that cannot be read as what it claims to be (a truncated ELF, a corrupt archive, an archive
 * over the scan's bounds). The message is one line naming the field or offset; a scan reports it for
 * that file and goes on.
 */
public final class BrokenInputException extends RuntimeException {
    public BrokenInputException(String message) {
        super(message);
    }

    public BrokenInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
