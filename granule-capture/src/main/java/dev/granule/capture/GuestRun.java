package dev.granule.capture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Boots a Debian arm64 kernel under {@code qemu-system-aarch64} ({@code -M virt -cpu max -nic none}) with
 * a caller's initramfs and returns what the guest printed on its serial console once it powers off: a
 * one-shot guest for tests that let real arm64 userspace (e.g. glibc's loader) answer a question at the
 * kernel's page size. The init is expected to end with {@code poweroff -f}; PSCI SYSTEM_OFF ends QEMU.
 */
public final class GuestRun {

    private GuestRun() {}

    /**
     * Boots {@code kernel} with {@code initramfs} and waits up to {@code seconds} for QEMU to exit.
     *
     * @param console where the serial console is written (kept for the reader of a failure)
     * @return the console text
     * @throws CaptureUnavailableException when QEMU is not installed
     * @throws IOException when the guest does not power off in time, or QEMU fails
     */
    public static String boot(DebianKernel kernel, byte[] initramfs, Path console, long seconds)
            throws IOException, InterruptedException, CaptureUnavailableException {
        checkQemu();
        String qemu = KernelCapture.qemuBinary();
        Path initrd = Files.createTempFile("granule-guest", ".cpio");
        try {
            Files.write(initrd, initramfs);
            List<String> cmd = List.of(qemu, "-M", "virt", "-cpu", "max", "-m", "1G", "-smp", "1", "-nographic",
                    "-no-reboot", "-nic", "none", "-kernel", kernel.vmlinuz().toString(), "-initrd", initrd.toString(),
                    "-append", "console=ttyAMA0 panic=-1 quiet");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
                throw new IOException("the guest of " + kernel.release() + " did not power off in " + seconds + " s (console: "
                        + console + ")");
            }
            String text = Files.readString(console, StandardCharsets.ISO_8859_1);
            if (p.exitValue() != 0) {
                throw new IOException("QEMU exited with " + p.exitValue() + ": " + tail(text));
            }
            return text;
        } finally {
            Files.deleteIfExists(initrd);
        }
    }

    /** Throws, saying why, when the QEMU to run is not installed: callers check before downloading kernels. */
    public static void checkQemu() throws CaptureUnavailableException {
        String qemu = KernelCapture.qemuBinary();
        if (qemu.contains("/") ? !Files.isExecutable(Path.of(qemu)) : !Tools.onPath(qemu)) {
            throw new CaptureUnavailableException(qemu + " is not installed (Debian package qemu-system-arm; "
                    + "scripts/install-test-deps.sh installs it; GRANULE_QEMU_AARCH64 names another binary)");
        }
    }

    private static String tail(String s) {
        return s.length() <= 2000 ? s : "..." + s.substring(s.length() - 2000);
    }
}
