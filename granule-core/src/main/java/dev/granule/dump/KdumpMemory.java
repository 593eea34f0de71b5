package dev.granule.dump;

import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.PageNotInDumpException;
import dev.granule.memory.PageState;
import dev.granule.memory.ReadOnlyMemory;
import io.airlift.compress.Decompressor;
import io.airlift.compress.lzo.LzoDecompressor;
import io.airlift.compress.snappy.SnappyDecompressor;
import io.airlift.compress.zstd.ZstdDecompressor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The physical memory of a {@link KdumpFile}: page frame {@code pfn} is the {@code block_size}
 * bytes at PA {@code pfn * block_size}; it is in the dump if the 2nd bitmap has its bit, and then its
 * page_desc is the one whose index is the number of dumped pages below it. Pages are read and
 * decompressed on demand (zlib with {@link Inflater}; LZO, snappy and zstd with aircompressor) into
 * a bounded cache ({@link #CACHE_BYTES}: 2,048 4K pages, 512 16K, 128 64K; two ways per set, the
 * older one evicted), so memory use stays at the two bitmaps plus that cache however large the dump.
 * Two ways matter: a kernel's table pages and the data pages a batch touches would collide in a
 * direct-mapped cache and be decompressed again on every walk.
 *
 * <p>{@link #ranges()} are the runs of dumped pages. A page the 1st bitmap marks as RAM but the 2nd
 * leaves out is {@link PageState#EXCLUDED}; reading it throws {@link PageNotInDumpException}.
 * Read-only and not thread-safe (the cache and codecs are reused).
 */
public final class KdumpMemory implements ReadOnlyMemory {

    static final int PAGE_DESC_SIZE = 24;
    /**
     * Bytes of decompressed pages kept: a kernel's walks touch a few hundred table pages (one per
     * 2M of linear map at level 3 for 4K), which must stay cached for batch translation.
     */
    static final int CACHE_BYTES = 8 << 20;
    /** Never fewer pages than this, whatever the page size. */
    static final int MIN_CACHE_PAGES = 64;

    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final KdumpFile file;
    private final DumpBytes bytes;
    private final int shift;
    private final int blockSize;
    private final long pages;
    /** The 2nd bitmap (pages in the dump), 64 pfns per word, and the dumped pages below each word. */
    private final long[] dumped;
    /** The 1st bitmap (pages that are RAM), as {@link #dumped}. */
    private final long[] ram;
    private final int[] rankBefore;
    private final List<MemoryRange> ranges;
    private final long[] rangeStart;
    private final long[] rangeEnd;
    /** Sets of two ways: slot {@code 2*set} and {@code 2*set+1}; {@code recent[set]} is the way used last. */
    private final int setMask;
    private final long[] cachedPfn;
    private final byte[][] cachedPage;
    private final byte[] recent;
    private final byte[] desc = new byte[PAGE_DESC_SIZE];
    private byte[] compressed;
    private Inflater inflater;
    private Decompressor lzo;
    private Decompressor snappy;
    private Decompressor zstd;

    KdumpMemory(KdumpFile file) {
        this.file = file;
        this.bytes = file.bytes();
        this.blockSize = file.header().blockSize();
        this.shift = Integer.numberOfTrailingZeros(blockSize);
        this.pages = file.pages();
        if (pages <= 0 || pages > KdumpFile.MAX_PAGES) {
            // KdumpFile.parse refuses these; the word count below is an int and must not wrap.
            throw new DumpFormatException(KdumpHeaders.OFF_MAX_MAPNR, "max_mapnr is " + Long.toUnsignedString(pages)
                    + " pages; granule reads 1 to " + KdumpFile.MAX_PAGES);
        }
        int words = (int) ((pages + 63) >>> 6);
        dumped = new long[words];
        ram = new long[words];
        rankBefore = new int[words + 1];
        readBitmap(file.bitmapOffset() + file.bitmapBytes(), dumped, "2nd bitmap");
        readBitmap(file.bitmapOffset(), ram, "1st bitmap");
        if ((pages & 63) != 0) {
            dumped[words - 1] &= (1L << (pages & 63)) - 1; // bits past max_mapnr describe nothing
            ram[words - 1] &= (1L << (pages & 63)) - 1;
        }
        int sets = Integer.highestOneBit(Math.max(MIN_CACHE_PAGES, CACHE_BYTES / blockSize) / 2);
        setMask = sets - 1;
        cachedPfn = new long[2 * sets];
        cachedPage = new byte[2 * sets][];
        recent = new byte[sets];
        List<MemoryRange> runs = new ArrayList<>();
        long runStart = -1;
        for (int w = 0; w < words; w++) {
            rankBefore[w + 1] = rankBefore[w] + Long.bitCount(dumped[w]);
            long word = dumped[w];
            if (word == 0 && runStart < 0) continue;
            if (word == -1L && runStart >= 0) continue;
            for (int b = 0; b < 64; b++) {
                long pfn = ((long) w << 6) + b;
                boolean in = (word >>> b & 1) != 0;
                if (in && runStart < 0) runStart = pfn;
                if (!in && runStart >= 0) {
                    runs.add(new MemoryRange(runStart << shift, (pfn - runStart) << shift));
                    runStart = -1;
                }
            }
        }
        if (runStart >= 0) runs.add(new MemoryRange(runStart << shift, (((long) words << 6) - runStart) << shift));
        ranges = List.copyOf(runs);
        rangeStart = new long[runs.size()];
        rangeEnd = new long[runs.size()];
        for (int i = 0; i < runs.size(); i++) {
            rangeStart[i] = runs.get(i).base();
            rangeEnd[i] = runs.get(i).end();
        }
        Arrays.fill(cachedPfn, -1);
        long last = rankBefore[words];
        if (last > 0) bytes.check(file.pageDescOffset(), last * PAGE_DESC_SIZE, "page_desc array (" + last + " dumped pages)");
    }

    private void readBitmap(long at, long[] out, String field) {
        byte[] chunk = new byte[1 << 16];
        long total = (long) out.length * 8;
        for (long done = 0; done < total; done += chunk.length) {
            int n = (int) Math.min(chunk.length, total - done);
            bytes.copy(at + done, chunk, 0, n, field);
            for (int i = 0; i < n; i += 8) {
                long v = n - i >= 8 ? (long) LONG_LE.get(chunk, i) : tail(chunk, i, n);
                out[(int) ((done + i) >>> 3)] = v;
            }
        }
    }

    private static long tail(byte[] b, int from, int to) {
        long v = 0;
        for (int i = to - 1; i >= from; i--) v = (v << 8) | (b[i] & 0xFF);
        return v;
    }

    public KdumpFile file() { return file; }

    /** Bytes per page of this dump (block_size). */
    public int pageSize() { return blockSize; }

    /** Number of pages the dump holds. */
    public long dumpedPages() { return rankBefore[dumped.length]; }

    private boolean isDumped(long pfn) {
        return pfn >= 0 && pfn < pages && (dumped[(int) (pfn >>> 6)] >>> (pfn & 63) & 1) != 0;
    }

    private boolean isRam(long pfn) {
        return pfn >= 0 && pfn < pages && (ram[(int) (pfn >>> 6)] >>> (pfn & 63) & 1) != 0;
    }

    @Override
    public PageState pageState(long pa) {
        if (pa < 0) return PageState.NOT_RAM;
        long pfn = pa >>> shift;
        if (isDumped(pfn)) return PageState.PRESENT;
        return isRam(pfn) ? PageState.EXCLUDED : PageState.NOT_RAM;
    }

    private MemoryAccessException missing(long pa) {
        long pfn = pa >>> shift;
        if (pa >= 0 && isRam(pfn)) {
            return new PageNotInDumpException(pa, String.format("not in the dump: page %#x-%#x is RAM that the dump left out "
                    + "(dump level %d)", pfn << shift, (pfn + 1) << shift, file.subHeader().dumpLevel()));
        }
        return new MemoryAccessException(pa, "not RAM in this dump");
    }

    /** The decompressed page {@code pfn}, which must be in the dump. */
    private byte[] page(long pfn) {
        int set = (int) (pfn & setMask);
        int slot = set << 1;
        if (cachedPfn[slot] == pfn) {
            recent[set] = 0;
            return cachedPage[slot];
        }
        if (cachedPfn[slot + 1] == pfn) {
            recent[set] = 1;
            return cachedPage[slot + 1];
        }
        slot += 1 - recent[set]; // the way not used last
        byte[] out = cachedPage[slot];
        if (out == null) out = cachedPage[slot] = new byte[blockSize];
        cachedPfn[slot] = -1;
        load(pfn, out);
        cachedPfn[slot] = pfn;
        recent[set] = (byte) (slot & 1);
        return out;
    }

    /** Reads page_desc for {@code pfn} and decodes its data into {@code out}. */
    private void load(long pfn, byte[] out) {
        int w = (int) (pfn >>> 6);
        long index = rankBefore[w] + Long.bitCount(dumped[w] & ((1L << (pfn & 63)) - 1));
        long descAt = file.pageDescOffset() + index * PAGE_DESC_SIZE;
        // The constructor checked that the whole page_desc array lies in the file.
        bytes.copy(descAt, desc, 0, PAGE_DESC_SIZE, "page_desc array");
        long offset = (long) LONG_LE.get(desc, 0);
        int size = (int) INT_LE.get(desc, 8);
        int flags = (int) INT_LE.get(desc, 12);
        if (size <= 0 || size > blockSize) {
            throw new DumpFormatException(descAt + 8, name(index, pfn) + ": size is " + Integer.toUnsignedString(size)
                    + ", not 1 to block_size " + blockSize);
        }
        if (offset < 0 || offset > bytes.size() || size > bytes.size() - offset) {
            throw new DumpFormatException(descAt, String.format("%s: data [%#x, +%#x) lies outside the %d-byte dump (truncated file?)",
                    name(index, pfn), offset, size, bytes.size()));
        }
        int codec = flags & (KdumpHeaders.COMPRESSED_ZLIB | KdumpHeaders.COMPRESSED_LZO | KdumpHeaders.COMPRESSED_SNAPPY
                | KdumpHeaders.COMPRESSED_ZSTD);
        if (Integer.bitCount(codec) > 1 || (flags & ~codec) != 0) {
            throw new DumpFormatException(descAt + 12, String.format("%s: flags %#x name no single known codec", name(index, pfn), flags));
        }
        if (codec == 0) {
            if (size != blockSize) {
                throw new DumpFormatException(descAt + 8, name(index, pfn) + ": an uncompressed page of " + size + " bytes, not block_size " + blockSize);
            }
            bytes.copy(offset, out, 0, blockSize, "page data"); // checked above: inside the file
            return;
        }
        if (compressed == null) compressed = new byte[blockSize];
        bytes.copy(offset, compressed, 0, size, "page data");
        int n;
        try {
            n = switch (codec) {
                case KdumpHeaders.COMPRESSED_ZLIB -> inflate(size, out);
                case KdumpHeaders.COMPRESSED_LZO -> decoder(codec).decompress(compressed, 0, size, out, 0, blockSize);
                case KdumpHeaders.COMPRESSED_SNAPPY -> decoder(codec).decompress(compressed, 0, size, out, 0, blockSize);
                default -> decoder(codec).decompress(compressed, 0, size, out, 0, blockSize);
            };
        } catch (DataFormatException | RuntimeException e) {
            // The codecs report hostile input as MalformedInputException or as an index out of bounds.
            throw new DumpFormatException(offset, String.format("%s: %s data of %d bytes does not decompress (%s)", name(index, pfn),
                    codecName(codec), size, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
        if (n != blockSize) {
            throw new DumpFormatException(offset, String.format("%s: %s data decompresses to %d bytes, not block_size %d", name(index, pfn),
                    codecName(codec), n, blockSize));
        }
    }

    /** The page_desc in error messages (formatted only on error: per page it would cost more than an LZO page). */
    private static String name(long index, long pfn) {
        return String.format("page_desc #%d (pfn %#x)", index, pfn);
    }

    private int inflate(int size, byte[] out) throws DataFormatException {
        if (inflater == null) inflater = new Inflater();
        inflater.reset();
        inflater.setInput(compressed, 0, size);
        int n = 0;
        while (n < out.length && !inflater.finished()) {
            int k = inflater.inflate(out, n, out.length - n);
            if (k == 0 && (inflater.needsInput() || inflater.needsDictionary())) break;
            n += k;
        }
        if (!inflater.finished()) throw new DataFormatException("the zlib stream does not end within the page");
        return n;
    }

    private Decompressor decoder(int codec) {
        return switch (codec) {
            case KdumpHeaders.COMPRESSED_LZO -> lzo == null ? lzo = new LzoDecompressor() : lzo;
            case KdumpHeaders.COMPRESSED_SNAPPY -> snappy == null ? snappy = new SnappyDecompressor() : snappy;
            default -> zstd == null ? zstd = new ZstdDecompressor() : zstd;
        };
    }

    static String codecName(int codec) {
        return switch (codec) {
            case KdumpHeaders.COMPRESSED_ZLIB -> "zlib";
            case KdumpHeaders.COMPRESSED_LZO -> "LZO";
            case KdumpHeaders.COMPRESSED_SNAPPY -> "snappy";
            default -> "zstd";
        };
    }

    private static void aligned(long pa, int size) {
        if ((pa & (size - 1)) != 0) throw new MemoryAccessException(pa, "misaligned " + size + "-byte access");
    }

    @Override
    public long readLong(long pa) {
        aligned(pa, 8);
        long pfn = pa >>> shift;
        if (pa < 0 || !isDumped(pfn)) throw missing(pa);
        return (long) LONG_LE.get(page(pfn), (int) (pa & (blockSize - 1)));
    }

    @Override
    public int readInt(long pa) {
        aligned(pa, 4);
        long pfn = pa >>> shift;
        if (pa < 0 || !isDumped(pfn)) throw missing(pa);
        return (int) INT_LE.get(page(pfn), (int) (pa & (blockSize - 1)));
    }

    @Override
    public void read(long pa, byte[] dst, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, dst.length);
        while (length > 0) {
            long pfn = pa >>> shift;
            if (pa < 0 || !isDumped(pfn)) throw missing(pa);
            int in = (int) (pa & (blockSize - 1));
            int n = Math.min(length, blockSize - in);
            System.arraycopy(page(pfn), in, dst, offset, n);
            pa += n;
            offset += n;
            length -= n;
        }
    }

    @Override
    public boolean contains(long pa, long length) {
        if (length < 0 || pa < 0 || pa + length < pa) return false;
        if (length > 0 && length <= (long) blockSize << 4) {
            // A table or a read of a few pages (every walk step asks): the bitmap, not a search of the runs.
            for (long pfn = pa >>> shift, last = (pa + length - 1) >>> shift; pfn <= last; pfn++) {
                if (!isDumped(pfn)) return false;
            }
            return true;
        }
        int i = Arrays.binarySearch(rangeStart, pa);
        if (i < 0) i = -i - 2;
        return i >= 0 && pa + length <= rangeEnd[i];
    }

    @Override
    public List<MemoryRange> ranges() { return ranges; }







    /** Nothing of its own to release: the file belongs to whoever mapped it. */
    @Override
    public void close() {
        if (inflater != null) inflater.end();
        inflater = null;
    }
}
