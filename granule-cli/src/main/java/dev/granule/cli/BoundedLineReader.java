package dev.granule.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;

/**
 * A {@link BufferedReader} whose lines have a length limit: a text input that is not text (a huge
 * file of zeros, a binary) is reported at its first over-long line instead of being gathered into
 * one string until the heap runs out.
 */
final class BoundedLineReader extends BufferedReader {

    private final String source;
    private final int maxChars;
    private long lineNumber;

    BoundedLineReader(Reader in, String source, int maxChars) {
        super(in);
        this.source = source;
        this.maxChars = maxChars;
    }

    @Override
    public String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = read()) != -1) {
            if (c == '\n') break;
            if (c == '\r') {
                mark(1);
                if (read() != '\n') reset();
                break;
            }
            if (line.length() == maxChars) {
                throw new IOException(source + ": line " + (lineNumber + 1) + " is longer than " + maxChars
                        + " characters; not a text file of this kind");
            }
            line.append((char) c);
        }
        if (c == -1 && line.isEmpty()) return null;
        lineNumber++;
        return line.toString();
    }
}
