package dev.granule.geometry;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a kernel command line as Linux's {@code next_arg} does: whitespace separates parameters,
 * double quotes protect whitespace and are removed, the first {@code =} splits key from value, and
 * a bare {@code --} ends kernel parameters (the rest belongs to init).
 */
public final class KernelCommandLine {

    /** One parameter; {@code value} is null for a flag such as {@code arm64.nolva}. */
    public record Param(String key, String value, String token) {
        /** Compares keys as the kernel's parameq does: '-' and '_' are the same character. */
        public boolean is(String name) {
            if (key.length() != name.length()) return false;
            for (int i = 0; i < key.length(); i++) {
                char a = dash(key.charAt(i));
                char b = dash(name.charAt(i));
                if (a != b) return false;
            }
            return true;
        }

        private static char dash(char c) {
            return c == '-' ? '_' : c;
        }
    }

    private KernelCommandLine() {}

    public static List<Param> parse(String commandLine) {
        List<Param> params = new ArrayList<>();
        if (commandLine == null) return params;
        int i = 0;
        int n = commandLine.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(commandLine.charAt(i))) i++;
            if (i >= n) break;
            StringBuilder token = new StringBuilder();
            boolean quoted = false;
            int start = i;
            while (i < n && (quoted || !Character.isWhitespace(commandLine.charAt(i)))) {
                char c = commandLine.charAt(i++);
                if (c == '"') {
                    quoted = !quoted;
                } else {
                    token.append(c);
                }
            }
            if (quoted) {
                throw new BootParameterException(commandLine.substring(start), "unterminated double quote");
            }
            String raw = commandLine.substring(start, i);
            String text = token.toString();
            if (raw.equals("--")) break;
            int eq = text.indexOf('=');
            if (eq < 0) {
                params.add(new Param(text, null, raw));
            } else {
                params.add(new Param(text.substring(0, eq), text.substring(eq + 1), raw));
            }
        }
        return params;
    }
}
