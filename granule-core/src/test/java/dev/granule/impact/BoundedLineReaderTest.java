package dev.granule.impact;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link BoundedLineReader}'s lines against the text split at each {@code \n} (one {@code \r}
 * before it dropped; a last line without a line end kept), with lines that end inside the read
 * buffer and lines that run across its refills, through a stream that hands out few bytes at a time.
 */
class BoundedLineReaderTest {

    /** Hands out at most {@code chunk} bytes per read, as a pipe may. */
    private static InputStream trickle(byte[] bytes, int chunk) {
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, chunk));
            }
        };
    }

    private static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        int from = 0;
        while (from < text.length()) {
            int nl = text.indexOf('\n', from);
            String line = nl < 0 ? text.substring(from) : text.substring(from, nl);
            out.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
            if (nl < 0) break;
            from = nl + 1;
        }
        return out;
    }

    @Test
    void linesAreTheTextSplitAtLineEndsWhereverTheReadsEnd() throws IOException {
        Random r = new Random(18);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 30_000; i++) {
            int n = r.nextInt(10) == 0 ? r.nextInt(300) : r.nextInt(24);
            for (int k = 0; k < n; k++) b.append((char) (r.nextInt(5) == 0 ? 0x80 + r.nextInt(128) : 'a' + r.nextInt(26)));
            if (r.nextInt(7) == 0) b.append('\r');
            b.append('\n');
        }
        b.append("last line without an end\r");
        String text = b.toString();
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        for (int chunk : new int[]{1, 7, 1000, 1 << 20}) {
            List<String> got = new ArrayList<>();
            List<String> inPlace = new ArrayList<>();
            try (BoundedLineReader in = new BoundedLineReader(trickle(bytes, chunk), "t", 300, Long.MAX_VALUE);
                 BoundedLineReader again = new BoundedLineReader(trickle(bytes, chunk), "t", 300, Long.MAX_VALUE)) {
                for (String line; (line = in.readLine()) != null; ) got.add(line);
                for (int n; (n = again.readLineBytes()) >= 0; ) {
                    inPlace.add(new String(again.lineBytes(), again.lineStart(), n, StandardCharsets.ISO_8859_1));
                }
                assertThat(again.lineNumber()).isEqualTo(inPlace.size());
            }
            assertThat(got).as("chunks of %d", chunk).isEqualTo(split(text));
            assertThat(inPlace).as("chunks of %d", chunk).isEqualTo(split(text));
        }
    }

    @Test
    void aLineOfTheLimitIsReadAndOneByteMoreIsRefusedInTheBufferOrAcrossIt() throws IOException {
        String ok = "x".repeat(100);
        for (int chunk : new int[]{3, 1 << 20}) {
            try (BoundedLineReader in = new BoundedLineReader(trickle((ok + "\n" + ok + "\r\n" + ok + "y\nz\n").getBytes(StandardCharsets.ISO_8859_1), chunk),
                    "list.txt", 100, Long.MAX_VALUE)) {
                assertThat(in.readLine()).isEqualTo(ok);
                assertThatThrownBy(in::readLine).isInstanceOf(InputLimitException.class)
                        .hasMessage("list.txt: line 2 is longer than the limit of 100 bytes (not a text file of this kind?)");
            }
            try (BoundedLineReader in = new BoundedLineReader(trickle((ok + "y\n").getBytes(StandardCharsets.ISO_8859_1), chunk),
                    "list.txt", 100, Long.MAX_VALUE)) {
                assertThatThrownBy(in::readLineBytes).isInstanceOf(InputLimitException.class)
                        .hasMessage("list.txt: line 1 is longer than the limit of 100 bytes (not a text file of this kind?)");
            }
        }
    }
}
