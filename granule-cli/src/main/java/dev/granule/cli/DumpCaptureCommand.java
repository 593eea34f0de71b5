package dev.granule.cli;

import dev.granule.capture.CaptureUnavailableException;
import dev.granule.capture.DebianKernel;
import dev.granule.capture.KernelCapture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code granule dump capture}: downloads Debian's arm64 kernel, boots it under QEMU, dumps its
 * memory and records QEMU's own translations of its addresses (the real-kernel test's oracle).
 */
@Command(name = "capture",
        footerHeading = "%nExample:%n",
        footer = {"  granule dump capture --flavour arm64_16k"}, mixinStandardHelpOptions = true,
        description = {"Boot Debian's arm64 kernel under qemu-system-aarch64, dump its memory (ELF, with VMCOREINFO) and",
                "record QEMU's gva2gpa answers for its addresses. Cached under ${XDG_CACHE_HOME:-~/.cache}/granule."})
final class DumpCaptureCommand implements Callable<Integer> {

    @Option(names = "--flavour", paramLabel = "FLAVOUR",
            description = "Kernel flavour: ${COMPLETION-CANDIDATES} (default: ARM64, the 4K kernel).")
    DebianKernel.Flavour flavour = DebianKernel.Flavour.ARM64;

    @Option(names = "--cache", paramLabel = "DIR", description = "Cache directory (default: ${XDG_CACHE_HOME:-~/.cache}/granule).")
    Path cache;

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        KernelCapture.Capture c;
        try {
            c = KernelCapture.captureOrCached(flavour, cache == null ? DebianKernel.cacheRoot() : cache, msg -> {
                err.println("granule: " + msg);
                err.flush();
            });
        } catch (CaptureUnavailableException e) {
            throw new UserException("cannot capture here: " + e.getMessage(), e);
        }
        out.printf("dump      %s%n", c.vmcore());
        out.printf("oracle    %s (%d addresses)%n", c.oracle(), c.probes().size());
        out.printf("config    %s%n", c.config());
        var p = c.properties();
        out.printf("kernel    %s (%s)%n", p.getProperty("osrelease"), p.getProperty("package"));
        out.printf("qemu      %s; boot %s s, dump %s s, %s queries in %s s%n", p.getProperty("qemu"), p.getProperty("bootSeconds"),
                p.getProperty("dumpSeconds"), p.getProperty("probes"), p.getProperty("querySeconds"));
        out.flush();
        return 0;
    }
}
