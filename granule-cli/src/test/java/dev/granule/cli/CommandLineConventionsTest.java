package dev.granule.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What people expect of a command-line tool: a version with its commit, an example in every --help. */
class CommandLineConventionsTest {

    @Test
    void versionNamesTheProjectVersionAndTheCommitItWasBuiltFrom() throws Exception {
        BootCommandTest.Run r = BootCommandTest.run("--version");
        assertThat(r.exit()).isZero();
        // The oracle is git itself: the commit checked out when the build filtered version.properties.
        // (Built outside git the commit is "unknown"; the tests always run in a checkout.)
        String head;
        try {
            head = new String(new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD").start()
                    .getInputStream().readAllBytes()).trim();
        } catch (java.io.IOException noGit) {
            head = ""; // no git here: the version line is still checked, the commit cannot be
        }
        assertThat(r.out()).startsWith("granule 0.1.0-SNAPSHOT (commit ");
        if (!head.isEmpty()) assertThat(r.out()).contains(head.substring(0, 7));
    }

    @Test
    void placeholdersLeftByABuildWithoutGitReadAsUnknown() {
        var p = new java.util.Properties();
        p.setProperty("version", "1.2.3");
        p.setProperty("commit", "${git.commit.id.abbrev}");
        assertThat(VersionProvider.line(p)).isEqualTo("granule 1.2.3 (commit unknown)");
    }

    @Test
    void everyCommandsHelpEndsWithAnExampleOfThatCommand() {
        List<CommandLine> all = new ArrayList<>();
        collect(Main.newCommandLine(), all);
        assertThat(all).hasSizeGreaterThan(5);
        for (CommandLine c : all) {
            if (c.getCommand() instanceof CommandLine.HelpCommand) continue;
            StringWriter help = new StringWriter();
            c.usage(new PrintWriter(help));
            String qualified = c.getCommandSpec().qualifiedName(" ");
            assertThat(help.toString()).as("help of %s", qualified).containsPattern("Examples?:\\R  " + qualified + "\\b");
        }
    }

    private static void collect(CommandLine c, List<CommandLine> into) {
        into.add(c);
        for (CommandLine sub : c.getSubcommands().values()) {
            if (!into.contains(sub)) collect(sub, into);
        }
    }
}
