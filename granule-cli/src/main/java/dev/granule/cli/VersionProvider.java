package dev.granule.cli;

import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * {@code granule --version}: the version and the git commit the tool was built from. Both are written
 * into resources at build time (version.properties filtered, commit.properties from git), so a
 * bundle copied elsewhere still says what it is.
 */
final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        Properties p = new Properties();
        load(p, "version.properties");
        load(p, "commit.properties");
        return new String[] {line(p)};
    }

    private static void load(Properties into, String resource) {
        try (InputStream in = VersionProvider.class.getResourceAsStream(resource)) {
            if (in != null) into.load(in);
        } catch (IOException e) {
            // An unreadable resource in our own jar: the line says "unknown" rather than --version failing.
        }
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
