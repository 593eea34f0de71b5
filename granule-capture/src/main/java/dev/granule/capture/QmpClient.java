package dev.granule.capture;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal client of QEMU's machine protocol (QMP) over a Unix socket: one JSON object per line,
 * asynchronous events interleaved with command replies. It needs only what the capture does:
 * string and boolean arguments, and the {@code return} of {@code human-monitor-command} as text.
 */
public final class QmpClient implements AutoCloseable {

    private static final Pattern RETURN_STRING = Pattern.compile("^\\{\\s*\"return\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final SocketChannel channel;
    private final BufferedReader in;

    private QmpClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
    }

    /** Connects, reads the greeting and enters command mode. */
    public static QmpClient connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            QmpClient c = new QmpClient(ch);
            String greeting = c.readMessage();
            if (!greeting.contains("\"QMP\"")) throw new IOException("not a QMP greeting: " + greeting);
            c.execute("qmp_capabilities", "");
            return c;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private String readMessage() throws IOException {
        String line = in.readLine();
        if (line == null) throw new IOException("QEMU closed the QMP connection");
        return line;
    }

    /** Sends a command with pre-encoded JSON {@code arguments} (or "") and returns the reply line. */
    public String execute(String command, String arguments) throws IOException {
        String msg = "{\"execute\":\"" + command + "\"" + (arguments.isEmpty() ? "" : ",\"arguments\":" + arguments) + "}\n";
        channel.write(ByteBuffer.wrap(msg.getBytes(StandardCharsets.UTF_8)));
        while (true) {
            String reply = readMessage();
            if (reply.startsWith("{\"event\"") || reply.contains("\"event\":")) continue;
            if (reply.contains("\"error\"")) throw new IOException("QMP " + command + " failed: " + reply);
            return reply;
        }
    }

    /** Runs a monitor (HMP) command and returns its text output. */
    public String hmp(String commandLine) throws IOException {
        String reply = execute("human-monitor-command", "{\"command-line\":" + quote(commandLine) + "}");
        Matcher m = RETURN_STRING.matcher(reply);
        if (!m.find()) throw new IOException("unexpected reply to '" + commandLine + "': " + reply);
        return unescape(m.group(1));
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> b.append(e);
            }
        }
        return b.toString();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
