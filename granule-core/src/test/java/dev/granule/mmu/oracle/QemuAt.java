package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;
import dev.granule.mmu.FaultType;
import dev.granule.mmu.Translation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;

/**
 * QEMU's stage-1 walker as an executable oracle: assembles a bare-metal probe with binutils, runs
 * it on {@code qemu-system-aarch64 -M virt,virtualization=on -cpu max} ({@code at-probe.S}) or
 * {@code qemu-system-arm -M virt,virtualization=on -cpu cortex-a15} ({@code ats-probe-a32.S}) with
 * the cases' tables and probes loaded into guest RAM, and returns PAR for every probe.
 */
public final class QemuAt {

    /**
     * A QEMU system, its CPU, the binutils that build its probe, the probe's source, and whether it
     * runs at EL3 ({@code secure=on}, exiting through semihosting).
     */
    public record Target(String qemu, String cpu, String as, String ld, String march, String resource, boolean el3) {
        public static final Target AARCH64 = new Target("qemu-system-aarch64", "max", "aarch64-linux-gnu-as",
                "aarch64-linux-gnu-ld", "armv8.2-a", "at-probe.S", false);
        /** AT S1E2R/W from EL3 ({@code at-probe-el3.S}): the EL2 and EL2&amp;0 regimes. */
        public static final Target AARCH64_EL2 = new Target("qemu-system-aarch64", "max", "aarch64-linux-gnu-as",
                "aarch64-linux-gnu-ld", "armv8.2-a", "at-probe-el3.S", true);
        /** Real loads, stores and fetches at EL1/EL0 from an EL2 probe ({@code hafdbs-probe.S}): hardware updates. */
        public static final Target AARCH64_HAFDBS = new Target("qemu-system-aarch64", "max", "aarch64-linux-gnu-as",
                "aarch64-linux-gnu-ld", "armv8.2-a", "hafdbs-probe.S", false);
        public static final Target ARMV7 = new Target("qemu-system-arm", "cortex-a15", "arm-linux-gnueabihf-as",
                "arm-linux-gnueabihf-ld", "armv7ve", "ats-probe-a32.S", false);
        /** {@code qemu-system-arm -cpu max}: an Armv8-A PE (Cortex-A57 based) in AArch32 state. */
        public static final Target ARMV8_AARCH32 = new Target("qemu-system-arm", "max", "arm-linux-gnueabihf-as",
                "arm-linux-gnueabihf-ld", "armv7ve", "ats-probe-a32.S", false);
    }

    /** HCR_EL2.RW: EL1 is AArch64 (at-probe.S sets each case's HCR_EL2; this bit must stay set). */
    public static final long HCR_RW = 1L << 31;

    /** Where at-probe.S reads its job. */
    static final long JOB_PA = 0x4040_0000L;
    /** Guest RAM: QEMU virt puts it at 1 GiB; the oracle gives the guest 1 GiB of it. */
    public static final long RAM_BASE = 0x4000_0000L, RAM_SIZE = 0x4000_0000L;
    /** Tables go above the program, the device tree and the job. */
    public static final long TABLES_BASE = 0x4800_0000L;

    /**
     * What QEMU answered: the probe's "I" line (AArch64: ID_AA64MMFR0/1/2_EL1 and CurrentEL; A32:
     * MIDR, ID_MMFR0 and CPSR) and one PAR per probe, in job order, with the ESR/HSR of those that
     * raised an exception instead.
     */
    public record Answers(long[] id, long[] par, boolean[] exception, long[] esr) {
        /** The AArch64 CPU's translation features. */
        public CpuFeatures cpu() { return new CpuFeatures(id[0], id[2], 0); }

        public int currentEl() { return (int) (id[3] >> 2); }

        /** The answer to probe {@code n}. */
        public Answer answer(int n) { return new Answer(par[n], exception[n], esr[n]); }

        /** ID_AA64MMFR3_EL1 (TCR2, S1PIE, S2PIE, S1POE, D128...), the fifth field of the AArch64 "I" line. */
        public long mmfr3() { return id.length > 4 ? id[4] : 0; }
    }

    /** One probe's answer: PAR, or the syndrome (ESR/HSR) of the exception its AT raised instead. */
    public record Answer(long par, boolean exception, long esr) {
        /**
         * Whether QEMU took the synchronous external abort the model's walk ended in: a Data Abort
         * with the fault's DFSC, not a PAR.
         */
        public boolean tookWalkAbort(Translation.Fault f) { return exception && Par.isWalkAbort(esr, f); }

        /** Whether PAR holds the model's answer (the compared fields; see {@link Par#compared}). */
        public boolean agrees(Translation t) { return !exception && Par.compared(par) == Par.expected(t); }

        /**
         * Whether this answers a stage-1 AT as the model does (the AT and EL2 oracles): the walk's
         * external abort taken with its DFSC (counted in {@code aborts}); QEMU 10.0.2's large-block
         * departure ({@code largeBlockDeparture} asked with PAR: {@link QemuLargeBlockDeparture}), kept
         * out and counted in {@code departures}; otherwise PAR's compared fields.
         */
        boolean agreesStage1(Translation t, LongPredicate largeBlockDeparture, OracleDriver.Count aborts, OracleDriver.Count departures) {
            if (t instanceof Translation.Fault f && f.type() == FaultType.EXTERNAL_ABORT_ON_WALK) {
                // Taken as a Data Abort (EC 0x25, same EL), not reported in PAR: compare the ESR's DFSC.
                boolean taken = tookWalkAbort(f);
                if (taken) aborts.add();
                return taken;
            }
            if (!exception && largeBlockDeparture.test(par)) {
                departures.add();
                return true;
            }
            return agrees(t);
        }

        /** What QEMU said, for a mismatch's kind. */
        public String kind() { return exception ? "exception" : Par.kind(Par.compared(par)); }

        /** What QEMU said, in full, for a mismatch's details. */
        public String describe() { return exception ? String.format("exception ESR 0x%x", esr) : Par.describe(par); }
    }

    /**
     * The oldest QEMU the oracles accept: 10 follows the Arm ARM where 7.2 did not (blocks per level,
     * PAREncodeShareability, the 64K level-1 block with a 52-bit PARange), so the generators keep
     * nothing out for an older QEMU's sake.
     */
    public static final int MIN_QEMU_MAJOR = 10;

    /** Why the oracle for {@code target} cannot run here, or null when it can. */
    public static String unavailableReason(Target target) {
        for (String tool : new String[]{target.qemu(), target.as(), target.ld()}) {
            if (!onPath(tool)) return tool + " is not installed (scripts/install-test-deps.sh installs it)";
        }
        String version;
        try {
            Process p = new ProcessBuilder(target.qemu(), "--version").redirectErrorStream(true).start();
            version = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                    .lines().findFirst().orElse("");
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return target.qemu() + " --version did not answer in 60 s";
            }
        } catch (IOException | InterruptedException e) {
            return target.qemu() + " --version failed: " + e.getMessage();
        }
        int major = majorVersion(version);
        if (major < MIN_QEMU_MAJOR) {
            return target.qemu() + " is " + (version.isBlank() ? "of unknown version" : "\"" + version + "\"")
                    + "; the oracle needs QEMU >= " + MIN_QEMU_MAJOR
                    + " (scripts/install-test-deps.sh installs it from bookworm-backports)";
        }
        return null;
    }

    private static boolean onPath(String tool) {
        if (tool.contains("/")) return Files.isExecutable(Path.of(tool)); // a QEMU outside the PATH (qemu-trixie.sh)
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    private final Target target;
    private final Path work;
    private final Path elf;
    private final String version;

    /** What the AArch64 probes share (their macros and UART routines), which each {@code .include}s. */
    private static final String UART_INCLUDE = "probe-uart.inc";

    public QemuAt(Target target, Path work) throws IOException, InterruptedException {
        this.target = target;
        this.work = work;
        Path source = work.resolve(target.resource());
        try (InputStream in = QemuAt.class.getResourceAsStream("/dev/granule/mmu/" + target.resource())) {
            if (in == null) throw new IOException(target.resource() + " is missing from the test resources");
            Files.write(source, in.readAllBytes());
        }
        // The AArch64 probes share macros and UART routines (probe-uart.inc); `as` runs in work, where .include looks.
        try (InputStream in = QemuAt.class.getResourceAsStream("/dev/granule/mmu/" + UART_INCLUDE)) {
            if (in == null) throw new IOException(UART_INCLUDE + " is missing from the test resources");
            Files.write(work.resolve(UART_INCLUDE), in.readAllBytes());
        }
        Path object = work.resolve("probe.o");
        elf = work.resolve("probe.elf");
        // armv8.2-a for AT S1E1RP/S1E1WP (FEAT_PAN2); armv7ve for Hyp mode and LPAE.
        run(List.of(target.as(), "-march=" + target.march(), "-o", object.toString(), source.toString()), 60);
        run(List.of(target.ld(), "-Ttext=0x40080000", "-e", "_start", "-o", elf.toString(), object.toString()), 60);
        version = run(List.of(target.qemu(), "--version"), 60).lines().findFirst().orElse("?");
    }

    /** First line of {@code qemu-system-aarch64 --version}. */
    public String version() { return version; }

    /** Major version of this QEMU. */
    public int majorVersion() { return majorVersion(version); }

    /** The major version in a {@code --version} line ("QEMU emulator version 10.0.2 (...)"), 0 if none. */
    static int majorVersion(String versionLine) {
        var m = java.util.regex.Pattern.compile("version (\\d+)\\.").matcher(versionLine);
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
        return parse(output(job, tables), probes);
    }

    /** Runs the job as {@link #ask} does and returns what the probe printed, for probes with their own output. */
    public String output(byte[] job, byte[] tables) throws IOException, InterruptedException {
        Path jobFile = work.resolve("job.bin");
        Files.write(jobFile, job);
        List<String> cmd = new ArrayList<>(List.of(target.qemu(), "-M", "virt,virtualization=on" + (target.el3() ? ",secure=on" : ""),
                "-cpu", target.cpu(), "-smp", "1",
                "-m", (RAM_SIZE >> 20) + "M", "-display", "none", "-monitor", "none", "-nodefaults", "-net", "none",
                "-serial", "stdio", "-kernel", elf.toString(),
                "-device", "loader,file=" + jobFile + ",addr=0x" + Long.toHexString(JOB_PA) + ",force-raw=on"));
        if (target.el3()) cmd.add("-semihosting");
        if (tables != null && tables.length > 0) {
            Path tableFile = work.resolve("tables.bin");
            Files.write(tableFile, tables);
            cmd.addAll(List.of("-device", "loader,file=" + tableFile + ",addr=0x" + Long.toHexString(TABLES_BASE)
                    + ",force-raw=on"));
        }
        return run(cmd, 600);
    }

    private static Answers parse(String out, int probes) throws IOException {
        long[] par = new long[probes];
        boolean[] exception = new boolean[probes];
        long[] esr = new long[probes];
        long pendingEsr = 0;
        long[] id = null;
        int n = 0;
        boolean end = false, pendingException = false;
        for (String line : out.split("\n")) {
            line = line.strip();
            if (line.isEmpty()) continue;
            if (line.startsWith("I ")) {
                String[] f = line.substring(2).split(" ");
                id = new long[f.length];
                for (int i = 0; i < f.length; i++) id[i] = Long.parseUnsignedLong(f[i], 16);
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
        if (id == null || !end || n != probes) {
            throw new IOException("the probe did not finish (" + n + " of " + probes + " answers); output:\n"
                    + out.substring(0, Math.min(out.length(), 2000)));
        }
        return new Answers(id, par, exception, esr);
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
