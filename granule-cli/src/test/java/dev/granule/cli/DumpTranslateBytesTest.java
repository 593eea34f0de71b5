package dev.granule.cli;

import dev.granule.dump.ElfCoreWriter;
import dev.granule.geometry.Geometry;
import dev.granule.table.KernelLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static dev.granule.cli.BootCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code dump translate} run as the process does ({@link Main#main}: its bytes go to
 * {@link System#out} directly) gives the same text as through the command's writer (tests, the AOT
 * training); and the in-place line parsing reads characters as {@link Character} does.
 */
class DumpTranslateBytesTest {

    @TempDir
    Path dir;

    @Test
    void theProcessesBytePathWritesWhatTheWriterPathWrites() throws Exception {
        Geometry g = Geometry.FOUR_K_48;
        KernelLayout layout = KernelLayout.virt(g, 128L << 20);
        KernelLayout.Built built = layout.build(true);
        Path core = dir.resolve("vmcore");
        ElfCoreWriter.write(core, built.memory(), List.of(ElfCoreWriter.Note.vmcoreInfo(layout.vmcoreInfo(built.space().root()))));
        built.memory().close();
        // 100,000 addresses: more than one output batch; mapped, unmapped and user addresses, comments, CRLF, padding.
        StringBuilder list = new StringBuilder("# addresses\r\n");
        Random r = new Random(5);
        for (int i = 0; i < 100_000; i++) {
            long va = switch (i % 4) {
                case 0 -> layout.linearVa(0x4000_0000L + (r.nextLong(128L << 20) & -8));
                case 1 -> layout.kimageVaddr() + (r.nextLong(1 << 20) & -8);
                case 2 -> -1L << 47 | r.nextLong(1L << 47);
                default -> r.nextLong(1L << 40);
            };
            list.append(i % 7 == 0 ? "  " : "").append(String.format("0x%x", va)).append(i % 5 == 0 ? " # note\r\n" : "\n");
        }
        Path file = dir.resolve("list.txt");
        Files.writeString(file, list);

        var writer = run("dump", "translate", core.toString(), "-f", file.toString(), "--no-symbols");
        assertThat(writer.exit()).as(writer.err()).isZero();
        assertThat(writer.out().lines().count()).isEqualTo(100_001);
        assertThat(writer.out()).contains("  unmapped").contains("  -> 0x").contains("not a kernel (TTBR1) address");

        PrintStream saved = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Main.writeToProcessStdout(true);
        BootCommandTest.Run processRun;
        try {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            processRun = run("dump", "translate", core.toString(), "-f", file.toString(), "--no-symbols");
        } finally {
            Main.writeToProcessStdout(false);
            System.setOut(saved);
        }
        assertThat(processRun.exit()).as(processRun.err()).isZero();
        // The header line goes through the writer, the answers to System.out.
        assertThat(processRun.out() + bytes.toString(StandardCharsets.UTF_8)).isEqualTo(writer.out());
    }

    @Test
    void blankAndHexDigitsAreCharactersOwnForEveryByte() {
        for (char c = 0; c < 256; c++) {
            assertThat(DumpTranslateCommand.blank((byte) c)).as("char %#x", (int) c).isEqualTo(Character.isWhitespace(c));
            byte[] line = {'0', 'x', (byte) c};
            int d = Character.digit(c, 16);
            assertThat(DumpTranslateCommand.hexAddress(line, 0, 3)).as("0x%c", c).isEqualTo(d < 0 ? -1 : d);
        }
        byte[] line = "  0xFFFF00000000abcd  ".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(DumpTranslateCommand.hexAddress(line, 2, 20)).isEqualTo(0xFFFF00000000abcdL);
        assertThat(DumpTranslateCommand.hexAddress("0x".getBytes(StandardCharsets.ISO_8859_1), 0, 2)).isEqualTo(-1);
        assertThat(DumpTranslateCommand.hexAddress("0x11112222333344445".getBytes(StandardCharsets.ISO_8859_1), 0, 19)).isEqualTo(-1);
    }

    /**
     * The one-pass parse of a plain address line gives what the word-by-word reading does (the first
     * word, up to a blank, through {@code hexAddress}) or leaves the line to it: random lines of
     * "0x", hex digits and any byte, and every %016x line.
     */
    @Test
    void aPlainAddressLineIsReadAsItsFirstWord() {
        Random r = new Random(18);
        byte[] alphabet = "0123456789abcdefABCDEFxX# \t\u000bg-".getBytes(StandardCharsets.ISO_8859_1);
        int fast = 0;
        for (int n = 0; n < 200_000; n++) {
            byte[] line = new byte[r.nextInt(24)];
            for (int i = 0; i < line.length; i++) line[i] = r.nextInt(8) == 0 ? (byte) r.nextInt(256) : alphabet[r.nextInt(alphabet.length)];
            if (line.length >= 2 && r.nextBoolean()) {
                line[0] = '0';
                line[1] = 'x';
            }
            int end = 0;
            while (end < line.length && !DumpTranslateCommand.blank(line[end])) end++;
            long word = DumpTranslateCommand.hexAddress(line, 0, end);
            long plain = DumpTranslateCommand.plainAddress(line, 0, line.length);
            if (plain != -1) { // else the line is read word by word, as all lines were
                fast++;
                assertThat(plain).as("%s", new String(line, StandardCharsets.ISO_8859_1)).isEqualTo(word);
            }
        }
        assertThat(fast).isGreaterThan(10_000);
        for (int n = 0; n < 10_000; n++) {
            long v = r.nextLong();
            byte[] line = "0x%016x".formatted(v).getBytes(StandardCharsets.ISO_8859_1);
            if (v != -1) assertThat(DumpTranslateCommand.plainAddress(line, 0, line.length)).isEqualTo(v);
        }
    }
}
