package dev.granule.impact.trace;

import io.airlift.compress.zstd.ZstdInputStream;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPInputStream;

/**
 * A trace file or standard input ({@code -}), uncompressed, gzip (java.util.zip) or zstd
 * (aircompressor, pure Java), told apart by their magic numbers; the format is detected from the
 * content unless given. An uncompressed binary trace in a regular file is read through its
 * channel a batch at a time; everything else is streamed. {@link #bytesRead()} and {@link #size()} feed a progress bar.
 */
public final class TraceInput {

    public static final int BATCH = 1 << 14;
    private static final byte[] GZIP = {0x1f, (byte) 0x8b};
    private static final byte[] ZSTD = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};

    private final String name;
    private volatile long bytesRead;
    private final long size;
    // A stream the caller gave (and keeps: it is not closed here), or null to open the name.
    private final InputStream given;

    /** @param name a file's path, or {@code -} for standard input */
    public TraceInput(String name) {
        this.name = name;
        this.given = null;
        long s = -1;
        if (!name.equals("-")) {
            try {
                Path p = Path.of(name);
                if (Files.isRegularFile(p)) s = Files.size(p);
            } catch (IOException | java.nio.file.InvalidPathException e) {
                // unknown size: the progress bar shows bytes without a total
            }
        }
        this.size = s;
    }

    private TraceInput(InputStream given, String name) {
        this.name = name;
        this.given = given;
        this.size = -1;
    }

    /**
     * A trace read from {@code in} (the caller's to close), named {@code name} in errors; compressed
     * or not, in any format, as a file is.
     */
    public static TraceInput of(InputStream in, String name) {
        return new TraceInput(java.util.Objects.requireNonNull(in, "in"), name);
    }

    public String name() { return name; }

    /** Bytes read so far as stored (before decompression). */
    public long bytesRead() { return bytesRead; }

    /** The file's size, or -1 for a stream. */
    public long size() { return size; }

    /**
     * Reads every access into {@code sink}, {@code batchSize} at most at a time.
     *
     * @param format null to detect: binary by its magic, else the first trace line's shape
     * @param strict whether the first malformed line or record ends the read
     */
    public TraceStats read(TraceFormat format, boolean strict, int batchSize, AccessSink sink) throws IOException, InterruptedException {
        InputStream raw = given != null ? given : name.equals("-") ? System.in : Files.newInputStream(Path.of(name));
        try (InputStream counted = new Counting(raw)) {
            BufferedInputStream stored = new BufferedInputStream(counted, 1 << 16);
            byte[] head = peek(stored, 8);
            InputStream plain;
            boolean compressed = true;
            if (startsWith(head, GZIP)) plain = new Decoded(gzip(stored), "gzip");
            else if (startsWith(head, ZSTD)) plain = new Decoded(new ZstdInputStream(stored), "zstd");
            else {
                plain = stored;
                compressed = false;
            }
            BufferedInputStream in = plain == stored ? stored : new BufferedInputStream(plain, 1 << 16);
            byte[] start = peek(in, BinaryTrace.MAGIC.length);
            boolean binary = BinaryTrace.startsWithMagic(start, start.length);
            if (format == TraceFormat.BINARY && !binary) {
                throw new TraceFormatException(name + ": not a granule binary trace (no " + new String(BinaryTrace.MAGIC,
                        java.nio.charset.StandardCharsets.US_ASCII) + " at offset 0)");
            }
            if (format == null) format = binary ? TraceFormat.BINARY : null;
            TraceStats stats;
            if (format == TraceFormat.BINARY) {
                if (!compressed && size >= 0 && given == null) {
                    stats = fromFile(strict, batchSize, sink);
                } else {
                    in.skipNBytes(BinaryTrace.MAGIC.length);
                    stats = BinaryTrace.read(in, name, strict, batchSize, sink);
                }
            } else {
                stats = new TextTraceReader(in, name, format, strict, batchSize).read(sink);
            }
            if (stats.accesses() == 0 && stats.malformed() > 0) {
                // Nothing to replay, and a reason why: say it, rather than answer with tables of zeros.
                boolean records = stats.format() == TraceFormat.BINARY;
                throw new TraceFormatException(name + ": none of its " + stats.records() + (records ? " records" : " lines")
                        + " is a " + stats.format().name().toLowerCase() + " trace " + (records ? "record" : "line") + " ("
                        + stats.malformed() + " malformed, the first at " + (records ? "record " : "line ")
                        + stats.firstMalformed() + ": " + stats.firstMalformedWhy() + ")");
            }
            return new TraceStats(stats.format(), stats.records(), stats.accesses(), stats.malformed(),
                    stats.firstMalformed(), stats.firstMalformedWhy(), bytesRead);
        }
    }

    private TraceStats fromFile(boolean strict, int batchSize, AccessSink sink) throws IOException, InterruptedException {
        try (FileChannel ch = FileChannel.open(Path.of(name), StandardOpenOption.READ)) {
            TraceStats s = BinaryTrace.read(ch, name, strict, batchSize, sink, n -> bytesRead = n);
            bytesRead = ch.size();
            return s;
        }
    }

    private static byte[] peek(BufferedInputStream in, int n) throws IOException {
        in.mark(n);
        byte[] head = in.readNBytes(n);
        in.reset();
        return head;
    }

    private static boolean startsWith(byte[] head, byte[] magic) {
        if (head.length < magic.length) return false;
        for (int i = 0; i < magic.length; i++) if (head[i] != magic[i]) return false;
        return true;
    }

    /**
     * A decompressor's output, whose failures that are not the stored stream's own are a broken
     * stream of this input, not an I/O error: GZIPInputStream ends a truncated stream in an
     * EOFException and a corrupt one in a ZipException; aircompressor's zstd a truncated one in a
     * plain IOException ("Not enough input bytes") and a corrupt one in its MalformedInputException
     * or an IllegalStateException ("Invalid frame header", from its state checks): any unchecked
     * exception out of the decoder is the data's (TraceFuzzTest found these).
     */
    private final class Decoded extends FilterInputStream {
        private final String codec;

        Decoded(InputStream decoder, String codec) {
            super(decoder);
            this.codec = codec;
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                if (e == storedFailure) throw e;
                throw broken(codec, e);
            } catch (RuntimeException e) {
                throw broken(codec, e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                if (e == storedFailure) throw e;
                throw broken(codec, e);
            } catch (RuntimeException e) {
                throw broken(codec, e);
            }
        }
    }

    /** The gzip decoder of {@code stored}, which reads the gzip header as it is made. */
    private InputStream gzip(InputStream stored) throws IOException {
        try {
            return new GZIPInputStream(stored, 1 << 16);
        } catch (IOException e) {
            if (e == storedFailure) throw e;
            throw broken("gzip", e);
        }
    }

    private TraceFormatException broken(String codec, Exception e) {
        String why = e.getMessage() != null ? e.getMessage()
                : e instanceof java.io.EOFException ? "it ends inside a block" : e.getClass().getSimpleName();
        return new TraceFormatException(name + ": broken " + codec + " stream after " + bytesRead
                + " stored bytes (truncated or corrupt file?): " + why);
    }

    // The last failure of the stored stream itself, which Decoded passes on as the I/O error it is.
    private volatile IOException storedFailure;

    /** Counts the stored bytes for the progress bar. */
    private final class Counting extends FilterInputStream {
        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                int b = super.read();
                if (b >= 0) bytesRead++;
                return b;
            } catch (IOException e) {
                storedFailure = e;
                throw e;
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int r = super.read(b, off, len);
                if (r > 0) bytesRead += r;
                return r;
            } catch (IOException e) {
                storedFailure = e;
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            if (in != System.in && in != given) super.close();
        }
    }

}
