package dev.granule.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the command examples of README.md and docs/*.md, so that the documentation cannot rot: each
 * {@code $ ./granule ...} line in a {@code text} block is run in-process, and its output must have
 * the shape the block shows — the same lines, numbers free to differ, {@code ...} standing for any
 * lines (alone on a line) or any text (inside one). Input files the examples name are made here,
 * from descriptor layouts written by hand; an example whose input cannot be made (a live process, a
 * real kernel dump) is listed as not run, with the reason, in the test's output.
 */
class DocExamplesTest {

    /** Input files examples may name, and how to make each. */
    interface Fixture { void write(Path file) throws IOException; }

    static final Map<String, Fixture> FIXTURES = Map.of(
            "tables.bin", DocExamplesTest::fourKTables,
            "l1.bin", DocExamplesTest::shortL1,
            "d128.bin", DocExamplesTest::vmsa128Tables,
            "smaps.txt", DocExamplesTest::smaps);

    /** Why an example that names this file or token is not run. */
    static final Map<String, String> NOT_RUN = Map.of(
            "vmcore.elf", "needs a real kernel dump (RealKernelDumpTest checks the dump commands on real ones)",
            "vmcore.kdump", "needs a real kdump file (RealKdumpTest and RealDumpTranslateCommandTest check them)",
            "snappy-java-1.1.10.8.jar", "needs the JAR from Maven Central (granule-compat's RealArtifactsTest checks it)",
            "ls.lackey", "needs a Valgrind lackey trace (LackeyReplayTest makes and checks one)",
            "$$", "names the shell's own process",
            "trace.txt", "replays a trace of a live process",
            "impact.png", "reads this machine's live processes (ImpactCommandTest checks the command on fixtures)");

    record Example(String page, int line, String command, List<String> expected) {}

    @TempDir
    Path work;

    @Test
    void everyRunnableExampleKeepsTheShapeItShows() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<Path> pages = new ArrayList<>();
        pages.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        for (var f : FIXTURES.entrySet()) f.getValue().write(work.resolve(f.getKey()));

        int ran = 0;
        List<String> notRun = new ArrayList<>(), failures = new ArrayList<>();
        for (Path page : pages) {
            for (Example e : examples(page, root)) {
                String why = whyNotRun(e.command());
                if (why != null) {
                    notRun.add(e.page() + ":" + e.line() + " (" + why + ")");
                    continue;
                }
                String actual = run(e.command());
                String mismatch = mismatch(e.expected(), actual);
                if (mismatch != null) {
                    failures.add(e.page() + ":" + e.line() + " `" + e.command() + "`: " + mismatch
                            + "\n--- output ---\n" + actual);
                }
                ran++;
            }
        }
        System.out.println("doc examples: " + ran + " run, " + notRun.size() + " not run: " + String.join("; ", notRun));
        assertThat(failures).as("examples whose output lost the shape the docs show").isEmpty();
        assertThat(ran).as("examples run").isGreaterThanOrEqualTo(6);
    }

    /** The {@code $ ./granule} examples of one page, with the output lines each block shows after it. */
    static List<Example> examples(Path page, Path root) throws IOException {
        List<String> lines = Files.readAllLines(page);
        List<Example> out = new ArrayList<>();
        String name = root.relativize(page).toString();
        boolean inText = false;
        Example current = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!inText) {
                inText = line.equals("```text");
                continue;
            }
            if (line.startsWith("```")) {
                inText = false;
                current = null;
                continue;
            }
            if (line.startsWith("$ ")) {
                current = null;
                if (line.startsWith("$ ./granule ")) {
                    String command = line.substring("$ ./granule ".length()).replaceAll("\\s+#\\s.*$", "").strip();
                    current = new Example(name, i + 1, command, new ArrayList<>());
                    out.add(current);
                }
            } else if (current != null) {
                current.expected().add(line);
            }
        }
        return out;
    }

    private static String whyNotRun(String command) {
        for (var n : NOT_RUN.entrySet()) if (command.contains(n.getKey())) return n.getValue();
        return null;
    }

    private String run(String command) {
        List<String> args = new ArrayList<>();
        for (String a : split(command)) {
            // Fixture files, alone or as FILE@ADDRESS, are passed with their path here.
            int at = a.indexOf('@');
            String file = at < 0 ? a : a.substring(0, at);
            if (FIXTURES.containsKey(file)) a = work.resolve(file) + (at < 0 ? "" : a.substring(at));
            args.add(a);
        }
        CommandLine cmd = Main.commandLineFor(args.toArray(String[]::new));
        StringWriter out = new StringWriter(), err = new StringWriter();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        cmd.execute(args.toArray(String[]::new));
        return out.toString().isEmpty() ? err.toString() : out.toString();
    }

    /** Words as a POSIX shell splits them, with double quotes protecting spaces. */
    static List<String> split(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false, any = false;
        for (char c : command.toCharArray()) {
            if (c == '"') { quoted = !quoted; any = true; }
            else if (Character.isWhitespace(c) && !quoted) {
                if (any) words.add(w.toString());
                w.setLength(0);
                any = false;
            } else { w.append(c); any = true; }
        }
        if (any) words.add(w.toString());
        return words;
    }

    // ---- shape ----

    private static final Pattern NUMBER = Pattern.compile(
            "(?<![A-Za-z_])(0x[0-9a-fA-F_]+|[0-9][0-9_,]*(\\.[0-9]+)?)(?![0-9])");

    /** A line with every number replaced by {@code #} and runs of spaces folded into one. */
    static String shape(String line) {
        return NUMBER.matcher(line).replaceAll("#").replaceAll("\\s+", " ").strip();
    }

    /** Null if {@code actual} has the shape of {@code expected}, else the first expected line not met. */
    static String mismatch(List<String> expected, String actual) {
        List<String> want = expected.stream().map(DocExamplesTest::shape).toList();
        List<String> have = actual.lines().map(DocExamplesTest::shape).toList();
        return matches(want, 0, have, 0) ? null : "output does not have the shape shown";
    }

    private static boolean matches(List<String> want, int w, List<String> have, int h) {
        if (w == want.size()) return h == have.size();
        String line = want.get(w);
        if (line.equals("...")) {
            for (int skip = h; skip <= have.size(); skip++) if (matches(want, w + 1, have, skip)) return true;
            return false;
        }
        return h < have.size() && lineMatches(line, have.get(h)) && matches(want, w + 1, have, h + 1);
    }

    private static boolean lineMatches(String want, String have) {
        if (!want.contains("...")) return want.equals(have);
        StringBuilder regex = new StringBuilder();
        String[] parts = want.split(Pattern.quote("..."), -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) regex.append(".*");
            regex.append(Pattern.quote(parts[i]));
        }
        return have.matches(regex.toString());
    }

    // ---- fixtures, from the Arm ARM's descriptor layouts ----

    /**
     * 4K/48 tables at PA 0x4000_0000 for TCR T0SZ = 16: levels 0 to 2 each a table descriptor
     * (address | 0b11) to the next 4 KiB page; the level-3 table maps VA page 0x1000 (index 1) to
     * PA 0x8000_0000 as a page (0b11) with AF [10], SH = 0b11 [9:8], AttrIndx 0, nG = 0.
     */
    private static void fourKTables(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0x4000_1000L | 0b11);
        b.putLong(4096, 0x4000_2000L | 0b11);
        b.putLong(2 * 4096, 0x4000_3000L | 0b11);
        b.putLong(3 * 4096 + 8, 0x8000_0000L | 1L << 10 | 0b11L << 8 | 0b11);
        Files.write(file, b.array());
    }

    /**
     * VMSAv9-128 tables at 0x4000_0000 for 4K and T0SZ = 25 (levels 0..3), 16-byte descriptors (valid
     * [0], AF [10], SH [9:8], address [55:12]; SKL [110:109] = 0 in tables and the level-3 page):
     * VA 0x1234 (indices 0, 0, 0, 1) to PA 0xAB_0000_8000_0000, Inner Shareable, PIIndex 0.
     */
    private static void vmsa128Tables(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0x4000_1000L | 1);
        b.putLong(4096, 0x4000_2000L | 1);
        b.putLong(2 * 4096, 0x4000_3000L | 1);
        b.putLong(3 * 4096 + 16, 0x00AB_0000_8000_0000L | 1L << 10 | 0b11L << 8 | 1);
        Files.write(file, b.array());
    }

    /** A short-descriptor first-level table: VA 0x0010_0000 is a section (0b10) in domain 2 [8:5], AP[1:0] = 0b11. */
    private static void shortL1(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16384).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(4, 0x8000_0000 | 0b11 << 10 | 2 << 5 | 0b10);
        Files.write(file, b.array());
    }

    /** Two mappings of a process, as /proc/PID/smaps lists them. */
    private static void smaps(Path file) throws IOException {
        Files.writeString(file, """
                aaaac0000000-aaaac0021000 r-xp 00000000 fe:01 1234                       /usr/bin/demo
                Size:                132 kB
                Rss:                  132 kB
                Anonymous:              0 kB
                ffff80000000-ffff80800000 rw-p 00000000 00:00 0
                Size:               8192 kB
                Rss:                 2048 kB
                Anonymous:           2048 kB
                """);
    }
}
