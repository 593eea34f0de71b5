package dev.granule.capture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Debian trixie's arm64 {@code makedumpfile} (1.7.6, built with zstd), unpacked by
 * {@code scripts/makedumpfile-trixie.sh} into {@code <cache>/makedumpfile-trixie/root}: bookworm's
 * 1.7.2 has zstd and snappy disabled, so its {@code -z} files hold uncompressed pages, and only this
 * build writes real zstd pages. The crash kernel runs it under {@code /trixie} through trixie's own
 * dynamic loader ({@code ld.so --library-path}), beside bookworm's tools and glibc.
 *
 * @param root    the unpacked root
 * @param needed  the shared objects makedumpfile loads, as the script found them (DT_NEEDED closure)
 * @param version the makedumpfile package file, e.g. {@code makedumpfile_1%3a1.7.6-1+b1_arm64.deb}
 */
public record TrixieMakedumpfile(Path root, List<String> needed, String version) {

    /** Where the crash kernel finds it: {@code /trixie/makedumpfile}, its libraries in {@code /trixie/lib}. */
    static final String GUEST_DIR = "trixie";

    /** The unpacked root in {@code cache}, if the script has made a complete one there. */
    public static Optional<TrixieMakedumpfile> find(Path cache) throws IOException {
        Path root = cache.resolve("makedumpfile-trixie").resolve("root");
        Path needed = root.resolve(".needed");
        if (!Files.isRegularFile(root.resolve(".unpacked")) || !Files.isRegularFile(needed)
                || !Files.isRegularFile(root.resolve("usr/bin/makedumpfile"))) {
            return Optional.empty();
        }
        String deb = Files.readAllLines(root.resolve(".debs")).stream().filter(l -> l.startsWith("makedumpfile_")).findFirst()
                .orElse("makedumpfile (unknown version)");
        return Optional.of(new TrixieMakedumpfile(root, Files.readAllLines(needed).stream().filter(l -> !l.isBlank()).toList(), deb));
    }

    /** The command line prefix that runs it in the guest. */
    static String guestCommand() {
        return "/" + GUEST_DIR + "/lib/ld-linux-aarch64.so.1 --library-path /" + GUEST_DIR + "/lib /" + GUEST_DIR + "/makedumpfile";
    }

    /** Initramfs path to host file: the tool and each shared object it loads, links resolved inside the root. */
    Map<String, Path> files() throws IOException {
        Map<String, Path> out = new LinkedHashMap<>();
        out.put(GUEST_DIR + "/makedumpfile", root.resolve("usr/bin/makedumpfile"));
        Path libdir = root.resolve("usr/lib/aarch64-linux-gnu");
        for (String so : needed) {
            Path file = resolveInRoot(libdir.resolve(so));
            if (file == null) throw new IOException(so + " is not a file in " + libdir + " (scripts/makedumpfile-trixie.sh --refresh)");
            out.put(GUEST_DIR + "/lib/" + so, file);
        }
        return out;
    }

    /** A path of the root with its symbolic links followed inside the root (absolute targets are the guest's). */
    private Path resolveInRoot(Path link) throws IOException {
        Path p = link;
        for (int i = 0; i < 8 && Files.isSymbolicLink(p); i++) {
            Path target = Files.readSymbolicLink(p);
            p = target.isAbsolute() ? root.resolve(target.toString().substring(1)) : p.getParent().resolve(target);
        }
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? p : null;
    }
}
