package dev.granule.cli;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every command that reads a file, given each kind of path people pass by mistake: the answer is
 * exit code 2 and one line that says what the path is, never a stack trace, a hang (a FIFO without
 * a writer blocks open(2) forever) or an unbounded read ({@code /dev/zero}, a 1 TiB sparse file).
 */
class FileArgumentsTest {

    @TempDir
    static Path dir;

    /** A command line that reads the file given to it. */
    record Command(String name, Function<String, String[]> args) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** A kind of path and what the one-line answer must say about it. */
    record PathKind(String name, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Command> commands() throws IOException {
        Path smaps = dir.resolve("good-smaps");
        Files.writeString(smaps, "00400000-00401000 r-xp 00000000 08:01 1 /bin/x\nRss: 4 kB\n");
        return List.of(
                new Command("dump info", f -> new String[] {"dump", "info", f}),
                new Command("dump translate", f -> new String[] {"dump", "translate", f, "0xffff800080000000"}),
                new Command("dump ptdump", f -> new String[] {"dump", "ptdump", f}),
                new Command("dump info --raw", f -> new String[] {"dump", "info", "--raw", "0x40000000", f}),
                new Command("translate --image", f -> new String[] {"translate", "--tcr", "0x500800010", "--ttbr0",
                        "0x40000000", "--image", f + "@0x40000000", "0x1234"}),
                new Command("impact --smaps", f -> new String[] {"impact", "--smaps", f}),
                new Command("impact --trace", f -> new String[] {"impact", "--smaps", smaps.toString(), "--trace", f}));
    }

    static List<PathKind> kinds() {
        List<PathKind> kinds = new ArrayList<>();
        kinds.add(new PathKind("missing", "no such file"));
        kinds.add(new PathKind("directory", "is a directory"));
        kinds.add(new PathKind("fifo", "is a FIFO (named pipe)"));
        kinds.add(new PathKind("/dev/zero", "is a character device"));
        kinds.add(new PathKind("unreadable", "permission denied"));
        kinds.add(new PathKind("huge", "huge"));
        return kinds;
    }

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> all = new ArrayList<>();
        for (Command c : commands()) {
            for (PathKind k : kinds()) {
                // A trace is streamed: a FIFO is a trace a program writes (streamsATraceFromAFifo).
                if (c.name().equals("impact --trace") && k.name().equals("fifo")) continue;
                all.add(Arguments.of(c, k));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void answersWithOneLineSayingWhatThePathIs(Command command, PathKind kind) throws Exception {
        Path path = make(kind.name());
        BootCommandTest.Run r = assertTimeoutPreemptively(Duration.ofMinutes(1),
                () -> BootCommandTest.run(command.args().apply(path.toString())));
        assertThat(r.exit()).as(r.err()).isEqualTo(ErrorHandler.USER_ERROR);
        assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).startsWith("granule: error: ").doesNotContain("\tat ").contains(path.toString());
        if (kind.name().equals("huge")) {
            // Either refused for its size, or read far enough to see it is not what the command reads.
            assertThat(r.err()).containsAnyOf("more than", "longer than", "not an ELF", "no ELF", "magic");
        } else {
            assertThat(r.err()).contains(kind.expected());
        }
    }

    private static Path make(String kind) throws IOException, InterruptedException {
        return switch (kind) {
            case "missing" -> dir.resolve("no-such-file");
            case "directory" -> Files.createDirectories(dir.resolve("a-directory"));
            case "fifo" -> {
                Path fifo = dir.resolve("a-fifo");
                if (!Files.exists(fifo)) {
                    int exit = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
                    assumeTrue(exit == 0, "mkfifo failed; cannot make a FIFO here");
                }
                yield fifo;
            }
            case "/dev/zero" -> Path.of("/dev/zero");
            case "unreadable" -> unreadable();
            case "huge" -> {
                Path huge = dir.resolve("huge-sparse");
                try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
                    f.setLength(1L << 40); // 1 TiB of holes: nothing is written
                }
                yield huge;
            }
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /**
     * A file this process cannot open for reading. chmod 000 stops a normal user but not root
     * (CAP_DAC_OVERRIDE), so as root take a write-only sysctl: procfs refuses to open those for
     * reading even to root (proc_sys_permission checks the owner bits, 0200).
     */
    private static Path unreadable() throws IOException {
        Path file = dir.resolve("unreadable");
        if (!Files.exists(file)) {
            Files.writeString(file, "secret");
            file.toFile().setReadable(false, false);
        }
        if (!Files.isReadable(file)) return file;
        Path writeOnly = Path.of("/proc/sys/vm/compact_memory");
        assumeTrue(Files.exists(writeOnly), "running as root and no write-only sysctl to stand for an unreadable file");
        return writeOnly;
    }

    /** A trace written into a FIFO by another program (here a thread) is replayed as it streams in. */
    @org.junit.jupiter.api.Test
    void streamsATraceFromAFifo() throws Exception {
        Path fifo = dir.resolve("trace-fifo");
        int made = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
        assumeTrue(made == 0, "mkfifo failed; cannot make a FIFO here");
        Path smaps = dir.resolve("good-smaps");
        Files.writeString(smaps, "00400000-00401000 r-xp 00000000 08:01 1 /bin/x\nRss: 4 kB\n");
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                // Two 4K pages in one 16K page: 2 first-touch faults at 4K, 1 at 16K and 64K.
                Files.writeString(fifo, "r 0x400000\nw 0x401000\nr 0x400008\n");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        BootCommandTest.Run r = assertTimeoutPreemptively(Duration.ofMinutes(1), () -> BootCommandTest.run(
                "impact", "--smaps", smaps.toString(), "--trace", fifo.toString(), "--json"));
        writer.join();
        assertThat(r.exit()).as(r.err()).isZero();
        var trace = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).get("trace");
        assertThat(trace.get("accesses").asLong()).isEqualTo(3);
    }
}
