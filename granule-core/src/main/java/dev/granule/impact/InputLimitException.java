package dev.granule.impact;

/** An input that exceeds a reader's bound (a line too long, a file too large); the message names the file and the limit. */
public final class InputLimitException extends IllegalArgumentException {
    public InputLimitException(String message) {
        super(message);
    }
}
