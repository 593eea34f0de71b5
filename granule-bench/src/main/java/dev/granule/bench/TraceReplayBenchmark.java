package dev.granule.bench;

import dev.granule.geometry.Geometry;
import dev.granule.impact.trace.Replayer;
import dev.granule.impact.trace.StreamingReplay;
import dev.granule.impact.trace.TlbConfig;
import dev.granule.impact.trace.TraceFormat;
import dev.granule.impact.trace.TraceInput;
import dev.granule.impact.trace.TraceStats;
import io.airlift.compress.zstd.ZstdInputStream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Replaying a 10^8-access binary trace ({@link SyntheticTrace}), in nanoseconds per access (so
 * accesses/s = 10^9 / score): one page size on one core (the parser and the replay in one thread,
 * Neoverse N1 TLBs), all three page sizes in one pass on all cores ({@link StreamingReplay}: the
 * parser thread and one consumer per page size), the same from the zstd file, and the input-bound
 * limits: {@code zstd -d} of that file to /dev/null, and aircompressor's decompression alone.
 * Every fork runs with -Xmx256m: a replay that needed more memory would fail here.
 *
 * <p>{@link #onePageSizeOneCoreFastestMillion} is {@link #onePageSizeOneCore} that also times each
 * stretch of 2^20 accesses (read and replayed) and reports the fastest stretch's rate in millions of
 * accesses per second ({@link Rate}): on a shared machine a 10^8-access shot is interrupted by
 * other processes many times, its fastest stretches are the ones that ran on a core of their own.
 */
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class TraceReplayBenchmark extends SmallHeapBenchmark {

    static final int ACCESSES = 100_000_000;
    static final List<Geometry> PAGE_SIZES = List.of(Geometry.FOUR_K_48, Geometry.SIXTEEN_K_48, Geometry.SIXTY_FOUR_K_48);

    @Param({"4K", "16K", "64K"})
    String pageSize;

    Path binary, zstd;
    Geometry geometry;

    @Setup
    public void setUp() throws IOException {
        binary = SyntheticTrace.binary(ACCESSES);
        zstd = SyntheticTrace.zstd(ACCESSES);
        geometry = PAGE_SIZES.stream().filter(g -> g.granule().label().equals(pageSize)).findFirst().orElseThrow();
    }

    private static void check(TraceStats s) {
        if (s.accesses() != ACCESSES || s.malformed() != 0) throw new IllegalStateException("trace read wrong: " + s);
    }

    /** One page size, one thread: read the mapped file and replay each batch as it comes. */
    @Benchmark
    @OperationsPerInvocation(ACCESSES)
    public long onePageSizeOneCore() throws Exception {
        Replayer r = new Replayer(geometry, TlbConfig.NEOVERSE_N1, Replayer.Mapping.PAGES);
        check(new TraceInput(binary.toString()).read(TraceFormat.BINARY, false, TraceInput.BATCH, r::accept));
        return r.result().l2Misses();
    }

    /** The fastest stretch of {@link #onePageSizeOneCoreFastestMillion}, per iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Rate {
        // JMH zeroes public counters before each iteration; the rate is kept here and reported below.
        double fastest;

        @Setup(Level.Iteration)
        public void reset() { fastest = 0; }

        /** Millions of accesses read and replayed per second in the fastest 2^20-access stretch. */
        public double fastestMillionsPerSecond() { return fastest; }
    }

    /** {@link #onePageSizeOneCore}, timing every 2^20 accesses (see the class comment). */
    @Benchmark
    @OperationsPerInvocation(ACCESSES)
    public long onePageSizeOneCoreFastestMillion(Rate rate) throws Exception {
        Replayer r = new Replayer(geometry, TlbConfig.NEOVERSE_N1, Replayer.Mapping.PAGES);
        long[] stretch = {System.nanoTime(), 0}; // start, accesses so far
        check(new TraceInput(binary.toString()).read(TraceFormat.BINARY, false, TraceInput.BATCH, (batch, n) -> {
            r.accept(batch, n);
            if ((stretch[1] += n) >= 1 << 20) {
                long now = System.nanoTime();
                rate.fastest = Math.max(rate.fastest, stretch[1] * 1e3 / (now - stretch[0]));
                stretch[0] = now;
                stretch[1] = 0;
            }
        }));
        return r.result().l2Misses();
    }

    /** All three page sizes in one pass over the binary file (runs once; the @Param does not apply). */
    @Benchmark
    @OperationsPerInvocation(ACCESSES)
    public long allPageSizesAllCores() throws Exception {
        if (!pageSize.equals("4K")) return 0;
        var o = StreamingReplay.run(new TraceInput(binary.toString()), TraceFormat.BINARY, false,
                new StreamingReplay.Plan(PAGE_SIZES, List.of(TlbConfig.NEOVERSE_N1), Replayer.Mapping.PAGES), n -> {});
        check(o.stats());
        return o.results().getFirst().l2Misses();
    }

    /** The same from the zstd-compressed file: aircompressor decompresses on the parser thread. */
    @Benchmark
    @OperationsPerInvocation(ACCESSES)
    public long allPageSizesFromZstd() throws Exception {
        if (!pageSize.equals("4K")) return 0;
        var o = StreamingReplay.run(new TraceInput(zstd.toString()), null, false,
                new StreamingReplay.Plan(PAGE_SIZES, List.of(TlbConfig.NEOVERSE_N1), Replayer.Mapping.PAGES), n -> {});
        check(o.stats());
        return o.results().getFirst().l2Misses();
    }

    /** The input bound: Debian's zstd decompressing the same file to /dev/null (skipped without zstd). */
    @Benchmark
    @OperationsPerInvocation(ACCESSES)
    public int zstdCommandDecompress() throws Exception {
        if (!pageSize.equals("4K")) return 0;
        Path zstdCommand = Path.of("/usr/bin/zstd");
        if (!Files.isExecutable(zstdCommand)) throw new IllegalStateException("zstd is not installed (apt-get install zstd)");
        Process p = new ProcessBuilder(zstdCommand.toString(), "-d", "-c", "-q", zstd.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        int exit = p.waitFor();
        if (exit != 0) throw new IllegalStateException("zstd -d failed: " + exit);
        return exit;
    }

    /** aircompressor's zstd decompression alone, in the JVM. */
    @Benchmark
    @OperationsPerInvocation(ACCESSES)
    public long aircompressorDecompress() throws Exception {
        if (!pageSize.equals("4K")) return 0;
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        try (InputStream in = new ZstdInputStream(Files.newInputStream(zstd))) {
            for (int r; (r = in.read(buffer)) > 0; ) total += r;
        }
        return total;
    }
}
