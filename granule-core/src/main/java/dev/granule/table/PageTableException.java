package dev.granule.table;

/**
 * A table edit was refused; the tables are unchanged. The message names the offending address or
 * range and what to do instead.
 */
public class PageTableException extends RuntimeException {
    public PageTableException(String message) {
        super(message);
    }

    public PageTableException(String message, Throwable cause) {
        super(message, cause);
    }
}
