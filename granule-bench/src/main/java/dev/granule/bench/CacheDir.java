package dev.granule.bench;

import java.nio.file.Path;

/**
 * Where granule's test and capture runs keep what is slow to make (captured dumps, traces):
 * {@code ${XDG_CACHE_HOME:-~/.cache}/granule}, as scripts/install-test-deps.sh and granule-capture
 * use it; an empty XDG_CACHE_HOME counts as unset (XDG Base Directory).
 */
final class CacheDir {

    private CacheDir() {}

    static Path granule() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("granule");
    }
}
