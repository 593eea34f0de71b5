package dev.granule.impact.trace;

/** A trace that does not parse (with --strict, the first malformed line); the message names the file and line. */
public final class TraceFormatException extends IllegalArgumentException {
    public TraceFormatException(String message) {
        super(message);
    }
}
