package dev.granule.capture;

import dev.granule.dump.VmcoreInfo;
import dev.granule.memory.MappedMemory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A crash dump made the way a Debian user's kdump makes one: Debian's arm64 kernel boots under
 * QEMU with {@code crashkernel=}, Debian's arm64 {@code kexec -p} loads the same kernel as the
 * crash kernel, QEMU's {@code gva2gpa} translates kernel addresses while the first kernel runs
 * (the oracle), {@code echo c > /proc/sysrq-trigger} crashes it, and the crash kernel saves its
 * {@code /proc/vmcore} as an ELF file ({@code cp}) and with Debian's arm64 {@code makedumpfile}
 * in each compression ({@code -c} zlib, {@code -l} LZO, {@code -p} snappy, {@code -z} zstd) at
 * dump levels 0 and 31, plus one flattened file ({@code -F}), onto a host directory shared over
 * virtio-9p.
 *
 * <p>The first kernel's VMCOREINFO note is read with QEMU's {@code pmemsave} at the address the
 * kernel publishes in {@code /sys/kernel/vmcoreinfo}, its RAM from {@code /proc/iomem}: no QEMU
 * dump is needed to choose the probes ({@link ProbeSet}). The capture directory holds the dumps
 * under {@code guest/}, {@code gva2gpa.tsv}, {@code console.log} and {@code capture.properties}
 * (timings, each file's exit status), written last: it marks a complete capture.
 */
public final class CrashCapture {

    /** Bumped when the capture's contents change, so old caches are redone. */
    static final String SCRIPT_VERSION = "c2";
    static final String MEMORY = "640M";
    static final String CRASHKERNEL = "192M";
    /** The 9p and virtio-mmio modules the crash kernel loads to reach the host directory, in load order. */
    static final List<String> MODULES = List.of("virtio_mmio", "netfs", "fscache", "9pnet", "9pnet_virtio", "9p");
    /** makedumpfile's compression options, and the dump levels each is run at. */
    public static final List<String> COMPRESSIONS = List.of("c", "l", "p", "z");
    public static final List<Integer> DUMP_LEVELS = List.of(0, 31);
    public static final String FLATTENED = "vmcore-F-c-d31.flat";
    /** The dump levels trixie's makedumpfile ({@link TrixieMakedumpfile}, real zstd pages) is run at with {@code -z}. */
    public static final List<Integer> ZSTD_LEVELS = List.of(0, 31);

    /**
     * A Debian kernel on a CPU. Debian's makedumpfile 1.7.2 writes no file for the 16K kernel: it
     * refuses 16K pages with 52-bit VAs ("PAGE SIZE 0x4000 and VA Bits 52 not supported"), so that
     * capture holds kexec's ELF only and the makedumpfile tests skip for it, quoting makedumpfile.
     */
    public enum Variant {
        /** Linux 6.1, 4K pages, 48-bit VA. */
        ARM64(DebianKernel.Flavour.ARM64, "max,pauth-impdef=on", ""),
        /** Linux 6.12, 16K pages, 52-bit VA with LPA2. */
        ARM64_16K(DebianKernel.Flavour.ARM64_16K, "max,pauth-impdef=on", "");

        private final DebianKernel.Flavour flavour;
        private final String cpu;
        private final String suffix;

        Variant(DebianKernel.Flavour flavour, String cpu, String suffix) {
            this.flavour = flavour;
            this.cpu = cpu;
            this.suffix = suffix;
        }

        public DebianKernel.Flavour flavour() { return flavour; }

        public String cpu() { return cpu; }
    }

    /** A finished crash capture on disk. */
    public record Capture(Path dir, Properties properties) {
        public Path guest() { return dir.resolve("guest"); }

        /** kexec's /proc/vmcore of the crash, copied as it is (an ELF core laid out as kexec lays it out). */
        public Path vmcore() { return guest().resolve("vmcore.elf"); }

        /** {@code makedumpfile -OPTION -d LEVEL /proc/vmcore FILE}. */
        public Path kdump(String option, int level) { return guest().resolve(kdumpName(option, level)); }

        /** {@code makedumpfile -F -c -d 31 /proc/vmcore > FILE}: the flattened form, as sent over ssh. */
        public Path flattened() { return guest().resolve(FLATTENED); }

        /** {@code makedumpfile -z -d LEVEL /proc/vmcore FILE} with trixie's makedumpfile (zstd pages), if it was run. */
        public Path zstd(int level) { return guest().resolve(zstdName(level)); }

        /** Trixie's makedumpfile package the zstd files were written with, or empty if it was not in the capture. */
        public Optional<String> trixieMakedumpfile() { return Optional.ofNullable(properties.getProperty("trixieMakedumpfile")); }

        /** makedumpfile's exit status for {@code name}, -1 if it was not run. */
        public int exit(String name) {
            return Integer.parseInt(properties.getProperty("exit." + name, "-1"));
        }

        /** What makedumpfile printed for {@code name}. */
        public String log(String name) throws IOException {
            Path p = guest().resolve(name + ".log");
            return Files.isRegularFile(p) ? Files.readString(p, StandardCharsets.ISO_8859_1) : "";
        }

        public Path oracle() { return dir.resolve("gva2gpa.tsv"); }

        public Path console() { return dir.resolve("console.log"); }

        public List<Probe> probes() throws IOException {
            return Files.readAllLines(oracle()).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).map(Probe::parse).toList();
        }

        /** A capture made before trixie's makedumpfile was unpacked is redone once it is there (its zstd files were not made). */
        static Optional<Capture> load(Path dir, boolean trixieAvailable) throws IOException {
            Path props = dir.resolve("capture.properties");
            if (!Files.isRegularFile(props)) return Optional.empty();
            Properties p = new Properties();
            try (var in = Files.newBufferedReader(props)) {
                p.load(in);
            }
            boolean current = SCRIPT_VERSION.equals(p.getProperty("script")) && (!trixieAvailable || p.containsKey("trixieMakedumpfile"));
            return current ? Optional.of(new Capture(dir, p)) : Optional.empty();
        }
    }

    public static String kdumpName(String option, int level) {
        return "vmcore-" + option + "-d" + level + ".kdump";
    }

    /** The file trixie's makedumpfile writes with {@code -z -d LEVEL}. */
    public static String zstdName(int level) {
        return "vmcore-trixie-z-d" + level + ".kdump";
    }

    private CrashCapture() {}

    /** The crash capture of {@code flavour}'s kernel: from the cache if complete, else made now. */
    public static Capture captureOrCached(Variant variant, Path cache, Consumer<String> log)
            throws IOException, InterruptedException, CaptureUnavailableException {
        String qemu = KernelCapture.qemuBinary();
        Path captures = Files.createDirectories(cache.resolve("crash-captures"));
        Optional<TrixieMakedumpfile> trixie = TrixieMakedumpfile.find(cache);
        try (var s = Files.list(captures)) {
            for (Path d : s.filter(Files::isDirectory).sorted().toList().reversed()) {
                var c = Capture.load(d, trixie.isPresent());
                if (c.isPresent() && variant.name().equals(c.get().properties().getProperty("variant"))) {
                    log.accept("using cached crash capture " + d);
                    return c.get();
                }
            }
        }
        if (qemu.contains("/") ? !Files.isExecutable(Path.of(qemu)) : !Tools.onPath(qemu)) {
            throw new CaptureUnavailableException(qemu + " is not installed (Debian package qemu-system-arm; scripts/install-test-deps.sh installs it)");
        }
        DebianKernel kernel = DebianKernel.fetch(variant.flavour(), cache, log);
        Path busybox = DebianKernel.busybox(cache, log);
        CrashUserland userland = CrashUserland.fetch(cache, log);
        if (trixie.isEmpty()) {
            log.accept("no trixie makedumpfile in " + cache.resolve("makedumpfile-trixie")
                    + " (scripts/makedumpfile-trixie.sh fetches it): the capture has no file with zstd pages");
        }
        Map<String, Path> modules = modules(kernel, cache, log);
        // Keyed by the kernel package and this class's script version.
        Path dir = Files.createDirectories(captures.resolve(kernel.deb().getFileName().toString().replaceFirst("\\.deb$", "")
                + variant.suffix + "-" + SCRIPT_VERSION));
        return capture(variant, kernel, busybox, userland, trixie, modules, dir, log);
    }

    /** The 9p and virtio-mmio modules of the kernel package (module name to file), unpacked once. */
    static Map<String, Path> modules(DebianKernel kernel, Path cache, Consumer<String> log)
            throws IOException, InterruptedException, CaptureUnavailableException {
        Path root = cache.resolve("kernels").resolve(kernel.deb().getFileName().toString().replaceFirst("\\.deb$", ""));
        Path moduleDir = root.resolve("lib/modules/" + kernel.release() + "/kernel");
        Path done = root.resolve(".unpacked-9p");
        if (!Files.exists(done)) {
            log.accept("unpacking the 9p and virtio-mmio modules from " + kernel.deb().getFileName());
            // Not every kernel has every directory (6.12 builds fscache into netfs), so tar's "not found" is not an error here.
            Tools.run(List.of("sh", "-c", "dpkg-deb --fsys-tarfile \"$1\" | tar -x -C \"$2\" --wildcards '*/kernel/fs/9p/*' "
                    + "'*/kernel/net/9p/*' '*/kernel/fs/netfs/*' '*/kernel/fs/fscache/*' '*/kernel/drivers/virtio/virtio_mmio.ko*'; true",
                    "sh", kernel.deb().toString(), root.toString()), null, 600);
            Files.writeString(done, kernel.release() + "\n");
        }
        Map<String, Path> out = new LinkedHashMap<>();
        for (String m : MODULES) {
            for (String dir : List.of("drivers/virtio", "fs/fscache", "fs/netfs", "net/9p", "fs/9p")) {
                for (String ext : List.of(".ko", ".ko.xz")) {
                    Path p = moduleDir.resolve(dir).resolve(m + ext);
                    if (Files.isRegularFile(p)) out.put(m, p);
                }
            }
        }
        for (String needed : List.of("virtio_mmio", "9pnet", "9pnet_virtio", "9p")) {
            if (!out.containsKey(needed)) {
                throw new CaptureUnavailableException(kernel.deb().getFileName() + " has no " + needed + " module: the crash kernel cannot reach the host directory");
            }
        }
        return out;
    }

    static Capture capture(Variant variant, DebianKernel kernel, Path busybox, CrashUserland userland,
                           Optional<TrixieMakedumpfile> trixie, Map<String, Path> modules, Path dir, Consumer<String> log) throws IOException, InterruptedException, CaptureUnavailableException {
        Files.deleteIfExists(dir.resolve("capture.properties"));
        Path guest = dir.resolve("guest");
        if (Files.isDirectory(guest)) {
            try (var s = Files.list(guest)) {
                for (Path p : s.toList()) Files.delete(p);
            }
        }
        Files.createDirectories(guest);
        long tBuild = System.nanoTime();
        byte[] crashInitrd = initramfs(busybox, userland, trixie, modules, null, null);
        Path initrd = dir.resolve("initrd.cpio");
        Files.write(initrd, initramfs(busybox, userland, trixie, modules, kernel.vmlinuz(), crashInitrd));
        log.accept(String.format("initramfs: %d KiB (crash kernel's: %d KiB) in %.1f s", Files.size(initrd) >> 10,
                crashInitrd.length >> 10, (System.nanoTime() - tBuild) / 1e9));

        Path socket = Path.of(System.getProperty("java.io.tmpdir"), "granule-qmp-" + ProcessHandle.current().pid() + "-"
                + System.nanoTime() + ".sock");
        Path console = dir.resolve("console.log");
        List<String> cmd = List.of(KernelCapture.qemuBinary(), "-M", "virt", "-cpu", variant.cpu(), "-m", MEMORY,
                "-smp", "1", "-nographic", "-no-reboot", "-nic", "none",
                "-kernel", kernel.vmlinuz().toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyAMA0 crashkernel=" + CRASHKERNEL + " loglevel=4 panic=-1",
                "-fsdev", "local,id=out,path=" + guest + ",security_model=none",
                "-device", "virtio-9p-device,fsdev=out,mount_tag=granule",
                "-qmp", "unix:" + socket + ",server=on,wait=off");
        log.accept("booting " + kernel.release() + ": " + String.join(" ", cmd));
        Properties props = new Properties();
        long t0 = System.nanoTime();
        Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        try {
            waitFor(qemu, console, KernelCapture.READY, 300);
            double boot = seconds(t0);
            List<String> lines = Files.readAllLines(console, StandardCharsets.ISO_8859_1);
            Optional<String> loaded = lines.stream().filter(l -> l.startsWith("GRANULE-KEXEC-LOADED ")).findFirst();
            if (loaded.isEmpty()) {
                throw new IOException("kexec -p did not load the crash kernel: " + KernelCapture.tail(String.join("\n", lines)));
            }
            long t1 = System.nanoTime();
            int probes;
            try (QmpClient qmp = KernelCapture.connectWhenListening(socket, qemu)) {
                qmp.execute("stop", "");
                String infoText = vmcoreInfoText(qmp, lines, dir);
                VmcoreInfo info = VmcoreInfo.parse(infoText);
                List<MappedMemory.Segment> ram = systemRam(lines);
                Map<Long, String> chosen = ProbeSet.choose(info, ram, lines, info.buildId().orElse("").hashCode());
                Files.write(dir.resolve("gva2gpa.tsv"), KernelCapture.gva2gpa(qmp, chosen,
                        "# gva2gpa answers of QEMU for " + kernel.release() + ", first kernel running, before the crash"));
                probes = chosen.size();
                qmp.execute("cont", "");
            }
            double query = seconds(t1);
            // The guest waits for a line on its console before it crashes itself.
            long t2 = System.nanoTime();
            OutputStream stdin = qemu.getOutputStream();
            stdin.write("crash\n".getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
            waitFor(qemu, console, "GRANULE-CRASH-KERNEL", 300);
            double crashBoot = seconds(t2);
            long t3 = System.nanoTime();
            waitFor(qemu, console, "GRANULE-DONE", 1800);
            double save = seconds(t3);
            for (String line : Files.readAllLines(console, StandardCharsets.ISO_8859_1)) {
                Matcher m = Pattern.compile("^GRANULE-FILE (\\S+) exit=(\\d+) seconds=(\\S+)").matcher(line.strip());
                if (m.find()) {
                    props.setProperty("exit." + m.group(1), m.group(2));
                    props.setProperty("seconds." + m.group(1), m.group(3));
                    log.accept(String.format("  %-22s exit %s after %s s", m.group(1), m.group(2), m.group(3)));
                }
            }
            props.setProperty("script", SCRIPT_VERSION);
            props.setProperty("kexec", loaded.get().split(" ")[1]);
            props.setProperty("textFromStext", Boolean.toString(lines.stream().anyMatch(l -> l.startsWith("GRANULE-TEXT-FROM-STEXT"))));
            props.setProperty("variant", variant.name());
            props.setProperty("cpu", variant.cpu());
            props.setProperty("package", kernel.deb().getFileName().toString());
            props.setProperty("release", kernel.release());
            props.setProperty("memory", MEMORY);
            props.setProperty("crashkernel", CRASHKERNEL);
            props.setProperty("userland", String.join(" ", userland.packages()));
            trixie.ifPresent(t -> props.setProperty("trixieMakedumpfile", t.version()));
            props.setProperty("probes", Integer.toString(probes));
            props.setProperty("bootSeconds", String.format("%.1f", boot));
            props.setProperty("querySeconds", String.format("%.1f", query));
            props.setProperty("crashKernelBootSeconds", String.format("%.1f", crashBoot));
            props.setProperty("saveSeconds", String.format("%.1f", save));
            log.accept(String.format("%s: boot %.1f s, %d probes %.1f s, crash kernel up %.1f s, dumps saved %.1f s",
                    kernel.release(), boot, probes, query, crashBoot, save));
        } finally {
            if (!qemu.waitFor(30, TimeUnit.SECONDS)) {
                qemu.destroy();
                if (!qemu.waitFor(10, TimeUnit.SECONDS)) qemu.destroyForcibly();
            }
            Files.deleteIfExists(socket);
        }
        Files.deleteIfExists(initrd);
        try (var w = Files.newBufferedWriter(dir.resolve("capture.properties"))) {
            props.store(w, "granule crash capture (kexec-tools, makedumpfile)");
        }
        return new Capture(dir, props);
    }

    /**
     * The first kernel's VMCOREINFO: {@code /sys/kernel/vmcoreinfo} gives the physical address and
     * size of its ELF note, {@code pmemsave} copies those bytes out of the stopped guest.
     */
    static String vmcoreInfoText(QmpClient qmp, List<String> console, Path dir) throws IOException {
        Matcher m = null;
        for (String line : console) {
            Matcher x = Pattern.compile("^GRANULE-VMCOREINFO (?:0x)?([0-9a-fA-F]+) (?:0x)?([0-9a-fA-F]+)").matcher(line.strip());
            if (x.find()) m = x;
        }
        if (m == null) throw new IOException("the guest printed no /sys/kernel/vmcoreinfo line");
        long pa = Long.parseUnsignedLong(m.group(1), 16);
        int size = Integer.parseInt(m.group(2), 16);
        Path note = dir.resolve("vmcoreinfo.note");
        Files.deleteIfExists(note);
        qmp.hmp(String.format("pmemsave 0x%x %d \"%s\"", pa, size, note));
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(note)).order(ByteOrder.LITTLE_ENDIAN);
        int namesz = b.getInt(0);
        int descsz = b.getInt(4);
        int descAt = 12 + ((namesz + 3) & ~3);
        if (namesz != 11 || descAt + descsz > b.capacity()) {
            throw new IOException(String.format("no VMCOREINFO note at PA %#x (namesz %d, descsz %d)", pa, namesz, descsz));
        }
        byte[] text = new byte[descsz];
        b.get(descAt, text);
        String s = new String(text, StandardCharsets.ISO_8859_1);
        int nul = s.indexOf('\0');
        return nul < 0 ? s : s.substring(0, nul);
    }

    /** The top-level "System RAM" ranges of /proc/iomem, as the guest printed them. */
    static List<MappedMemory.Segment> systemRam(List<String> console) {
        List<MappedMemory.Segment> out = new ArrayList<>();
        Pattern p = Pattern.compile("^([0-9a-f]+)-([0-9a-f]+) : System RAM$");
        for (String line : ProbeSet.section(console, "GRANULE-IOMEM")) {
            Matcher m = p.matcher(line);
            if (m.matches()) {
                long start = Long.parseUnsignedLong(m.group(1), 16);
                long size = Long.parseUnsignedLong(m.group(2), 16) + 1 - start;
                out.add(new MappedMemory.Segment(start, 0, size, size));
            }
        }
        return out;
    }

    /**
     * The initramfs: busybox, the tools and their libraries, the modules, the init script; for the
     * first kernel also the kernel Image and the crash kernel's own initramfs, which kexec loads.
     */
    static byte[] initramfs(Path busybox, CrashUserland userland, Optional<TrixieMakedumpfile> trixie, Map<String, Path> modules,
                            Path image, byte[] crashInitrd) throws IOException {
        CpioWriter w = new CpioWriter();
        for (String d : List.of("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "out", "lib",
                "lib/aarch64-linux-gnu", "modules", "boot")) {
            w.directory(d);
        }
        w.file("bin/busybox", 0755, Files.readAllBytes(busybox));
        for (var e : userland.files().entrySet()) {
            w.file(e.getKey(), 0755, Files.readAllBytes(e.getValue()));
        }
        if (trixie.isPresent()) {
            w.directory(TrixieMakedumpfile.GUEST_DIR);
            w.directory(TrixieMakedumpfile.GUEST_DIR + "/lib");
            for (var e : trixie.get().files().entrySet()) w.file(e.getKey(), 0755, Files.readAllBytes(e.getValue()));
        }
        for (var e : modules.entrySet()) {
            w.file("modules/" + e.getValue().getFileName(), 0644, Files.readAllBytes(e.getValue()));
        }
        if (image != null) {
            w.file("boot/Image", 0644, Files.readAllBytes(image));
            w.file("boot/crash.cpio", 0644, crashInitrd);
        }
        w.file("init", 0755, initScript(trixie.isPresent()).getBytes(StandardCharsets.US_ASCII));
        return w.finish();
    }

    /**
     * Both kernels run this script: the crash kernel is the one with a /proc/vmcore. With
     * {@code trixie}, the crash kernel also runs trixie's makedumpfile with {@code -z}.
     */
    static String initScript(boolean trixie) {
        StringBuilder dumps = new StringBuilder();
        for (String c : COMPRESSIONS) {
            for (int d : DUMP_LEVELS) {
                dumps.append("save ").append(kdumpName(c, d)).append(" makedumpfile -").append(c).append(" -d ").append(d)
                        .append(" /proc/vmcore /out/").append(kdumpName(c, d)).append('\n');
            }
        }
        if (trixie) {
            dumps.append(TrixieMakedumpfile.guestCommand()).append(" -v > /out/makedumpfile-trixie-version.log 2>&1\n");
            for (int d : ZSTD_LEVELS) {
                dumps.append("save ").append(zstdName(d)).append(' ').append(TrixieMakedumpfile.guestCommand()).append(" -z -d ").append(d)
                        .append(" /proc/vmcore /out/").append(zstdName(d)).append('\n');
            }
        }
        return """
                #!/bin/busybox sh
                /bin/busybox --install -s
                export PATH=/sbin:/bin:/usr/sbin:/usr/bin
                mount -t proc proc /proc
                mount -t sysfs sysfs /sys
                APPEND="console=ttyAMA0 reset_devices nr_cpus=1 loglevel=4 panic=-1"
                if [ ! -e /proc/vmcore ]; then
                  # Real addresses in /proc/kallsyms and /proc/vmallocinfo for root (hashed with 0).
                  echo 1 > /proc/sys/kernel/kptr_restrict
                  echo GRANULE-KALLSYMS-BEGIN
                  grep -E ' (_text|_stext|_etext|_sinittext|_einittext|start_kernel|do_idle|panic|schedule)$' /proc/kallsyms
                  echo GRANULE-KALLSYMS-END
                  echo GRANULE-VMALLOC-BEGIN
                  head -n 400 /proc/vmallocinfo
                  echo GRANULE-VMALLOC-END
                  echo GRANULE-IOMEM-BEGIN
                  grep -v '^ ' /proc/iomem
                  echo GRANULE-IOMEM-END
                  echo "GRANULE-VMCOREINFO $(cat /sys/kernel/vmcoreinfo)"
                  # Debian's kexec-tools 2.0.25 gives /proc/vmcore's kernel-image PT_LOAD the address of
                  # /proc/kallsyms' _text, which these kernels do not list (the segment then starts at a
                  # nonsense address and reading it aborts). Its physical start is /proc/iomem's "Kernel code",
                  # which arm64 sets to _stext's address: kexec reads a kallsyms copy where _text = _stext.
                  if ! grep -q ' _text$' /proc/kallsyms; then
                    { cat /proc/kallsyms; grep ' _stext$' /proc/kallsyms | sed 's/ _stext$/ _text/'; } > /tmp/kallsyms
                    mount --bind /tmp/kallsyms /proc/kallsyms && echo GRANULE-TEXT-FROM-STEXT
                  fi
                  # Debian's kernels have no CONFIG_KEXEC_FILE: kexec_load, with the ELF headers kexec-tools writes.
                  if kexec -p /boot/Image --initrd=/boot/crash.cpio --append="$APPEND"; then
                    echo "GRANULE-KEXEC-LOADED kexec_load $(cat /sys/kernel/kexec_crash_loaded)"
                  fi
                  umount /proc/kallsyms 2>/dev/null; rm -f /tmp/kallsyms
                  rm -f /boot/Image /boot/crash.cpio
                  echo %s
                  read line
                  echo c > /proc/sysrq-trigger
                  while true; do sleep 1000; done
                fi
                echo GRANULE-CRASH-KERNEL
                grep -v '^ ' /proc/iomem
                ls -l /proc/vmcore
                for m in %s; do
                  f=$(ls /modules/$m.ko* 2>/dev/null | head -n 1)
                  [ -n "$f" ] || continue
                  case $f in *.xz) xz -dc $f > /tmp/$m.ko; f=/tmp/$m.ko;; esac
                  insmod $f || echo GRANULE-INSMOD-FAILED $m
                done
                mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 granule /out || echo GRANULE-MOUNT-FAILED
                makedumpfile -v > /out/makedumpfile-version.log 2>&1
                now() { cut -d ' ' -f 1 /proc/uptime; }
                save() {
                  name=$1; shift
                  s=$(now)
                  "$@" > /out/$name.log 2>&1
                  rc=$?
                  echo "GRANULE-FILE $name exit=$rc seconds=$(echo "$(now) $s" | awk '{printf "%%.1f", $1 - $2}')"
                }
                save vmcore.elf dd if=/proc/vmcore of=/out/vmcore.elf bs=1M
                %s
                s=$(now)
                makedumpfile -F -c -d 31 /proc/vmcore > /out/%s 2> /out/%s.log
                echo "GRANULE-FILE %s exit=$? seconds=$(echo "$(now) $s" | awk '{printf "%%.1f", $1 - $2}')"
                # The shell creates the file before makedumpfile runs: an empty one is a refusal, not a dump.
                [ -s /out/%s ] || rm -f /out/%s
                sync
                umount /out
                echo GRANULE-DONE
                poweroff -f
                """.formatted(KernelCapture.READY, String.join(" ", MODULES), dumps.toString().strip(),
                FLATTENED, FLATTENED, FLATTENED, FLATTENED, FLATTENED);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** Waits until a console line starts with {@code marker}; fails if QEMU exits first or time runs out. */
    private static void waitFor(Process qemu, Path console, String marker, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Pattern p = Pattern.compile("(^|\\n)" + Pattern.quote(marker) + "[\\r\\n ]");
        while (System.nanoTime() < deadline) {
            String text = Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
            if (p.matcher(text).find()) return;
            if (!qemu.isAlive()) {
                throw new IOException("QEMU exited with " + qemu.exitValue() + " before the guest printed " + marker + ": " + KernelCapture.tail(text));
            }
            Thread.sleep(200);
        }
        throw new IOException("the guest did not print " + marker + " in " + seconds + " s: "
                + KernelCapture.tail(Files.readString(console, StandardCharsets.ISO_8859_1)));
    }

    /** Makes (or reuses) both kernels' crash captures: {@code java ... CrashCapture [CACHE]}. */
    public static void main(String[] args) throws Exception {
        Path cache = args.length > 0 ? Path.of(args[0]) : DebianKernel.cacheRoot();
        for (Variant f : Variant.values()) {
            long t = System.nanoTime();
            Capture c = captureOrCached(f, cache, System.err::println);
            System.err.printf("%s: %s in %.1f s%n", f, c.dir(), seconds(t));
        }
    }
}
