package dev.granule.capture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Debian's arm64 {@code kexec-tools} and {@code makedumpfile} with the shared libraries they load,
 * for the initramfs of a crash capture: the tools a Debian user's kdump runs, not rebuilt here.
 * The packages are the two tools and every {@code lib*}/{@code zlib*} package reached from them
 * through apt's Depends (kexec-tools links Xen's control libraries, makedumpfile elfutils' libdw);
 * each is fetched with {@code apt-get download} and unpacked with {@code dpkg-deb}, once, under
 * {@code ${XDG_CACHE_HOME:-$HOME/.cache}/granule/crash-userland}.
 *
 * @param root       the unpacked packages
 * @param packages   the .deb files unpacked there
 */
public record CrashUserland(Path root, List<String> packages) {

    static final List<String> TOOLS = List.of("kexec-tools", "makedumpfile");
    private static final Pattern DEPENDS = Pattern.compile("^\\s*\\|?Depends: (\\S+?)(?::arm64)?$", Pattern.MULTILINE);
    private static final String DONE = ".unpacked";

    /** /sbin/kexec in the unpacked tree. */
    public Path kexec() { return root.resolve("sbin/kexec"); }

    /** /usr/bin/makedumpfile in the unpacked tree. */
    public Path makedumpfile() { return root.resolve("usr/bin/makedumpfile"); }

    /** The unpacked userland, downloading and unpacking it first if the cache has none. */
    public static CrashUserland fetch(Path cache, Consumer<String> log) throws IOException, InterruptedException, CaptureUnavailableException {
        Path root = cache.resolve("crash-userland").resolve("root");
        Path done = root.resolve(DONE);
        if (Files.isRegularFile(done)) {
            log.accept("using cached kexec-tools/makedumpfile userland " + root);
            return new CrashUserland(root, Files.readAllLines(done));
        }
        if (!Tools.onPath("apt-cache") || !Tools.onPath("apt-get")) {
            throw new CaptureUnavailableException("apt is not installed: cannot download Debian's arm64 kexec-tools and makedumpfile");
        }
        Path debs = Files.createDirectories(cache.resolve("crash-userland").resolve("debs"));
        List<String> names = closure(log);
        log.accept("downloading " + names.size() + " arm64 packages with apt-get: " + String.join(" ", names));
        List<String> args = new ArrayList<>(List.of("apt-get", "download"));
        names.forEach(n -> args.add(n + ":arm64"));
        Tools.Result r = Tools.run(args, debs, 900);
        if (r.exit() != 0) throw new CaptureUnavailableException("apt-get download of the crash userland failed: " + r.output().strip());
        Files.createDirectories(root);
        List<String> unpacked = new ArrayList<>();
        try (Stream<Path> s = Files.list(debs)) {
            for (Path deb : s.filter(p -> p.toString().endsWith("_arm64.deb")).sorted().toList()) {
                Tools.Result x = Tools.run(List.of("dpkg-deb", "-x", deb.toString(), root.toString()), null, 300);
                if (x.exit() != 0) throw new IOException("dpkg-deb -x " + deb + " failed: " + x.output().strip());
                unpacked.add(deb.getFileName().toString());
            }
        }
        for (Path tool : List.of(root.resolve("sbin/kexec"), root.resolve("usr/bin/makedumpfile"))) {
            if (!Files.isRegularFile(tool)) throw new CaptureUnavailableException("the downloaded packages hold no " + root.relativize(tool));
        }
        Files.write(done, unpacked);
        return new CrashUserland(root, unpacked);
    }

    /**
     * kexec-tools, makedumpfile, and the library packages they depend on, directly or through
     * other library packages (Depends of non-library packages such as perl or debconf are not
     * followed: the tools need only their shared objects).
     */
    static List<String> closure(Consumer<String> log) throws IOException, InterruptedException, CaptureUnavailableException {
        Set<String> seen = new LinkedHashSet<>(TOOLS);
        List<String> level = TOOLS;
        while (!level.isEmpty()) { // one apt-cache call per level of the dependency graph: each call reads the whole cache
            List<String> args = new ArrayList<>(List.of("apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-conflicts",
                    "--no-breaks", "--no-replaces", "--no-enhances"));
            level.forEach(p -> args.add(p + ":arm64"));
            Tools.Result r = Tools.run(args, null, 120);
            if (r.exit() != 0) {
                throw new CaptureUnavailableException("apt does not know " + level + " for arm64 (scripts/install-test-deps.sh adds the arm64 "
                        + "architecture and updates the package lists): " + r.output().strip());
            }
            List<String> next = new ArrayList<>();
            Matcher m = DEPENDS.matcher(r.output());
            while (m.find()) {
                String dep = m.group(1);
                if ((dep.startsWith("lib") || dep.startsWith("zlib")) && !dep.startsWith("libperl") && seen.add(dep)) next.add(dep);
            }
            level = next;
        }
        return List.copyOf(seen);
    }

    /**
     * Initramfs path to host file: the two tools at their Debian paths, the dynamic loader at
     * {@code /lib/ld-linux-aarch64.so.1}, and every shared object of the packages in
     * {@code /lib/aarch64-linux-gnu} (symbolic links resolved to their files; no ld.so.cache is
     * needed because Debian's loader searches that directory).
     */
    public Map<String, Path> files() throws IOException {
        Map<String, Path> out = new LinkedHashMap<>();
        out.put("sbin/kexec", kexec());
        out.put("usr/bin/makedumpfile", makedumpfile());
        for (String dir : List.of("lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu")) {
            Path d = root.resolve(dir);
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> s = Files.list(d)) {
                for (Path p : s.sorted().toList()) {
                    String name = p.getFileName().toString();
                    if (!name.matches(".+\\.so(\\.[0-9.]+)?")) continue;
                    Path file = resolveInTree(p);
                    if (file != null) out.putIfAbsent("lib/aarch64-linux-gnu/" + name, file);
                }
            }
        }
        Path loader = root.resolve("lib/ld-linux-aarch64.so.1");
        if (!Files.exists(loader, LinkOption.NOFOLLOW_LINKS)) throw new IOException("libc6:arm64 provided no " + loader);
        Path loaderFile = resolveInTree(loader);
        if (loaderFile == null) throw new IOException("cannot resolve " + loader + " inside " + root);
        out.put("lib/ld-linux-aarch64.so.1", loaderFile);
        return out;
    }

    /**
     * A path of the unpacked tree with its symbolic links followed inside the tree (absolute
     * targets are the guest's paths, not the host's); null if it ends at no regular file.
     */
    private Path resolveInTree(Path link) throws IOException {
        Path p = link;
        for (int i = 0; i < 8 && Files.isSymbolicLink(p); i++) {
            Path target = Files.readSymbolicLink(p);
            p = target.isAbsolute() ? root.resolve(target.toString().substring(1)) : p.getParent().resolve(target);
        }
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? p : null;
    }
}
