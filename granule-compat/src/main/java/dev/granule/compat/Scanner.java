package dev.granule.compat;

import io.airlift.compress.zstd.ZstdInputStream;
import org.apache.commons.compress.archivers.ArchiveEntry;
import org.apache.commons.compress.archivers.ArchiveInputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.tukaani.xz.XZInputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

/**
 * Finds every ELF in files, directories and archives and hands a {@link Finding} for each to a sink.
 * Files are memory-mapped; archive members are read into memory, bounded by {@link ScanLimits}, never
 * written to disk. Nested archives are followed to {@code maxDepth}; a member identical to an archive it is
 * inside is refused as self-nesting. Directories are walked without following symbolic links, so a link
 * cannot lead the scan out of the tree (the file it names inside the tree is scanned under its own path).
 * A broken input is one {@link Finding.Broken} and the scan goes on.
 */
public final class Scanner {

    /** XZ decoder memory, in KiB: dictionaries of real packages are at most 64 MiB. */
    static final int XZ_MEMORY_LIMIT_KIB = 256 << 10;

    private final ScanLimits limits;
    private final Consumer<Finding> sink;
    private final Consumer<Long> progress;
    private String container = "";
    private long budgetLeft;

    public Scanner(ScanLimits limits, Consumer<Finding> sink, Consumer<Long> progressBytes) {
        this.limits = limits;
        this.sink = sink;
        this.progress = progressBytes;
    }

    public Scanner(Consumer<Finding> sink) {
        this(ScanLimits.DEFAULT, sink, n -> {});
    }

    /** Scans {@code path}: a file, or a directory walked recursively. Returns false when the path could not be read at all. */
    public boolean scan(Path path) {
        if (!Files.exists(path)) {
            report(path.toString(), path.toString(), "no such file or directory");
            return false;
        }
        if (Files.isDirectory(path)) {
            walk(path);
        } else {
            scanFile(path, path.toString(), true);
        }
        return true;
    }

    /** Scans bytes already in memory (an upload, a test input) as if they were a file named {@code name}. */
    public void scanBytes(String name, byte[] data) {
        container = name;
        budgetLeft = limits.maxTotalBytes();
        progress.accept((long) data.length);
        ContentType type = ContentType.of(data, data.length);
        if (type == ContentType.OTHER) {
            report(name, name, data.length == 0 ? "empty file" : "not an ELF file or a supported archive (zip/jar/apk, ar/deb, tar, gz, xz, zst)");
            return;
        }
        try {
            member(name, data, 1, new ArrayList<>(), Optional.empty());
        } catch (BrokenInputException e) {
            report(name, name, e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            report(name, name, oneLine(e));
        } catch (RuntimeException e) {
            report(name, name, "corrupt archive: " + oneLine(e));
        }
    }

    /** Regular files under {@code root} in a stable order, symbolic links not followed. */
    public static List<Path> files(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) out.add(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        out.sort(null);
        return out;
    }

    private void walk(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile()) scanFile(file, file.toString(), false);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    report(file.toString(), file.toString(), "cannot read: " + oneLine(e));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            report(root.toString(), root.toString(), "cannot walk: " + oneLine(e));
        }
    }

    /** One top-level file: mapped, told apart by its magic, and scanned with a fresh byte budget. */
    void scanFile(Path file, String name, boolean explicit) {
        container = name;
        budgetLeft = limits.maxTotalBytes();
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            progress.accept(size);
            if (size == 0) {
                if (explicit) report(name, name, "empty file");
                return;
            }
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            byte[] head = map.asSlice(0, Math.min(size, ContentType.PROBE)).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            ContentType type = ContentType.of(head, head.length);
            switch (type) {
                case ELF -> elf(name, map, Optional.empty());
                case ZIP -> {
                    try (ZipFile zip = ZipFile.builder().setPath(file).setZstdInputStreamFactory(ZstdInputStream::new).get()) {
                        zip(name, zip, 1, new ArrayList<>());
                    }
                }
                case OTHER -> {
                    if (explicit) report(name, name, "not an ELF file or a supported archive (zip/jar/apk, ar/deb, tar, gz, xz, zst)");
                }
                default -> {
                    try (InputStream in = Files.newInputStream(file)) {
                        stream(name, type, in, size, 1, new ArrayList<>());
                    }
                }
            }
        } catch (BrokenInputException e) {
            report(name, name, e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            report(name, name, oneLine(e));
        } catch (RuntimeException e) {
            // commons-compress signals some corrupt archives with unchecked exceptions.
            report(name, name, "corrupt archive: " + oneLine(e));
        }
    }

    private void elf(String name, MemorySegment data, Optional<ZipPlacement> placement) {
        try {
            sink.accept(new Finding.ElfFound(container, ElfAnalyzer.analyze(name, data, placement)));
        } catch (BrokenInputException e) {
            report(container, name, e.getMessage());
        }
    }

    /** A member held in memory: an ELF, a nested archive, or something else (skipped). */
    private void member(String name, byte[] data, int depth, List<byte[]> ancestors, Optional<ZipPlacement> placement) throws IOException {
        ContentType type = ContentType.of(data, data.length);
        if (type == ContentType.ELF) {
            elf(name, MemorySegment.ofArray(data), placement);
            return;
        }
        if (!type.isArchive()) return;
        if (depth > limits.maxDepth()) throw new BrokenInputException("archives nested deeper than " + limits.maxDepth() + " levels");
        byte[] digest = sha256(data);
        for (byte[] a : ancestors) {
            if (Arrays.equals(a, digest)) throw new BrokenInputException("archive contains itself");
        }
        List<byte[]> path = new ArrayList<>(ancestors);
        path.add(digest);
        if (type == ContentType.ZIP) {
            try (ZipFile zip = ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(data))
                    .setZstdInputStreamFactory(ZstdInputStream::new).get()) {
                zip(name, zip, depth, path);
            }
        } else {
            stream(name, type, new java.io.ByteArrayInputStream(data), data.length, depth, path);
        }
    }

    /** A nested member, with its failure reported against it and the parent archive going on. */
    private void nested(String name, byte[] data, int depth, List<byte[]> ancestors, Optional<ZipPlacement> placement) {
        try {
            member(name, data, depth, ancestors, placement);
        } catch (BrokenInputException e) {
            report(container, name, e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            report(container, name, oneLine(e));
        } catch (RuntimeException e) {
            report(container, name, "corrupt archive: " + oneLine(e));
        }
    }

    private void zip(String name, ZipFile zip, int depth, List<byte[]> ancestors) throws IOException {
        boolean apk = name.toLowerCase(Locale.ROOT).endsWith(".apk") || zip.getEntry("AndroidManifest.xml") != null
                && zip.getEntry("classes.dex") != null;
        boolean aab = name.toLowerCase(Locale.ROOT).endsWith(".aab") || zip.getEntry("BundleConfig.pb") != null;
        Optional<Boolean> extract = Optional.empty();
        if (apk) {
            ZipArchiveEntry manifest = zip.getEntry("AndroidManifest.xml");
            if (manifest == null) {
                sink.accept(new Finding.PackageNote(container, name, "APK without AndroidManifest.xml: zip alignment judged as if libraries are mapped in place"));
            } else {
                try {
                    extract = Axml.extractNativeLibs(read(zip, manifest, name + "!/AndroidManifest.xml"));
                } catch (BrokenInputException e) {
                    report(container, name + "!/AndroidManifest.xml", e.getMessage());
                }
            }
        }
        if (aab) aabNote(name, zip);
        Enumeration<ZipArchiveEntry> entries = zip.getEntries();
        while (entries.hasMoreElements()) {
            ZipArchiveEntry e = entries.nextElement();
            if (e.isDirectory()) continue;
            String memberName = name + "!/" + e.getName();
            byte[] head;
            try (InputStream in = zip.getInputStream(e)) {
                head = in.readNBytes(ContentType.PROBE);
            } catch (IOException | RuntimeException ex) {
                // An unreadable member is reported when its name says it is a library or an archive; other
                // members (resources, classes) are not what this scan is about.
                if (looksInteresting(e.getName())) report(container, memberName, "cannot read: " + oneLine(ex));
                continue;
            }
            if (head.length == 0) continue;
            ContentType type = ContentType.of(head, head.length);
            if (type != ContentType.ELF && !type.isArchive()) continue;
            Optional<ZipPlacement> placement = Optional.empty();
            if (apk && type == ContentType.ELF && e.getName().startsWith("lib/")) {
                boolean mappedInPlace = !extract.orElse(false) && extract.isPresent();
                String says = extract.map(v -> "android:extractNativeLibs=\"" + v + "\"")
                        .orElse("extractNativeLibs not set: the platform's default extracts");
                placement = Optional.of(new ZipPlacement(e.getDataOffset(), e.getMethod() == ZipArchiveEntry.STORED, mappedInPlace, says));
            }
            byte[] data;
            try {
                data = read(zip, e, memberName);
            } catch (IOException | RuntimeException ex) {
                report(container, memberName, ex instanceof BrokenInputException ? ex.getMessage() : oneLine(ex));
                continue;
            }
            nested(memberName, data, depth + 1, ancestors, placement);
        }
    }

    /**
     * An AAB's base manifest (a protobuf) says whether the platform extracts its libraries; either way their
     * ELF alignment, checked member by member, is what a device meets, and bundletool sets the zip alignment
     * of the APKs it builds, so this is a note, not a verdict.
     */
    private void aabNote(String name, ZipFile zip) throws IOException {
        ZipArchiveEntry manifest = zip.getEntry("base/manifest/AndroidManifest.xml");
        String says;
        if (manifest == null) {
            says = "no base/manifest/AndroidManifest.xml";
        } else {
            try {
                says = AabManifest.extractNativeLibs(read(zip, manifest, name + "!/base/manifest/AndroidManifest.xml"))
                        .map(v -> "its base manifest sets android:extractNativeLibs=\"" + v + "\"" + (v
                                ? " (libraries extracted at install)" : " (libraries mapped from the APKs in place)"))
                        .orElse("its base manifest does not set android:extractNativeLibs");
            } catch (BrokenInputException e) {
                report(container, name + "!/base/manifest/AndroidManifest.xml", e.getMessage());
                says = "its base manifest is unreadable";
            }
        }
        sink.accept(new Finding.PackageNote(container, name, "AAB: " + says + "; ELF alignment checked; zip alignment is set by bundletool"
                + " when it builds the APKs"));
    }

    private static boolean looksInteresting(String entry) {
        String n = entry.toLowerCase(Locale.ROOT);
        return n.endsWith(".so") || n.contains(".so.") || n.matches(".*\\.(jar|aar|apk|aab|zip|deb|tar|tgz|gz|xz|zst)$");
    }

    private byte[] read(ZipFile zip, ZipArchiveEntry e, String memberName) throws IOException {
        long compressed = e.getCompressedSize();
        long allowed = Math.min(limits.maxMemberBytes(), e.getMethod() == ZipArchiveEntry.STORED ? limits.maxMemberBytes()
                : limits.allowedOutput(Math.max(compressed, 0)));
        try (InputStream in = zip.getInputStream(e)) {
            return readBounded(in, allowed, memberName, compressed);
        }
    }

    /** A compressed stream or a streamed archive (ar, tar) of {@code inputSize} bytes. */
    private void stream(String name, ContentType type, InputStream raw, long inputSize, int depth, List<byte[]> ancestors) throws IOException {
        switch (type) {
            case GZIP, XZ, ZSTD -> {
                InputStream in = switch (type) {
                    case GZIP -> new GZIPInputStream(raw, 1 << 16);
                    case XZ -> new XZInputStream(raw, XZ_MEMORY_LIMIT_KIB);
                    default -> new ZstdInputStream(raw);
                };
                // The decompressed content keeps the name: x.tar.gz!/usr/lib/... rather than x.tar.gz!/x.tar!/...
                Bounded bounded = new Bounded(in, Math.min(limits.allowedOutput(inputSize), budgetLeft), name);
                byte[] head = bounded.readNBytes(ContentType.PROBE);
                ContentType inner = ContentType.of(head, head.length);
                if (inner == ContentType.AR || inner == ContentType.TAR) {
                    if (depth + 1 > limits.maxDepth()) throw new BrokenInputException("archives nested deeper than " + limits.maxDepth() + " levels");
                    archive(name, inner, new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(head), bounded), depth + 1, ancestors);
                } else if (inner != ContentType.OTHER) {
                    byte[] rest = readBounded(bounded, limits.maxMemberBytes() - head.length, name, inputSize);
                    byte[] all = Arrays.copyOf(head, head.length + rest.length);
                    System.arraycopy(rest, 0, all, head.length, rest.length);
                    member(name, all, depth + 1, ancestors, Optional.empty());
                }
            }
            case AR, TAR -> archive(name, type, raw, depth, ancestors);
            default -> { }
        }
    }

    private void archive(String name, ContentType type, InputStream in, int depth, List<byte[]> ancestors) throws IOException {
        ArchiveInputStream<? extends ArchiveEntry> archive = type == ContentType.AR
                ? new ArArchiveInputStream(in)
                : new TarArchiveInputStream(in);
        ArchiveEntry e;
        while ((e = archive.getNextEntry()) != null) {
            if (e.isDirectory()) continue;
            if (e instanceof org.apache.commons.compress.archivers.tar.TarArchiveEntry t && !t.isFile()) continue;   // links, devices
            String memberName = name + "!/" + stripDot(e.getName());
            byte[] head = archive.readNBytes(ContentType.PROBE);
            ContentType inner = ContentType.of(head, head.length);
            if (inner != ContentType.ELF && !inner.isArchive()) continue;
            long declared = e.getSize();
            if (declared > limits.maxMemberBytes()) {
                report(container, memberName, "member of " + declared + " bytes is over the bound of " + limits.maxMemberBytes());
                continue;
            }
            byte[] rest = readBounded(archive, limits.maxMemberBytes() - head.length, memberName, -1);
            byte[] all = Arrays.copyOf(head, head.length + rest.length);
            System.arraycopy(rest, 0, all, head.length, rest.length);
            nested(memberName, all, depth + 1, ancestors, Optional.empty());
        }
    }

    private static String stripDot(String entry) {
        return entry.startsWith("./") ? entry.substring(2) : entry;
    }

    /** Reads at most {@code allowed} bytes; more is a {@link BrokenInputException} (a bomb, or a member over the bound). */
    private byte[] readBounded(InputStream in, long allowed, String name, long compressed) throws IOException {
        long cap = Math.min(allowed, budgetLeft);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = in.read(buf, 0, (int) Math.min(buf.length, cap - total + 1))) > 0) {
            total += n;
            if (total > cap) {
                throw new BrokenInputException(total > budgetLeft
                        ? "refused: over " + limits.maxTotalBytes() + " decompressed bytes for one input"
                        : compressed > 0 ? "refused: decompresses to more than " + cap + " bytes from " + compressed + " (ratio bound " + limits.maxRatio() + ")"
                        : "refused: member is over " + cap + " bytes");
            }
            out.write(buf, 0, n);
        }
        budgetLeft -= total;
        return out.toByteArray();
    }

    /** Counts decompressed bytes against a cap and refuses more: skipped tar members are decompressed too. */
    private final class Bounded extends java.io.FilterInputStream {
        private final long cap;
        private final String name;
        private long count;

        Bounded(InputStream in, long cap, String name) {
            super(in);
            this.cap = cap;
            this.name = name;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) charge(1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) charge(n);
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] sink = new byte[8192];
            long done = 0;
            while (done < n) {
                int r = read(sink, 0, (int) Math.min(sink.length, n - done));
                if (r < 0) break;
                done += r;
            }
            return done;
        }

        private void charge(long n) {
            count += n;
            if (count > cap) {
                throw new BrokenInputException("refused: " + name + " decompresses to more than " + cap + " bytes (ratio bound "
                        + limits.maxRatio() + ", or " + limits.maxTotalBytes() + " per input)");
            }
        }
    }

    private void report(String containerName, String path, String reason) {
        sink.accept(new Finding.Broken(containerName, path, reason));
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage();
        String text = (m == null || m.isBlank()) ? e.getClass().getSimpleName() : m;
        if (e instanceof java.nio.file.NoSuchFileException) text = "no such file: " + m;
        if (e instanceof java.nio.file.AccessDeniedException) text = "permission denied: " + m;
        return text.replaceAll("\\s+", " ").strip();
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
