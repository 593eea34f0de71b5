package dev.granule.impact;

/** A smaps file that does not parse; the message names the line. */
public final class SmapsFormatException extends IllegalArgumentException {
    public SmapsFormatException(String source, int line, String text, String why) {
        super(source + ":" + line + ": " + why + ": '" + (text.length() > 120 ? text.substring(0, 120) + "..." : text) + "'");
    }
}
