package dev.granule.capture;

import dev.granule.dump.ElfCore;
import dev.granule.dump.VmcoreInfo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Boots a Debian arm64 kernel under {@code qemu-system-aarch64} (TCG, {@code -M virt -cpu max},
 * which implements every granule and FEAT_LPA2/LVA, so the kernel runs the geometry it was built
 * for), takes an ELF dump of its memory over QMP with {@code dump-guest-memory}, and records
 * QEMU's own translation ({@code gva2gpa}, its table walker) of a set of kernel addresses: an
 * oracle that is independent of granule.
 *
 * <p>The initramfs is a static busybox and an init script that loads {@code qemu_fw_cfg} (so that
 * {@code -device vmcoreinfo} learns where the kernel's VMCOREINFO note is and puts it in the dump),
 * prints kernel symbols and vmalloc areas, then idles. The guest is stopped before the dump and
 * stays stopped while it is queried, so the dump and the answers describe the same memory.
 *
 * <p>Output in the capture directory: {@code vmcore.elf}, the same stopped guest dumped again by
 * QEMU in its {@code kdump-zlib} format ({@code vmcore.kdump-flat}: makedumpfile's flattened form)
 * and, where Debian's {@code makedumpfile} is installed, that file rewritten by {@code makedumpfile -R}
 * to the seekable {@code KDUMP} form ({@code vmcore.kdump}), {@code gva2gpa.tsv} ({@link Probe}
 * lines), {@code console.log}, {@code config} (the kernel's /boot/config) and
 * {@code capture.properties} (package, QEMU version, timings); the last is written last and marks
 * a complete capture.
 */
public final class KernelCapture {

    public static final String READY = "GRANULE-READY";
    public static final long MEMORY = 1L << 30;

    /** A finished capture on disk. */
    public record Capture(Path dir, Properties properties) {
        public Path vmcore() { return dir.resolve("vmcore.elf"); }

        /** QEMU's {@code dump-guest-memory} in format {@code kdump-zlib}: makedumpfile's flattened form. */
        public Path kdumpFlattened() { return dir.resolve("vmcore.kdump-flat"); }

        /** The flattened dump rewritten by {@code makedumpfile -R} (absent where makedumpfile is not installed). */
        public Path kdump() { return dir.resolve("vmcore.kdump"); }

        public Path oracle() { return dir.resolve("gva2gpa.tsv"); }

        public Path config() { return dir.resolve("config"); }

        public Path console() { return dir.resolve("console.log"); }

        public List<Probe> probes() throws IOException {
            return Files.readAllLines(oracle()).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).map(Probe::parse).toList();
        }

        /** Whether the directory holds a complete capture (written by this version of the pipeline). */
        public static java.util.Optional<Capture> load(Path dir) throws IOException {
            Path props = dir.resolve("capture.properties");
            if (!Files.isRegularFile(props)) return java.util.Optional.empty();
            Properties p = new Properties();
            try (var in = Files.newBufferedReader(props)) {
                p.load(in);
            }
            if (!FORMAT.equals(p.getProperty("format"))) return java.util.Optional.empty();
            return java.util.Optional.of(new Capture(dir, p));
        }
    }

    /** Bumped when the capture's contents change, so old caches are redone. */
    static final String FORMAT = "4";

    private KernelCapture() {}

    /**
     * The capture of {@code flavour}'s current Debian kernel: from the cache if complete, else
     * downloaded, booted, dumped and queried now.
     */
    public static Capture captureOrCached(DebianKernel.Flavour flavour, Path cache, Consumer<String> log)
            throws IOException, InterruptedException, CaptureUnavailableException {
        Path capturesDir = Files.createDirectories(cache.resolve("captures"));
        // A complete capture of this flavour is reused whatever apt says now: repeat runs stay fast and offline.
        try (var s = Files.list(capturesDir)) {
            for (Path d : s.filter(Files::isDirectory).sorted().toList().reversed()) {
                var c = Capture.load(d);
                if (c.isPresent() && flavour.name().equals(c.get().properties().getProperty("flavour"))) {
                    log.accept("using cached capture " + d);
                    rewriteFlattened(c.get(), log);
                    return c.get();
                }
            }
        }
        String qemu = qemuBinary();
        if (qemu.contains("/") ? !Files.isExecutable(Path.of(qemu)) : !Tools.onPath(qemu)) {
            throw new CaptureUnavailableException(qemu + " is not installed (Debian package qemu-system-arm; "
                    + "scripts/install-test-deps.sh installs it; GRANULE_QEMU_AARCH64 names another binary)");
        }
        DebianKernel kernel = DebianKernel.fetch(flavour, cache, log);
        Path busybox = DebianKernel.busybox(cache, log);
        // The format in the name: captures of older formats stay as they are for whoever still reads them.
        Path dir = Files.createDirectories(capturesDir.resolve(kernel.deb().getFileName().toString().replaceFirst("\\.deb$", "")
                + "-f" + FORMAT));
        return capture(kernel, busybox, dir, log);
    }

    public static Capture capture(DebianKernel kernel, Path busybox, Path dir, Consumer<String> log)
            throws IOException, InterruptedException, CaptureUnavailableException {
        Files.deleteIfExists(dir.resolve("capture.properties"));
        Path initrd = dir.resolve("initrd.cpio");
        Files.write(initrd, initramfs(busybox, kernel.fwCfg()));
        Files.copy(kernel.config(), dir.resolve("config"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path socket = Path.of(System.getProperty("java.io.tmpdir"), "granule-qmp-" + ProcessHandle.current().pid() + "-"
                + System.nanoTime() + ".sock");
        Path console = dir.resolve("console.log");
        Path vmcore = dir.resolve("vmcore.elf");
        Files.deleteIfExists(vmcore);
        List<String> cmd = List.of(qemuBinary(), "-M", "virt", "-cpu", "max,pauth-impdef=on", "-m", "1G",
                "-smp", "1", "-nographic", "-no-reboot", "-nic", "none", "-device", "vmcoreinfo",
                "-kernel", kernel.vmlinuz().toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyAMA0 panic=-1 loglevel=4",
                "-qmp", "unix:" + socket + ",server=on,wait=off");
        log.accept("booting " + kernel.release() + ": " + String.join(" ", cmd));
        long t0 = System.nanoTime();
        Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        Properties props = new Properties();
        try {
            String outcome = waitForConsole(qemu, console, 300);
            double bootSeconds = (System.nanoTime() - t0) / 1e9;
            log.accept(String.format("guest %s after %.1f s", outcome, bootSeconds));
            List<String> lines = Files.readAllLines(console, StandardCharsets.ISO_8859_1);
            try (QmpClient qmp = connectWhenListening(socket, qemu)) {
                qmp.execute("stop", "");
                long t1 = System.nanoTime();
                qmp.execute("dump-guest-memory", "{\"paging\":false,\"protocol\":" + QmpClient.quote("file:" + vmcore) + "}");
                double dumpSeconds = (System.nanoTime() - t1) / 1e9;
                // The same stopped guest again, as QEMU's kdump writer lays it out (zlib pages, flattened).
                Path flat = dir.resolve("vmcore.kdump-flat");
                Files.deleteIfExists(flat);
                long t3 = System.nanoTime();
                qmp.execute("dump-guest-memory", "{\"paging\":false,\"format\":\"kdump-zlib\",\"protocol\":"
                        + QmpClient.quote("file:" + flat) + "}");
                double kdumpSeconds = (System.nanoTime() - t3) / 1e9;
                Map<Long, String> probes;
                List<dev.granule.memory.MappedMemory.Segment> ram;
                VmcoreInfo info;
                try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(vmcore, StandardOpenOption.READ)) {
                    MemorySegment image = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
                    ElfCore core = ElfCore.parse(image);
                    String text = core.vmcoreInfoText().orElseThrow(() -> new IOException(
                            "the dump has no VMCOREINFO note: qemu_fw_cfg did not hand it to -device vmcoreinfo (see " + console + ")"));
                    info = VmcoreInfo.parse(text);
                    ram = core.segments();
                }
                probes = ProbeSet.choose(info, ram, lines, info.buildId().orElse("").hashCode());
                long t2 = System.nanoTime();
                List<String> out = gva2gpa(qmp, probes, "# gva2gpa answers of QEMU " + qemuVersion(qmp) + " for " + kernel.release());
                double querySeconds = (System.nanoTime() - t2) / 1e9;
                Files.write(dir.resolve("gva2gpa.tsv"), out);
                props.setProperty("format", FORMAT);
                props.setProperty("flavour", kernel.flavour().name());
                props.setProperty("package", kernel.deb().getFileName().toString());
                props.setProperty("release", kernel.release());
                props.setProperty("osrelease", info.osRelease().orElse("?"));
                props.setProperty("qemu", qemuVersion(qmp));
                props.setProperty("guest", outcome);
                props.setProperty("bootSeconds", String.format("%.1f", bootSeconds));
                props.setProperty("dumpSeconds", String.format("%.1f", dumpSeconds));
                props.setProperty("kdumpSeconds", String.format("%.1f", kdumpSeconds));
                props.setProperty("querySeconds", String.format("%.1f", querySeconds));
                props.setProperty("probes", Integer.toString(probes.size()));
                props.setProperty("dumpBytes", Long.toString(Files.size(vmcore)));
                try {
                    qmp.execute("quit", "");
                } catch (IOException closedOnQuit) {
                    // QEMU may close the socket before replying to quit
                }
            }
        } finally {
            if (!qemu.waitFor(20, TimeUnit.SECONDS)) {
                qemu.destroy();
                if (!qemu.waitFor(10, TimeUnit.SECONDS)) qemu.destroyForcibly();
            }
            Files.deleteIfExists(socket);
        }
        try (var w = Files.newBufferedWriter(dir.resolve("capture.properties"))) {
            props.store(w, "granule kernel capture");
        }
        log.accept("captured " + dir);
        Capture c = new Capture(dir, props);
        rewriteFlattened(c, log);
        return c;
    }

    /**
     * Writes {@link Capture#kdump()} from the flattened file with the host's {@code makedumpfile -R}
     * (Debian's amd64 build: -R only rewrites records, it reads no guest memory), once; without
     * makedumpfile the capture simply has no KDUMP-form file.
     */
    static void rewriteFlattened(Capture c, Consumer<String> log) throws IOException, InterruptedException {
        if (Files.isRegularFile(c.kdump()) || !Files.isRegularFile(c.kdumpFlattened())) return;
        String tool = Tools.onPath("makedumpfile") ? "makedumpfile"
                : Files.isExecutable(Path.of("/usr/sbin/makedumpfile")) ? "/usr/sbin/makedumpfile" : null;
        if (tool == null) {
            log.accept("makedumpfile is not installed: no KDUMP-form copy of " + c.kdumpFlattened());
            return;
        }
        Path partial = c.dir().resolve("vmcore.kdump.partial");
        Files.deleteIfExists(partial);
        Path out = c.dir().resolve("makedumpfile-R.log");
        Process p = new ProcessBuilder(tool, "-R", partial.toString()).redirectInput(c.kdumpFlattened().toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("makedumpfile -R did not finish in 120 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("makedumpfile -R failed (exit " + p.exitValue() + "): " + Files.readString(out));
        }
        Files.move(partial, c.kdump(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        log.accept("rewrote " + c.kdumpFlattened().getFileName() + " to " + c.kdump() + " with makedumpfile -R");
    }

    /** QEMU's own translation of each address ({@link Probe} lines after {@code header}): the oracle of every capture. */
    static List<String> gva2gpa(QmpClient qmp, Map<Long, String> probes, String header) throws IOException {
        List<String> out = new ArrayList<>();
        out.add(header);
        Pattern gpa = Pattern.compile("gpa: 0x([0-9a-f]+)");
        for (var e : probes.entrySet()) {
            String answer = qmp.hmp(String.format("gva2gpa 0x%x", e.getKey()));
            Matcher m = gpa.matcher(answer);
            long pa;
            if (m.find()) pa = Long.parseUnsignedLong(m.group(1), 16);
            else if (answer.contains("Unmapped")) pa = -1;
            else throw new IOException("unexpected gva2gpa answer for " + String.format("0x%x", e.getKey()) + ": " + answer);
            out.add(new Probe(e.getValue(), e.getKey(), pa).toLine());
        }
        return out;
    }

    private static String qemuVersion(QmpClient qmp) throws IOException {
        String v = qmp.execute("query-version", "");
        StringBuilder b = new StringBuilder();
        for (String part : new String[] {"major", "minor", "micro"}) {
            Matcher m = Pattern.compile("\"" + part + "\":\\s*(\\d+)").matcher(v);
            if (m.find()) b.append(b.isEmpty() ? "" : ".").append(m.group(1));
        }
        Matcher pkg = Pattern.compile("\"package\":\\s*\"([^\"]*)\"").matcher(v);
        if (pkg.find() && !pkg.group(1).isBlank()) b.append(" (").append(pkg.group(1).strip()).append(')');
        return b.toString();
    }

    /** The QEMU to run: $GRANULE_QEMU_AARCH64 if set, else qemu-system-aarch64 from the PATH. */
    static String qemuBinary() {
        String env = System.getenv("GRANULE_QEMU_AARCH64");
        return env != null && !env.isBlank() ? env : "qemu-system-aarch64";
    }

    /** Waits until the guest prints {@link #READY} or panics; fails if QEMU exits or time runs out. */
    private static String waitForConsole(Process qemu, Path console, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            String text = Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
            if (text.contains(READY + "\n") || text.contains(READY + "\r")) return "reached " + READY;
            if (text.contains("Kernel panic")) return "panicked";
            if (!qemu.isAlive()) {
                throw new IOException("QEMU exited with " + qemu.exitValue() + " before the guest was ready: "
                        + tail(text));
            }
            Thread.sleep(200);
        }
        throw new IOException("the guest printed neither " + READY + " nor a panic in " + seconds + " s: " + tail(
                Files.readString(console, StandardCharsets.ISO_8859_1)));
    }

    static String tail(String s) {
        return s.length() <= 2000 ? s : "..." + s.substring(s.length() - 2000);
    }

    static QmpClient connectWhenListening(Path socket, Process qemu) throws IOException, InterruptedException {
        IOException last = null;
        for (int i = 0; i < 100 && qemu.isAlive(); i++) {
            try {
                return QmpClient.connect(socket);
            } catch (IOException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IOException("cannot reach QEMU's QMP socket " + socket, last);
    }

    /** The init script: everything the guest does, in busybox sh. */
    static String initScript(boolean compressedModule) {
        return """
                #!/bin/busybox sh
                B=/bin/busybox
                $B mount -t proc proc /proc
                $B mount -t sysfs sysfs /sys
                # Real addresses in /proc/kallsyms and /proc/vmallocinfo for root (hashed with 0).
                echo 1 > /proc/sys/kernel/kptr_restrict
                %s
                $B insmod /qemu_fw_cfg.ko && echo GRANULE-FWCFG-LOADED
                echo GRANULE-KALLSYMS-BEGIN
                $B grep -E ' (_text|_stext|_etext|_sinittext|_einittext|start_kernel|do_idle|panic|schedule)$' /proc/kallsyms
                $B grep -F '[qemu_fw_cfg]' /proc/kallsyms | $B head -n 8
                echo GRANULE-KALLSYMS-END
                echo GRANULE-VMALLOC-BEGIN
                $B head -n 400 /proc/vmallocinfo
                echo GRANULE-VMALLOC-END
                echo %s
                while true; do $B sleep 1000; done
                """.formatted(compressedModule ? "$B xz -dc /qemu_fw_cfg.ko.xz > /qemu_fw_cfg.ko" : "", READY);
    }

    static byte[] initramfs(Path busybox, Path module) throws IOException {
        boolean xz = module.getFileName().toString().endsWith(".xz");
        return new CpioWriter()
                .directory("bin").directory("dev").directory("proc").directory("sys")
                .file("bin/busybox", 0755, Files.readAllBytes(busybox))
                .file(xz ? "qemu_fw_cfg.ko.xz" : "qemu_fw_cfg.ko", 0644, Files.readAllBytes(module))
                .file("init", 0755, initScript(xz).getBytes(StandardCharsets.US_ASCII))
                .finish();
    }
}
