package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * QEMU's stage-1 walker as an executable oracle: assembles {@code at-probe.S} with binutils, runs
 * it on {@code qemu-system-aarch64 -M virt,virtualization=on -cpu max} with the cases' tables and
 * probes loaded into guest RAM, and returns PAR_EL1 for every probe.
 */
public final class QemuAt {

    /** Where at-probe.S reads its job. */
    static final long JOB_PA = 0x4040_0000L;
    /** Guest RAM: QEMU virt puts it at 1 GiB; the oracle gives the guest 1 GiB of it. */
    public static final long RAM_BASE = 0x4000_0000L, RAM_SIZE = 0x4000_0000L;
    /** Tables go above the program, the device tree and the job. */
    public static final long TABLES_BASE = 0x4800_0000L;

    static final String QEMU = "qemu-system-aarch64", AS = "aarch64-linux-gnu-as", LD = "aarch64-linux-gnu-ld";

    /** What QEMU answered: the CPU's ID registers and one PAR_EL1 per probe, in job order. */
    public record Answers(CpuFeatures cpu, long mmfr1, int currentEl, long[] par, boolean[] exception, long[] esr,
                          String version) {}

    /** Why the oracle cannot run here, or null when it can. */
    public static String unavailableReason() {
        for (String tool : new String[]{QEMU, AS, LD}) {
            if (!onPath(tool)) return tool + " is not installed (scripts/install-test-deps.sh installs it)";
        }
        return null;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    private final Path work;
    private final Path elf;
    private final String version;

    public QemuAt(Path work) throws IOException, InterruptedException {
        this.work = work;
        Path source = work.resolve("at-probe.S");
        try (InputStream in = QemuAt.class.getResourceAsStream("/dev/granule/mmu/at-probe.S")) {
            if (in == null) throw new IOException("at-probe.S is missing from the test resources");
            Files.write(source, in.readAllBytes());
        }
        Path object = work.resolve("at-probe.o");
        elf = work.resolve("at-probe.elf");
        // armv8.2-a for AT S1E1RP/S1E1WP (FEAT_PAN2).
        run(List.of(AS, "-march=armv8.2-a", "-o", object.toString(), source.toString()), 60);
        run(List.of(LD, "-Ttext=0x40080000", "-e", "_start", "-o", elf.toString(), object.toString()), 60);
        version = run(List.of(QEMU, "--version"), 60).lines().findFirst().orElse("?");
    }

    /** First line of {@code qemu-system-aarch64 --version}. */
    public String version() { return version; }

    /** Major version of this QEMU. */
    public int majorVersion() {
        var m = java.util.regex.Pattern.compile("version (\\d+)\\.").matcher(version);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    /** The CPU model's ID registers, from a run with no cases. */
    public Answers identify() throws IOException, InterruptedException {
        return ask(new byte[8], null, 0);
    }

    /**
     * Runs the job: {@code job} as at-probe.S reads it, {@code tables} loaded at {@link #TABLES_BASE}
     * (may be null), {@code probes} answers expected.
     */
    public Answers ask(byte[] job, byte[] tables, int probes) throws IOException, InterruptedException {
        Path jobFile = work.resolve("job.bin");
        Files.write(jobFile, job);
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-M", "virt,virtualization=on", "-cpu", "max", "-smp", "1",
                "-m", (RAM_SIZE >> 20) + "M", "-display", "none", "-monitor", "none", "-nodefaults", "-net", "none",
                "-serial", "stdio", "-kernel", elf.toString(),
                "-device", "loader,file=" + jobFile + ",addr=0x" + Long.toHexString(JOB_PA) + ",force-raw=on"));
        if (tables != null && tables.length > 0) {
            Path tableFile = work.resolve("tables.bin");
            Files.write(tableFile, tables);
            cmd.addAll(List.of("-device", "loader,file=" + tableFile + ",addr=0x" + Long.toHexString(TABLES_BASE)
                    + ",force-raw=on"));
        }
        String out = run(cmd, 600);
        return parse(out, probes);
    }

    private Answers parse(String out, int probes) throws IOException {
        long[] par = new long[probes];
        boolean[] exception = new boolean[probes];
        long[] esr = new long[probes];
        long pendingEsr = 0;
        CpuFeatures cpu = null;
        long mmfr1 = 0;
        int el = -1, n = 0;
        boolean end = false, pendingException = false;
        for (String line : out.split("\n")) {
            line = line.strip();
            if (line.isEmpty()) continue;
            if (line.startsWith("I ")) {
                String[] f = line.split(" ");
                cpu = new CpuFeatures(Long.parseUnsignedLong(f[1], 16), Long.parseUnsignedLong(f[3], 16), 0);
                mmfr1 = Long.parseUnsignedLong(f[2], 16);
                el = (int) (Long.parseLong(f[4], 16) >> 2);
            } else if (line.equals("END")) {
                end = true;
            } else if (line.startsWith("!")) {
                pendingException = true;
                pendingEsr = Long.parseUnsignedLong(line.substring(1), 16);
            } else if (line.length() == 16) {
                if (n >= probes) throw new IOException("QEMU answered more probes than were asked");
                exception[n] = pendingException;
                esr[n] = pendingEsr;
                pendingException = false;
                par[n++] = Long.parseUnsignedLong(line, 16);
            } else {
                throw new IOException("unexpected line from the probe: " + line);
            }
        }
        if (cpu == null || !end || n != probes) {
            throw new IOException("the probe did not finish (" + n + " of " + probes + " answers); output:\n"
                    + out.substring(0, Math.min(out.length(), 2000)));
        }
        return new Answers(cpu, mmfr1, el, par, exception, esr, version);
    }

    private String run(List<String> cmd, int seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true).start();
        // Drain while waiting: the probe prints ~20 bytes a probe, more than a pipe holds.
        var output = new java.io.ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(output);
            } catch (IOException ignored) {
                // the process was killed; what was read is kept
            }
        });
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(cmd.getFirst() + " did not finish in " + seconds + " s");
        }
        reader.join();
        String text = output.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "):\n" + text);
        return text;
    }

    /** Little-endian u64 writer for the job block. */
    static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
