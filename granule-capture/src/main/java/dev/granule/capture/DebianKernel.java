package dev.granule.capture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Debian arm64 kernel package, downloaded with apt on any Debian host (no arm64 system needed:
 * {@code dpkg --add-architecture arm64}) and unpacked with {@code dpkg-deb}: the kernel Image, its
 * config, and the {@code qemu_fw_cfg} module that hands the kernel's VMCOREINFO to QEMU.
 *
 * <p>Packages are cached under {@code ${XDG_CACHE_HOME:-$HOME/.cache}/granule/debs} and unpacked
 * once under {@code .../granule/kernels}; a cached package is used without asking apt again.
 *
 * @param deb      the .deb file
 * @param vmlinuz  {@code /boot/vmlinuz-*} (an arm64 Image, possibly compressed)
 * @param config   {@code /boot/config-*}, the kernel's build configuration
 * @param fwCfg    the qemu_fw_cfg module ({@code .ko} or {@code .ko.xz})
 * @param release  the kernel release, e.g. {@code 6.1.0-56-arm64}
 */
public record DebianKernel(Flavour flavour, Path deb, Path vmlinuz, Path config, Path fwCfg, String release) {

    /** The kernel flavours Debian builds for arm64 that granule captures. */
    public enum Flavour {
        /** The default arm64 kernel: 4K pages. */
        ARM64("linux-image-arm64", "arm64"),
        /** Debian's 16K-page flavour (linux 6.12 in bookworm-security and later). */
        ARM64_16K("linux-image-6.12-arm64-16k", "arm64-16k");

        private final String metaPackage;
        private final String suffix;

        Flavour(String metaPackage, String suffix) {
            this.metaPackage = metaPackage;
            this.suffix = suffix;
        }

        public String metaPackage() { return metaPackage; }

        /** linux-image-VERSION-SUFFIX-unsigned_..._arm64.deb, excluding the cloud and rt flavours. */
        Pattern debPattern() {
            return Pattern.compile("linux-image-([0-9][0-9.]*(?:-[0-9]+|\\+deb[0-9]+)-" + Pattern.quote(suffix)
                    + ")-unsigned_[^_]+_arm64\\.deb");
        }
    }

    public static Path cacheRoot() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("granule");
    }

    /** The cached package of {@code flavour}, or the current one from apt (downloaded), unpacked. */
    public static DebianKernel fetch(Flavour flavour, Path cache, Consumer<String> log)
            throws IOException, InterruptedException, CaptureUnavailableException {
        Path debs = Files.createDirectories(cache.resolve("debs"));
        Optional<Path> cached = newest(debs, flavour.debPattern());
        Path deb;
        if (cached.isPresent()) {
            deb = cached.get();
            log.accept("using cached " + deb.getFileName());
        } else {
            String pkg = resolvePackage(flavour) + "-unsigned";
            log.accept("downloading " + pkg + ":arm64 with apt-get");
            download(pkg + ":arm64", debs);
            deb = newest(debs, flavour.debPattern()).orElseThrow(() -> new CaptureUnavailableException(
                    "apt-get download " + pkg + ":arm64 produced no matching .deb in " + debs));
        }
        Matcher m = flavour.debPattern().matcher(deb.getFileName().toString());
        if (!m.matches()) throw new IllegalStateException("unexpected package name " + deb);
        String release = m.group(1);
        Path root = cache.resolve("kernels").resolve(deb.getFileName().toString().replaceFirst("\\.deb$", ""));
        Path done = root.resolve(".unpacked");
        if (!Files.exists(done)) {
            log.accept("unpacking /boot and qemu_fw_cfg from " + deb.getFileName());
            Files.createDirectories(root);
            extract(deb, root, "./boot/*", "*/drivers/firmware/qemu_fw_cfg.ko*");
            Files.writeString(done, release + "\n");
        }
        Path vmlinuz = root.resolve("boot/vmlinuz-" + release);
        Path config = root.resolve("boot/config-" + release);
        Path moduleDir = root.resolve("lib/modules/" + release + "/kernel/drivers/firmware");
        Path fwCfg = Files.exists(moduleDir.resolve("qemu_fw_cfg.ko")) ? moduleDir.resolve("qemu_fw_cfg.ko")
                : moduleDir.resolve("qemu_fw_cfg.ko.xz");
        for (Path p : List.of(vmlinuz, config, fwCfg)) {
            if (!Files.isRegularFile(p)) throw new IOException(deb.getFileName() + " did not provide " + p);
        }
        return new DebianKernel(flavour, deb, vmlinuz, config, fwCfg, release);
    }

    /** The static arm64 busybox (Debian's busybox-static), the whole userland of the capture's initramfs. */
    public static Path busybox(Path cache, Consumer<String> log) throws IOException, InterruptedException, CaptureUnavailableException {
        Path debs = Files.createDirectories(cache.resolve("debs"));
        Pattern p = Pattern.compile("busybox-static_[^_]+_arm64\\.deb");
        Optional<Path> deb = newest(debs, p);
        if (deb.isEmpty()) {
            log.accept("downloading busybox-static:arm64 with apt-get");
            download("busybox-static:arm64", debs);
            deb = newest(debs, p);
        }
        if (deb.isEmpty()) throw new CaptureUnavailableException("apt-get download busybox-static:arm64 produced no .deb");
        Path root = cache.resolve("busybox").resolve(deb.get().getFileName().toString().replaceFirst("\\.deb$", ""));
        Path bin = root.resolve("bin/busybox");
        if (!Files.isRegularFile(bin)) {
            Files.createDirectories(root);
            extract(deb.get(), root, "./bin/busybox");
        }
        return bin;
    }

    static Optional<Path> newest(Path dir, Pattern pattern) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> pattern.matcher(p.getFileName().toString()).matches())
                    .max(Comparator.comparing(p -> p.getFileName().toString(), DebianKernel::compareVersions));
        }
    }

    /** Orders names with embedded numbers numerically (6.1.0-9 before 6.1.0-56). */
    static int compareVersions(String a, String b) {
        String[] x = a.split("(?<=\\D)(?=\\d)|(?<=\\d)(?=\\D)");
        String[] y = b.split("(?<=\\D)(?=\\d)|(?<=\\d)(?=\\D)");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c;
            if (!x[i].isEmpty() && !y[i].isEmpty() && Character.isDigit(x[i].charAt(0)) && Character.isDigit(y[i].charAt(0))) {
                c = new java.math.BigInteger(x[i]).compareTo(new java.math.BigInteger(y[i]));
            } else {
                c = x[i].compareTo(y[i]);
            }
            if (c != 0) return c;
        }
        return Integer.compare(x.length, y.length);
    }

    /** The versioned package the flavour's meta-package depends on, from apt-cache. */
    private static String resolvePackage(Flavour flavour) throws IOException, InterruptedException, CaptureUnavailableException {
        if (!Tools.onPath("apt-cache") || !Tools.onPath("apt-get")) {
            throw new CaptureUnavailableException("apt is not installed: cannot download Debian's arm64 kernel");
        }
        Tools.Result r = Tools.run(List.of("apt-cache", "depends", flavour.metaPackage() + ":arm64"), null, 120);
        Matcher m = Pattern.compile("Depends: (linux-image-[^\\s:]+)").matcher(r.output());
        if (r.exit() != 0 || !m.find()) {
            throw new CaptureUnavailableException("apt knows no " + flavour.metaPackage() + ":arm64 (run scripts/install-test-deps.sh: "
                    + "it adds the arm64 architecture and updates the package lists): " + r.output().strip());
        }
        return m.group(1);
    }

    static void download(String pkg, Path dir) throws IOException, InterruptedException, CaptureUnavailableException {
        if (!Tools.onPath("apt-get")) throw new CaptureUnavailableException("apt-get is not installed");
        Tools.Result r = Tools.run(List.of("apt-get", "download", pkg), dir, 900);
        if (r.exit() != 0) {
            throw new CaptureUnavailableException("apt-get download " + pkg + " failed: " + r.output().strip());
        }
    }

    /** Unpacks members matching {@code patterns} with dpkg-deb and tar (both in every Debian system). */
    static void extract(Path deb, Path into, String... patterns) throws IOException, InterruptedException, CaptureUnavailableException {
        if (!Tools.onPath("dpkg-deb") || !Tools.onPath("tar")) throw new CaptureUnavailableException("dpkg-deb or tar missing");
        StringBuilder cmd = new StringBuilder("dpkg-deb --fsys-tarfile \"$1\" | tar -x -C \"$2\" --wildcards");
        for (String p : patterns) cmd.append(" '").append(p).append('\'');
        Tools.Result r = Tools.run(List.of("sh", "-c", cmd.toString(), "sh", deb.toString(), into.toString()), null, 600);
        if (r.exit() != 0) throw new IOException("unpacking " + deb + " failed: " + r.output().strip());
    }
}
