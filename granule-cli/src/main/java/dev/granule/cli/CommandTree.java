package dev.granule.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Builds picocli's command tree for one run of the tool. Building a command's model reads all its
 * annotations by reflection, and building every command's model was most of a short command's
 * start-up; so when the arguments name a subcommand (and, inside a group such as {@code dump}, a
 * member), only that branch is built, hung under the groups' bare parts (a group class extends an
 * annotated class without the {@code subcommands} list: {@link RootCommand}, {@link DumpGroup},
 * {@link TraceGroup}). Anything else — no arguments, options before the subcommand, {@code help},
 * a name that is not a subcommand — gets the whole tree, since those answers (usage, suggestions)
 * list every command. A branch parses and answers exactly as it does inside the whole tree.
 */
final class CommandTree {

    private CommandTree() {}

    static CommandLine forArguments(String... args) {
        Object branch = branch(Main.class, args, 0);
        return branch instanceof CommandLine tree ? configure(tree) : Main.newCommandLine();
    }

    /** The settings every run has; applied after the tree is built, so they reach every command in it. */
    static CommandLine configure(CommandLine tree) {
        tree.setExecutionExceptionHandler(new ErrorHandler());
        tree.setCaseInsensitiveEnumValuesAllowed(true);
        return tree;
    }

    /**
     * {@code command} with only the member {@code args[at]} names (recursively), or {@code command}
     * itself (its whole subtree) when no member is named or the command has no bare part.
     */
    private static Object branch(Class<?> command, String[] args, int at) {
        Class<?> bare = command.getSuperclass();
        Class<?> member = at < args.length ? memberNamed(command, args[at]) : null;
        if (member == null || bare == null || !bare.isAnnotationPresent(Command.class)) return command;
        CommandLine tree = new CommandLine(bare);
        tree.addSubcommand(branch(member, args, at + 1));
        return tree;
    }

    /** The subcommand of {@code command} called {@code name}; null for none and for {@code help}, which needs its siblings. */
    private static Class<?> memberNamed(Class<?> command, String name) {
        Command declared = command.getAnnotation(Command.class);
        if (declared == null) return null;
        for (Class<?> member : declared.subcommands()) {
            if (member == CommandLine.HelpCommand.class) continue;
            Command m = member.getAnnotation(Command.class);
            if (m == null) continue;
            if (m.name().equals(name)) return member;
            for (String alias : m.aliases()) if (alias.equals(name)) return member;
        }
        return null;
    }
}
