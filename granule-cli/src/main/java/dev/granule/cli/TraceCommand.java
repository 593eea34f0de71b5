package dev.granule.cli;

import dev.granule.impact.trace.BinaryTrace;
import dev.granule.impact.trace.TraceFormat;
import dev.granule.impact.trace.TraceInput;
import dev.granule.impact.trace.TraceStats;
import io.airlift.compress.zstd.ZstdOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.zip.GZIPOutputStream;

/** {@code granule trace}: address traces for {@code granule impact --trace}. */
@Command(name = "trace", subcommands = TraceCommand.Convert.class)
final class TraceCommand extends TraceGroup {

    /** {@code granule trace convert IN OUT}: any trace format to the compact binary one. */
    @Command(name = "convert", mixinStandardHelpOptions = true,
            footerHeading = "%nExamples:%n",
            footer = {"  granule trace convert ls.lackey ls.trace.zst", "  valgrind --tool=lackey --trace-mem=yes ls 2>&1 | granule trace convert - ls.trace"},
            description = {"Converts a trace (lackey, perf script, '[r|w|x] ADDRESS' lines or binary; gzip/zstd or not;",
                    "'-' for standard input) to granule's binary format: 8 bytes an access. OUT ending in .zst is",
                    "zstd-compressed, in .gz gzip-compressed."})
    static final class Convert implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "IN")
        String in;

        @Parameters(index = "1", paramLabel = "OUT")
        Path out;

        @Option(names = "--format", paramLabel = "FORMAT", description = "lackey, perf, plain or binary (default: detected).")
        TraceFormat format;

        @Option(names = "--strict", description = "Stop at the first malformed line instead of counting it.")
        boolean strict;

        @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
                description = "Progress bar on stderr: auto (on a terminal), always, never.")
        Progress.ProgressMode progress;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (!in.equals("-")) InputFile.requireStreamable(in, Path.of(in)); // a file or a pipe, streamed
            if (!in.equals("-") && Files.exists(out) && Files.isSameFile(Path.of(in), out)) {
                throw new UserException(out + ": the output would overwrite the input");
            }
            // Before the input is read (it may be long): the output's directory must be there.
            Path dirOfOut = out.toAbsolutePath().getParent();
            if (dirOfOut != null && !Files.isDirectory(dirOfOut)) {
                throw new UserException(out + ": cannot be written: " + dirOfOut
                        + (Files.exists(dirOfOut) ? " is not a directory" : " does not exist"));
            }
            TraceInput input = new TraceInput(in);
            String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase();
            Path partial = out.resolveSibling(out.getFileName() + ".partial");
            TraceStats stats;
            long written;
            try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(partial), 1 << 16);
                 OutputStream sink = name.endsWith(".zst") ? new ZstdOutputStream(file)
                         : name.endsWith(".gz") ? new GZIPOutputStream(file, 1 << 16) : file;
                 Progress bar = Progress.of("convert", input.size(), progress)) {
                BinaryTrace.Writer writer = new BinaryTrace.Writer(sink);
                stats = input.read(format, strict, TraceInput.BATCH, (accesses, count) -> {
                    writer.accept(accesses, count);
                    bar.stepTo(input.bytesRead());
                });
                writer.finish();
                written = writer.written();
            } catch (RuntimeException | java.io.IOException | InterruptedException e) {
                Files.deleteIfExists(partial); // no half-written output under the name asked for
                throw e;
            }
            Files.move(partial, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            PrintWriter o = spec.commandLine().getOut();
            o.printf("%s: %d accesses from %d %s (%s)", out, written, stats.records(),
                    stats.format() == TraceFormat.BINARY ? "records" : "lines", stats.format().name().toLowerCase());
            if (stats.malformed() > 0) {
                o.printf("; %d malformed skipped, the first at %d: %s", stats.malformed(), stats.firstMalformed(),
                        stats.firstMalformedWhy());
            }
            o.println();
            o.flush();
            return 0;
        }
    }
}
