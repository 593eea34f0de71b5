package dev.granule.impact.trace;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * granule's compact trace format: the 8-byte {@link #MAGIC}, then one packed {@link Access} per
 * 8 bytes, little-endian. Fixed-size records decode without parsing (a file is copied into a
 * batch a block at a time) and compress well with zstd, which {@code granule trace convert}
 * applies when the output's name ends in {@code .zst} (or gzip for {@code .gz}).
 */
public final class BinaryTrace {

    public static final byte[] MAGIC = "GRTRACE1".getBytes(StandardCharsets.US_ASCII);
    static final ValueLayout.OfLong RECORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private BinaryTrace() {}

    static boolean startsWithMagic(byte[] head, int n) {
        return n >= MAGIC.length && Arrays.equals(head, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    /** Writes accesses in the binary format; the caller closes the stream it gave. */
    public static final class Writer implements AccessSink {
        private final OutputStream out;
        private final byte[] buffer = new byte[1 << 16];
        private int n;
        private long written;

        public Writer(OutputStream out) throws IOException {
            this.out = out;
            out.write(MAGIC);
        }

        @Override
        public void accept(long[] accesses, int count) {
            try {
                for (int i = 0; i < count; i++) {
                    if (n == buffer.length) flushBuffer();
                    LONGS.set(buffer, n, accesses[i]);
                    n += 8;
                }
                written += count;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        public long written() { return written; }

        private void flushBuffer() throws IOException {
            out.write(buffer, 0, n);
            n = 0;
        }

        /** Writes what is buffered (the stream stays open). */
        public void finish() throws IOException {
            flushBuffer();
            out.flush();
        }
    }

    /** Reads records after the magic from a stream; a kind-3 record or a trailing partial record is malformed. */
    static TraceStats read(InputStream in, String source, boolean strict, int batchSize, AccessSink sink)
            throws IOException, InterruptedException {
        byte[] buffer = new byte[batchSize * 8];
        int have = 0;
        long records = 0;
        Bad bad = new Bad(source, strict);
        while (true) {
            int r = in.read(buffer, have, buffer.length - have);
            if (r > 0) have += r;
            if (have == buffer.length || (r < 0 && have >= 8)) {
                int whole = have / 8;
                long[] batch = new long[whole];
                // One bulk little-endian copy, then the check; the rare bad record is compacted out.
                ByteBuffer.wrap(buffer, 0, whole * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(batch);
                int count = whole;
                for (int i = 0; i < whole; i++) {
                    if (!Access.valid(batch[i])) {
                        bad.record(records + i, "access kind 3 is not r, w or x");
                        count = -1;
                    }
                }
                if (count < 0) count = compact(batch, whole);
                records += whole;
                if (count > 0) sink.accept(batch, count);
                System.arraycopy(buffer, whole * 8, buffer, 0, have - whole * 8);
                have -= whole * 8;
                continue;
            }
            if (r < 0) break;
        }
        long invalid = bad.count;
        // A partial record at the end is a record too, a malformed one (as a text trace's last line is a line).
        if (have > 0) bad.record(records, "truncated record: " + have + " bytes at the end");
        return new TraceStats(TraceFormat.BINARY, records + (have > 0 ? 1 : 0), records - invalid, bad.count, bad.first, bad.why, 0);
    }

    /**
     * Reads the records of a file (after the magic), a batch at a time: the channel copies up to a
     * batch of bytes into one reused direct buffer (one system call per batch), and one bulk
     * little-endian copy fills the batch. Not a mapped file: touching a mapping takes a page fault
     * per 4 KiB (512 records), which cost this read about three times its time.
     * {@code progress} is told the bytes read after each batch.
     */
    static TraceStats read(FileChannel file, String source, boolean strict, int batchSize, AccessSink sink,
                           LongConsumer progress) throws IOException, InterruptedException {
        long size = file.size();
        long total = (size - MAGIC.length) / 8;
        Bad bad = new Bad(source, strict);
        ByteBuffer buffer = ByteBuffer.allocateDirect(batchSize * 8);
        MemorySegment bytes = MemorySegment.ofBuffer(buffer);
        long position = MAGIC.length;
        for (long done = 0; done < total; ) {
            int n = (int) Math.min(batchSize, total - done);
            buffer.clear().limit(n * 8);
            while (buffer.hasRemaining()) {
                if (file.read(buffer, position + buffer.position()) < 0) {
                    throw new java.io.EOFException(source + ": the file ended at byte " + (position + buffer.position())
                            + " of the " + size + " it had when opened");
                }
            }
            long[] batch = new long[n];
            MemorySegment.copy(bytes, RECORD, 0, batch, 0, n);
            boolean anyBad = false;
            for (int i = 0; i < n; i++) {
                if (!Access.valid(batch[i])) {
                    bad.record(done + i, "access kind 3 is not r, w or x");
                    anyBad = true;
                }
            }
            int count = anyBad ? compact(batch, n) : n;
            if (count > 0) sink.accept(batch, count);
            done += n;
            position += 8L * n;
            progress.accept(position);
        }
        long invalid = bad.count;
        long tail = (size - MAGIC.length) % 8;
        if (tail > 0) bad.record(total, "truncated record: " + tail + " bytes at the end");
        return new TraceStats(TraceFormat.BINARY, total + (tail > 0 ? 1 : 0), total - invalid, bad.count, bad.first, bad.why, 0);
    }

    /** Moves the valid records to the front; returns how many there are. */
    private static int compact(long[] batch, int n) {
        int k = 0;
        for (int i = 0; i < n; i++) if (Access.valid(batch[i])) batch[k++] = batch[i];
        return k;
    }

    /** Malformed records: counted, the first remembered (record index counted from 1, as lines are). */
    private static final class Bad {
        final String source;
        final boolean strict;
        long count, first;
        String why = "";

        Bad(String source, boolean strict) {
            this.source = source;
            this.strict = strict;
        }

        void record(long index, String reason) {
            if (strict) throw new TraceFormatException(source + ": record " + (index + 1) + " at byte offset "
                    + (MAGIC.length + index * 8) + ": " + reason);
            count++;
            if (first == 0) {
                first = index + 1;
                why = reason + " (byte offset " + (MAGIC.length + index * 8) + ")";
            }
        }
    }
}
