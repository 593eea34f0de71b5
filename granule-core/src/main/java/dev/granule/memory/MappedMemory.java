package dev.granule.memory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Read-only physical memory backed by a file (a kernel dump), memory-mapped with FFM so that a
 * multi-GiB dump costs address space, not heap: nothing is copied until a caller reads it.
 *
 * <p>The file is cut into {@link Segment}s, each mapping a physical range to a file range, as an
 * ELF core's PT_LOAD headers do: bytes past a segment's {@code fileSize} but inside its
 * {@code memorySize} read as zero. Segments must not overlap in PA (a reader resolves overlaps
 * before building one); adjacent segments form one RAM range, so an access may cross them.
 * Every write throws {@link MemoryAccessException}: a dump is evidence, not scratch space.
 */
public final class MappedMemory implements ReadOnlyMemory {

    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Physical range {@code [pa, pa + memorySize)} whose first {@code fileSize} bytes are the file's
     * bytes at {@code fileOffset} (ELF p_paddr, p_memsz, p_filesz, p_offset).
     */
    public record Segment(long pa, long fileOffset, long fileSize, long memorySize) {
        public Segment {
            if (pa < 0 || fileOffset < 0 || fileSize < 0 || memorySize <= 0) {
                throw new IllegalArgumentException(String.format(
                        "segment PA %#x, file offset %#x, file size %#x, memory size %#x: values must be non-negative "
                                + "and the memory size positive", pa, fileOffset, fileSize, memorySize));
            }
            if (fileSize > memorySize) {
                throw new IllegalArgumentException(String.format(
                        "segment at PA %#x holds %#x file bytes but only %#x bytes of memory", pa, fileSize, memorySize));
            }
            if (pa + memorySize < 0 || fileOffset + fileSize < 0) {
                throw new IllegalArgumentException(String.format(
                        "segment at PA %#x of %#x bytes leaves the 63-bit address space", pa, memorySize));
            }
        }

        public long end() { return pa + memorySize; }

        public MemoryRange range() { return new MemoryRange(pa, memorySize); }
    }

    private final Arena arena;
    private final MemorySegment image;
    private final long[] start;
    private final long[] end;
    private final long[] fileOffset;
    private final long[] fileSize;
    private final List<MemoryRange> ranges;
    private final List<Segment> segments;
    private int last;

    private MappedMemory(Arena arena, MemorySegment image, List<Segment> segments) {
        this.arena = arena;
        this.image = image;
        List<Segment> sorted = new ArrayList<>(segments);
        sorted.sort(Comparator.comparingLong(Segment::pa));
        int n = sorted.size();
        start = new long[n];
        end = new long[n];
        fileOffset = new long[n];
        fileSize = new long[n];
        List<MemoryRange> merged = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Segment s = sorted.get(i);
            if (s.fileOffset() + s.fileSize() > image.byteSize()) {
                throw new IllegalArgumentException(String.format(
                        "segment at PA %#x needs file bytes [%#x, %#x) but the file has %#x bytes",
                        s.pa(), s.fileOffset(), s.fileOffset() + s.fileSize(), image.byteSize()));
            }
            if (i > 0 && s.pa() < end[i - 1]) {
                throw new IllegalArgumentException(String.format(
                        "segments %s and %s overlap in physical address", sorted.get(i - 1).range(), s.range()));
            }
            start[i] = s.pa();
            end[i] = s.end();
            fileOffset[i] = s.fileOffset();
            fileSize[i] = s.fileSize();
            if (!merged.isEmpty() && merged.getLast().end() == s.pa()) {
                MemoryRange prev = merged.removeLast();
                merged.add(new MemoryRange(prev.base(), prev.size() + s.memorySize()));
            } else {
                merged.add(s.range());
            }
        }
        this.segments = List.copyOf(sorted);
        this.ranges = List.copyOf(merged);
    }

    /** Maps {@code file} read-only and exposes {@code segments} of it as physical memory. */
    public static MappedMemory open(Path file, List<Segment> segments) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment image = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new MappedMemory(arena, image, segments);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A raw physical dump: the whole file is RAM starting at {@code paBase}. */
    public static MappedMemory raw(Path file, long paBase) throws IOException {
        long size = java.nio.file.Files.size(file);
        if (size == 0) throw new IllegalArgumentException("raw dump " + file + " is empty");
        return open(file, List.of(new Segment(paBase, 0, size, size)));
    }

    /**
     * Segments of an image the caller already holds (a mapped file, or bytes in tests); the
     * caller keeps the image alive, and {@link #close()} does not release it.
     */
    public static MappedMemory over(MemorySegment image, List<Segment> segments) {
        return new MappedMemory(null, image.asReadOnly(), segments);
    }

    /** The segments, sorted by physical address. */
    public List<Segment> segments() { return segments; }

    /** Index of the segment holding {@code pa}, or -1. */
    private int find(long pa) {
        int i = last;
        if (i < start.length && pa >= start[i] && pa < end[i]) return i;
        int lo = 0;
        int hi = start.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (pa < start[mid]) hi = mid - 1;
            else if (pa >= end[mid]) lo = mid + 1;
            else {
                last = mid;
                return mid;
            }
        }
        return -1;
    }

    private static void aligned(long pa, int size) {
        if ((pa & (size - 1)) != 0) throw new MemoryAccessException(pa, "misaligned " + size + "-byte access");
    }

    private MemoryAccessException notRam(long pa) {
        return new MemoryAccessException(pa, "not in the dump (dumped RAM is " + describeRanges() + ")");
    }

    private String describeRanges() {
        return ranges.size() <= 4 ? ranges.toString() : ranges.subList(0, 4) + " and " + (ranges.size() - 4) + " more";
    }

    /** The byte at {@code pa}, which must be inside a segment. */
    private byte byteAt(long pa) {
        int i = find(pa);
        if (i < 0) throw notRam(pa);
        long off = pa - start[i];
        return off < fileSize[i] ? image.get(ValueLayout.JAVA_BYTE, fileOffset[i] + off) : 0;
    }

    /** Whether {@code [pa, pa + n)} lies in the file part of one segment; then it is one mapped read. */
    private long fastOffset(long pa, int n) {
        int i = find(pa);
        if (i < 0) throw notRam(pa);
        long off = pa - start[i];
        return off + n <= fileSize[i] ? fileOffset[i] + off : -1;
    }

    @Override
    public long readLong(long pa) {
        aligned(pa, 8);
        long at = fastOffset(pa, 8);
        if (at >= 0) return image.get(LONG_LE, at);
        long v = 0;
        for (int b = 7; b >= 0; b--) v = (v << 8) | (byteAt(pa + b) & 0xFF);
        return v;
    }

    @Override
    public int readInt(long pa) {
        aligned(pa, 4);
        long at = fastOffset(pa, 4);
        if (at >= 0) return image.get(INT_LE, at);
        int v = 0;
        for (int b = 3; b >= 0; b--) v = (v << 8) | (byteAt(pa + b) & 0xFF);
        return v;
    }

    @Override
    public void read(long pa, byte[] dst, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, dst.length);
        if (!contains(pa, length)) {
            throw new MemoryAccessException(pa, "read of " + length + " bytes leaves the dumped RAM " + describeRanges());
        }
        while (length > 0) {
            int i = find(pa);
            long off = pa - start[i];
            int n = (int) Math.min(length, end[i] - pa);
            int fromFile = (int) Math.max(0, Math.min(n, fileSize[i] - off));
            if (fromFile > 0) MemorySegment.copy(image, ValueLayout.JAVA_BYTE, fileOffset[i] + off, dst, offset, fromFile);
            java.util.Arrays.fill(dst, offset + fromFile, offset + n, (byte) 0);
            pa += n;
            offset += n;
            length -= n;
        }
    }

    /** A read-only view of the file bytes behind {@code [pa, pa + length)} if they are one contiguous file range. */
    public java.util.Optional<MemorySegment> slice(long pa, long length) {
        int i = find(pa);
        if (i < 0 || length < 0) return java.util.Optional.empty();
        long off = pa - start[i];
        if (off + length > fileSize[i]) return java.util.Optional.empty();
        return java.util.Optional.of(image.asSlice(fileOffset[i] + off, length));
    }






    @Override
    public boolean contains(long pa, long length) {
        if (length < 0 || pa < 0 || pa + length < pa) return false;
        // Within one segment (the last one found, for a walk's tables nearly always): no search of the ranges.
        int i = last;
        if (i < start.length && pa >= start[i] && pa < end[i] && pa + length <= end[i]) return true;
        // Ranges are sorted and disjoint: only the last one starting at or below pa can hold it.
        int lo = 0;
        int hi = ranges.size() - 1;
        int candidate = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (ranges.get(mid).base() <= pa) {
                candidate = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return candidate >= 0 && ranges.get(candidate).contains(pa, length);
    }

    @Override
    public List<MemoryRange> ranges() { return ranges; }


    /** Total bytes of RAM described (file-backed and zero-filled). */
    public long ramBytes() {
        long total = 0;
        for (MemoryRange r : ranges) total += r.size();
        return total;
    }

    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) arena.close();
    }
}
