package dev.granule.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.granule.cli.BootCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

class TraceCommandTest {

    @TempDir
    Path dir;

    static final String LACKEY = """
            ==1== Lackey
            I  00400000,4
             L 7ff000ffe,4
             M 7ff005000,8
            this line is broken
             S 7ff005008,8
            """;

    JsonNode results(String... args) throws Exception {
        var r = run(args);
        assertThat(r.exit()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out()).get("trace");
    }

    @Test
    void convertedTracesReplayLikeTheirSource() throws Exception {
        Path text = dir.resolve("t.lackey");
        Files.writeString(text, LACKEY);
        Path zst = dir.resolve("t.bin.zst"), bin = dir.resolve("t.bin");
        var c = run("trace", "convert", text.toString(), zst.toString());
        assertThat(c.exit()).as(c.err()).isZero();
        // I, L, M (a load and a store) and S: 5 accesses from 7 lines, one malformed.
        assertThat(c.out()).startsWith(zst + ": 5 accesses from 6 lines (lackey); 1 malformed skipped, the first at 5:");
        assertThat(Files.readAllBytes(zst)).startsWith(0x28, 0xb5, 0x2f, 0xfd);
        assertThat(run("trace", "convert", zst.toString(), bin.toString()).exit()).isZero();
        assertThat(Files.size(bin)).isEqualTo(8 + 5 * 8);
        Path smaps = dir.resolve("smaps");
        Files.writeString(smaps, "00400000-00401000 r-xp 00000000 08:01 1 /bin/x\nRss: 4 kB\n");
        JsonNode fromText = results("impact", "--smaps", smaps.toString(), "--trace", text.toString(), "--json");
        JsonNode fromZst = results("impact", "--smaps", smaps.toString(), "--trace", zst.toString(), "--json");
        assertThat(fromText.get("malformed").asLong()).isEqualTo(1);
        assertThat(fromText.get("firstMalformed").asLong()).isEqualTo(5);
        assertThat(fromZst.get("format").asText()).isEqualTo("binary");
        assertThat(fromZst.get("results")).isEqualTo(fromText.get("results"));

        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream(Files.readAllBytes(zst)));
            JsonNode fromStdin = results("impact", "--smaps", smaps.toString(), "--trace", "-", "--json");
            assertThat(fromStdin.get("results")).isEqualTo(fromText.get("results"));
        } finally {
            System.setIn(stdin);
        }
        var strict = run("impact", "--smaps", smaps.toString(), "--trace", text.toString(), "--strict");
        assertThat(strict.exit()).isEqualTo(2);
        assertThat(strict.err()).isEqualTo("granule: error: " + text + ":5: a lackey line starts with I, L, S or M"
                + " (lackey trace): 'this line is broken'" + System.lineSeparator());
        // The chart adds the trace's L2 misses and walk references to the five impact series.
        Path svg = dir.resolve("impact.svg");
        assertThat(run("impact", "--smaps", smaps.toString(), "--trace", text.toString(), "--chart", svg.toString()).exit()).isZero();
        java.util.Set<String> fills = new java.util.HashSet<>();
        var m = java.util.regex.Pattern.compile("fill:(rgb\\([^)]*\\))").matcher(Files.readString(svg));
        while (m.find()) fills.add(m.group(1));
        var without = dir.resolve("plain.svg");
        assertThat(run("impact", "--smaps", smaps.toString(), "--chart", without.toString()).exit()).isZero();
        java.util.Set<String> plainFills = new java.util.HashSet<>();
        var m2 = java.util.regex.Pattern.compile("fill:(rgb\\([^)]*\\))").matcher(Files.readString(without));
        while (m2.find()) plainFills.add(m2.group(1));
        assertThat(fills.size()).as("two more series colours").isEqualTo(plainFills.size() + 2);

        var missing = run("trace", "convert", dir.resolve("nope").toString(), bin.toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("nope: no such file");
    }

    /* An output nowhere to be written is refused before the input is read, naming the directory. */
    @Test
    void anOutputInAMissingDirectoryIsOneLineNamingIt() throws Exception {
        Path text = dir.resolve("t.lackey");
        Files.writeString(text, LACKEY);
        Path out = dir.resolve("no-such-dir").resolve("t.bin");
        var r = run("trace", "convert", text.toString(), out.toString());
        assertThat(r.exit()).isEqualTo(ErrorHandler.USER_ERROR);
        assertThat(r.err()).isEqualTo("granule: error: " + out + ": cannot be written: " + out.getParent()
                + " does not exist" + System.lineSeparator());
        Path file = dir.resolve("a-file");
        Files.writeString(file, "x");
        var under = run("trace", "convert", text.toString(), file.resolve("t.bin").toString());
        assertThat(under.err()).contains(file + " is not a directory");
    }

    /* A file system's refusal, whose own message is the bare path, says what is wrong with the path. */
    @Test
    void fileSystemRefusalsSayWhatIsWrong() {
        assertThat(ErrorHandler.message(new java.nio.file.NoSuchFileException("/x/y.partial")))
                .isEqualTo("/x/y.partial: no such file or directory");
        assertThat(ErrorHandler.message(new java.nio.file.AccessDeniedException("/root/z")))
                .isEqualTo("/root/z: permission denied");
        assertThat(ErrorHandler.message(new java.nio.file.FileSystemException("/a", "/b", "Device busy")))
                .isEqualTo("/a -> /b: Device busy");
        assertThat(ErrorHandler.message(new java.io.IOException("plain"))).isEqualTo("plain");
    }
}
