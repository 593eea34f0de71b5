package dev.granule.cli;

import dev.granule.compat.Finding;

import java.nio.file.FileSystems;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code granule compat --ignore GLOB}: ELF files a project knows it never loads (snappy-java's Android
 * library in a Linux service, say) are left out of the report and of the exit status. Globs are java.nio's
 * (the syntax of {@link java.nio.file.FileSystem#getPathMatcher}) and are matched against the ELF's whole
 * name through its archives, so {@code **}{@code /android-*}{@code /**} reaches into JARs.
 */
final class IgnoreGlobs {

    private final List<PathMatcher> matchers;
    private int count;

    private IgnoreGlobs(List<PathMatcher> matchers) {
        this.matchers = matchers;
    }

    static IgnoreGlobs of(List<String> globs) {
        List<PathMatcher> m = new ArrayList<>();
        for (String g : globs) {
            try {
                m.add(FileSystems.getDefault().getPathMatcher("glob:" + g));
            } catch (IllegalArgumentException e) {   // PatternSyntaxException among them
                throw new UserException("--ignore " + g + ": not a glob (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
        }
        return new IgnoreGlobs(m);
    }

    /** Whether {@code f} is an ELF to leave out; counts it. Broken inputs and notes are never left out. */
    boolean leavesOut(Finding f) {
        if (matchers.isEmpty() || !(f instanceof Finding.ElfFound e)) return false;
        Path name;
        try {
            name = Path.of(e.report().path());
        } catch (InvalidPathException notAPath) {
            return false;
        }
        for (PathMatcher m : matchers) {
            if (m.matches(name)) {
                count++;
                return true;
            }
        }
        return false;
    }

    int count() {
        return count;
    }
}
