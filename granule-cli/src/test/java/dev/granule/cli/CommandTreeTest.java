package dev.granule.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The branch {@link CommandTree} builds for a run must answer exactly as the whole tree does (the
 * tree the generators and the help walk use, built from every annotation): the whole tree is the
 * oracle here, and each test runs the same arguments through both.
 */
class CommandTreeTest {

    record Run(int exit, String out, String err) {}

    private static Run run(CommandLine cmd, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static void assertSameAnswer(String... args) {
        Run whole = run(Main.newCommandLine(), args);
        Run branch = run(Main.commandLineFor(args), args);
        assertThat(branch).as("granule %s", String.join(" ", args)).isEqualTo(whole);
    }

    /** Every command's path from the root, e.g. [dump, info]; the root is the empty path. */
    private static List<List<String>> paths(CommandLine c, List<String> path, List<List<String>> into) {
        into.add(path);
        c.getSubcommands().forEach((name, sub) -> {
            List<String> p = new ArrayList<>(path);
            p.add(name);
            paths(sub, p, into);
        });
        return into;
    }

    @Test
    void everyCommandsHelpAndVersionAreTheSameFromItsBranch() {
        List<List<String>> all = paths(Main.newCommandLine(), List.of(), new ArrayList<>());
        assertThat(all).hasSizeGreaterThan(15);
        for (List<String> path : all) {
            for (String option : List.of("--help", "-V")) {
                assertSameAnswer(Stream.concat(path.stream(), Stream.of(option)).toArray(String[]::new));
            }
        }
    }

    @Test
    void aNamedSubcommandGetsOnlyItsBranch() {
        CommandLine boot = Main.commandLineFor("boot", "arm64.pagesize=16k");
        assertThat(boot.getSubcommands()).containsOnlyKeys("boot");
        CommandLine dumpInfo = Main.commandLineFor("dump", "info", "vmcore.elf");
        assertThat(dumpInfo.getSubcommands()).containsOnlyKeys("dump");
        assertThat(dumpInfo.getSubcommands().get("dump").getSubcommands()).containsOnlyKeys("info");
        // A group named without a member keeps all its members: its usage lists them.
        assertThat(Main.commandLineFor("dump").getSubcommands().get("dump").getSubcommands())
                .containsKeys("info", "translate", "read", "symbol", "ptdump", "capture");
    }

    @Test
    void argumentsThatNameNoSubcommandGetTheWholeTree() {
        int whole = Main.newCommandLine().getSubcommands().size();
        for (String[] args : new String[][] {{}, {"--help"}, {"help", "boot"}, {"bot"}, {"BOOT"}, {"-V", "boot"}}) {
            assertThat(Main.commandLineFor(args).getSubcommands()).as(String.join(" ", args)).hasSize(whole);
        }
    }

    @Test
    void runsAndErrorsAreTheSameFromTheBranch() {
        String[][] cases = {
                {"boot", "arm64.pagesize=16k granule.va_bits=47"},
                {"boot", "--json", "--cpu", "cortex-a76", "arm64.pagesize=64k"},
                {"boot", "--cpu", "bogus"},
                {"boot", "--cpu"},
                {"boot", "--bogus"},
                {"boot", "a", "b"},
                {"boot", "--mmfr2", "1"},
                {"ptdump", "arm64.pagesize=4k", "--rodata", "ON", "--dram", "1G"},
                {"translate"},
                {"translate", "--tcr", "0x500800010", "--ttbr0", "0x40000000", "--image", "/nonexistent@0x40000000", "0x1234"},
                {"dump"},
                {"dump", "bogus"},
                {"dump", "inf"},
                {"dump", "info"},
                {"dump", "info", "/dev/zero"},
                {"trace"},
                {"trace", "convert"},
                {"trace", "bogus"},
                {"compat"},
                {"boot", "@/nonexistent"},
        };
        for (String[] args : cases) assertSameAnswer(args);
    }
}
