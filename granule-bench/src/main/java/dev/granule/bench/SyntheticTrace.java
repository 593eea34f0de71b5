package dev.granule.bench;

import dev.granule.impact.trace.Access;
import dev.granule.impact.trace.BinaryTrace;
import io.airlift.compress.zstd.ZstdOutputStream;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.SplittableRandom;

/**
 * A synthetic program's address trace in granule's binary format, made once and cached under
 * {@code ${XDG_CACHE_HOME:-~/.cache}/granule/bench/} (800 MB for 10^8 accesses, plus its .zst):
 * one instruction fetch in three, walking 4-byte instructions through 8 MiB of text with a jump
 * every 16 on average; data accesses 60% to a 64 KiB stack, 30% streaming through a 256 MiB array,
 * 10% random over a 4 GiB heap. Deterministic (seeded), so every run replays the same trace.
 */
final class SyntheticTrace {

    static final long TEXT = 0x40_0000L, STACK = 0x7fff_f000_0000L, ARRAY = 0x10_0000_0000L, HEAP = 0x20_0000_0000L;

    private SyntheticTrace() {}

    static Path cacheDir() throws IOException {
        return Files.createDirectories(CacheDir.granule().resolve("bench"));
    }

    /** The binary trace of {@code accesses} accesses, written on first use. */
    static Path binary(long accesses) throws IOException {
        Path file = cacheDir().resolve("synthetic-" + accesses + ".trace");
        if (Files.exists(file) && Files.size(file) == BinaryTrace.MAGIC.length + 8 * accesses) return file;
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            write(out, accesses);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /** The same trace zstd-compressed (aircompressor), written on first use. */
    static Path zstd(long accesses) throws IOException {
        Path file = cacheDir().resolve("synthetic-" + accesses + ".trace.zst");
        if (Files.exists(file) && Files.size(file) > 0) return file;
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = new ZstdOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
            Files.copy(binary(accesses), out);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    static void write(OutputStream out, long accesses) throws IOException {
        BinaryTrace.Writer w = new BinaryTrace.Writer(out);
        SplittableRandom random = new SplittableRandom(2026);
        long[] batch = new long[1 << 14];
        int n = 0;
        long pc = TEXT, stream = 0;
        for (long i = 0; i < accesses; i++) {
            long a;
            if (i % 3 == 0) {
                pc = random.nextInt(16) == 0 ? TEXT + ((long) random.nextInt(8 << 20) & -4L) : pc + 4;
                if (pc >= TEXT + (8 << 20)) pc = TEXT;
                a = Access.pack(pc, Access.EXECUTE, 4);
            } else {
                int r = random.nextInt(10);
                if (r < 6) a = Access.pack(STACK + (random.nextInt(64 << 10) & -8L), random.nextBoolean() ? Access.READ : Access.WRITE, 8);
                else if (r < 9) {
                    stream = (stream + 8) & ((256L << 20) - 1);
                    a = Access.pack(ARRAY + stream, Access.READ, 8);
                } else a = Access.pack(HEAP + (random.nextLong(4L << 30) & -8L), Access.WRITE, 8);
            }
            batch[n++] = a;
            if (n == batch.length) {
                w.accept(batch, n);
                n = 0;
            }
        }
        w.accept(batch, n);
        w.finish();
    }

    /** Writes the trace: {@code java -cp benchmarks.jar dev.granule.bench.SyntheticTrace [ACCESSES]}. */
    public static void main(String[] args) throws IOException {
        long n = args.length > 0 ? Long.parseLong(args[0]) : TraceReplayBenchmark.ACCESSES;
        System.out.println(binary(n) + "\n" + zstd(n));
    }
}
