package dev.granule.cli;

import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * {@code granule --version}: the version and the git commit the tool was built from. Both are written
 * into {@code version.properties} at build time (resource filtering plus git-commit-id), so a
 * bundle copied elsewhere still says what it is.
 */
final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        Properties p = new Properties();
        try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            // An unreadable resource in our own jar: say so in the version line rather than fail --version.
        }
        return new String[] {line(p)};
    }

    static String line(Properties p) {
        String version = known(p.getProperty("version"));
        String commit = known(p.getProperty("commit"));
        return "granule " + version + " (commit " + commit + ")";
    }

    /** A placeholder left unfilled (built without git, e.g. from a source tarball) reads as "unknown". */
    private static String known(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value;
    }
}
