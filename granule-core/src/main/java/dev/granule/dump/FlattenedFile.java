package dev.granule.dump;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * makedumpfile's flattened format (what {@code makedumpfile -F} and QEMU's kdump writers send down
 * a pipe): a 4096-byte {@code makedumpfile_header} ("makedumpfile", type 1, version 1, big-endian),
 * then records of a {@code makedumpfile_data_header} (big-endian {@code offset} and
 * {@code buf_size}) followed by {@code buf_size} bytes meant for that offset of the real file, until
 * a header whose fields are both -1. {@code makedumpfile -R} replays the records into a file.
 *
 * <p>Here the records are indexed once and the logical file is read in place: no second copy is
 * written. Later records win where records overlap, as the replay writes them; bytes no record
 * covers read as zero, as the holes of the replayed file do.
 */
public final class FlattenedFile implements DumpBytes {

    public static final String SIGNATURE = "makedumpfile";
    public static final int HEADER_SIZE = 4096;
    static final int DATA_HEADER_SIZE = 16;
    /** More records than a dump of any machine needs; bounds the index's memory for hostile files. */
    public static final int MAX_RECORDS = 1 << 22;

    private static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final MemorySegment image;
    /** Sorted, disjoint pieces of the logical file: start, length, and where the bytes are in the flattened file. */
    private final long[] start;
    private final long[] length;
    private final long[] fileAt;
    private final long size;
    private final int records;
    private final List<String> warnings;

    private FlattenedFile(MemorySegment image, long[] start, long[] length, long[] fileAt, int records, List<String> warnings) {
        this.image = image;
        this.start = start;
        this.length = length;
        this.fileAt = fileAt;
        this.records = records;
        this.size = start.length == 0 ? 0 : start[start.length - 1] + length[length.length - 1];
        this.warnings = List.copyOf(warnings);
    }

    /** Whether {@code image} starts with the flattened format's signature. */
    public static boolean looksFlattened(MemorySegment image) {
        if (image.byteSize() < 16) return false;
        byte[] sig = image.asSlice(0, 12).toArray(ValueLayout.JAVA_BYTE);
        return SIGNATURE.equals(new String(sig, StandardCharsets.ISO_8859_1)) && image.get(ValueLayout.JAVA_BYTE, 12) == 0;
    }

    /** Indexes the records of the flattened file in {@code image}. */
    public static FlattenedFile index(MemorySegment image) {
        long fileSize = image.byteSize();
        if (fileSize < HEADER_SIZE) {
            throw new DumpFormatException(0, "flattened dump is " + fileSize + " bytes, shorter than its 4096-byte makedumpfile_header");
        }
        if (!looksFlattened(image)) throw new DumpFormatException(0, "signature is not \"makedumpfile\"");
        long type = image.get(BE64, 16);
        if (type != 1) throw new DumpFormatException(16, "makedumpfile_header.type is " + type + ", not 1 (TYPE_FLAT_HEADER)");
        long version = image.get(BE64, 24);
        if (version != 1) throw new DumpFormatException(24, "makedumpfile_header.version is " + version + ", not 1");
        List<String> warnings = new ArrayList<>();
        long[] off = new long[64];
        long[] len = new long[64];
        long[] at = new long[64];
        int n = 0;
        long pos = HEADER_SIZE;
        boolean ended = false;
        while (pos <= fileSize - DATA_HEADER_SIZE) {
            long offset = image.get(BE64, pos);
            long bufSize = image.get(BE64, pos + 8);
            if (offset == -1 && bufSize == -1) {
                ended = true;
                break;
            }
            if (offset < 0) throw new DumpFormatException(pos, String.format("makedumpfile_data_header.offset is negative (%#x)", offset));
            if (bufSize < 0 || bufSize > fileSize - pos - DATA_HEADER_SIZE) {
                throw new DumpFormatException(pos + 8, String.format(
                        "makedumpfile_data_header.buf_size %#x runs past the end of the %d-byte file (truncated dump?)", bufSize, fileSize));
            }
            if (offset + bufSize < 0) throw new DumpFormatException(pos, "record [offset, +buf_size) leaves the 63-bit file space");
            if (n == MAX_RECORDS) throw new DumpFormatException(pos, "more than " + MAX_RECORDS + " records; granule reads at most that many");
            if (n == off.length) {
                off = Arrays.copyOf(off, n * 2);
                len = Arrays.copyOf(len, n * 2);
                at = Arrays.copyOf(at, n * 2);
            }
            off[n] = offset;
            len[n] = bufSize;
            at[n] = pos + DATA_HEADER_SIZE;
            n++;
            pos += DATA_HEADER_SIZE + bufSize;
        }
        if (!ended) {
            if (pos != fileSize) {
                throw new DumpFormatException(pos, "makedumpfile_data_header cut off by the end of the file (truncated dump?)");
            }
            warnings.add("the flattened stream has no end marker (offset and buf_size -1): the dump may be cut short");
        }
        return build(image, off, len, at, n, warnings);
    }

    /** Sorts the records by logical offset; overlapping ones are cut so that the later record wins. */
    private static FlattenedFile build(MemorySegment image, long[] off, long[] len, long[] at, int n, List<String> warnings) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> off[a] != off[b] ? Long.compare(off[a], off[b]) : Integer.compare(a, b));
        boolean overlap = false;
        for (int k = 1; k < n && !overlap; k++) {
            overlap = off[order[k]] < off[order[k - 1]] + len[order[k - 1]];
        }
        if (!overlap) {
            int m = 0;
            long[] s = new long[n];
            long[] l = new long[n];
            long[] f = new long[n];
            for (int k = 0; k < n; k++) {
                int i = order[k];
                if (len[i] == 0) continue;
                s[m] = off[i];
                l[m] = len[i];
                f[m] = at[i];
                m++;
            }
            return new FlattenedFile(image, Arrays.copyOf(s, m), Arrays.copyOf(l, m), Arrays.copyOf(f, m), n, warnings);
        }
        // Replay in file order: each record overwrites what earlier ones put at its offsets.
        TreeMap<Long, long[]> pieces = new TreeMap<>(); // start -> {end, fileAt}
        for (int i = 0; i < n; i++) {
            if (len[i] == 0) continue;
            long s = off[i];
            long e = s + len[i];
            Map.Entry<Long, long[]> before = pieces.lowerEntry(s);
            if (before != null && before.getValue()[0] > s) {
                long[] v = before.getValue();
                if (v[0] > e) pieces.put(e, new long[] {v[0], v[1] + (e - before.getKey())});
                pieces.put(before.getKey(), new long[] {s, v[1]});
            }
            while (true) {
                Map.Entry<Long, long[]> inside = pieces.ceilingEntry(s);
                if (inside == null || inside.getKey() >= e) break;
                pieces.remove(inside.getKey());
                long[] v = inside.getValue();
                if (v[0] > e) pieces.put(e, new long[] {v[0], v[1] + (e - inside.getKey())});
            }
            pieces.put(s, new long[] {e, at[i]});
        }
        int m = pieces.size();
        long[] s = new long[m];
        long[] l = new long[m];
        long[] f = new long[m];
        int k = 0;
        for (Map.Entry<Long, long[]> e : pieces.entrySet()) {
            s[k] = e.getKey();
            l[k] = e.getValue()[0] - e.getKey();
            f[k] = e.getValue()[1];
            k++;
        }
        warnings.add("records overlap; later records win, as makedumpfile -R writes them");
        return new FlattenedFile(image, s, l, f, n, warnings);
    }

    /** Number of data records in the stream. */
    public int records() { return records; }

    public List<String> warnings() { return warnings; }

    @Override
    public long size() { return size; }

    /** Index of the last piece starting at or below {@code offset}, or -1. */
    private int piece(long offset) {
        int lo = 0;
        int hi = start.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (start[mid] <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    @Override
    public boolean holds(long offset, long count) {
        if (count <= 0) return false;
        int i = piece(offset + count - 1); // the last piece starting in the range, or before it
        return i >= 0 && start[i] + length[i] > offset;
    }

    @Override
    public void copy(long offset, byte[] dst, int at, int count, String field) {
        check(offset, count, field);
        while (count > 0) {
            int i = piece(offset);
            int n;
            if (i >= 0 && offset < start[i] + length[i]) {
                n = (int) Math.min(count, start[i] + length[i] - offset);
                MemorySegment.copy(image, ValueLayout.JAVA_BYTE, fileAt[i] + (offset - start[i]), dst, at, n);
            } else {
                // A hole up to the next piece: zeros, as in the replayed file.
                long next = i + 1 < start.length ? start[i + 1] : Long.MAX_VALUE;
                n = (int) Math.min(count, next - offset);
                Arrays.fill(dst, at, at + n, (byte) 0);
            }
            offset += n;
            at += n;
            count -= n;
        }
    }

    @Override
    public MemorySegment slice(long offset, long count) {
        check(offset, count, "slice");
        int i = piece(offset);
        if (i >= 0 && offset + count <= start[i] + length[i]) return image.asSlice(fileAt[i] + (offset - start[i]), count);
        byte[] b = new byte[Math.toIntExact(count)];
        copy(offset, b, 0, b.length, "slice");
        return MemorySegment.ofArray(b);
    }
}
