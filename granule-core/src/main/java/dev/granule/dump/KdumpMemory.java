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
 * The bitmaps ({@link DumpBitmap}) keep only the chunks where the file sets bits, and the runs of
 * dumped pages are answered from the 2nd bitmap ({@link DumpRuns}: two ints per chunk with a bit set besides it),
 * so a header that claims many pages while the file holds few, or a bitmap whose bits alternate,
 * costs what the file holds.
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
    /** The 2nd bitmap: pages in the dump. */
    private final DumpBitmap dumped;
    /** The 1st bitmap: pages that are RAM. */
    private final DumpBitmap ram;
    /** The runs of dumped pages, from the 2nd bitmap: {@link #ranges()}. */
    private final DumpRuns runs;
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
            // KdumpFile.parse refuses these; DumpBitmap's int chunk index and set-bit counts and DumpRuns' run counts must not wrap.
            throw new DumpFormatException(KdumpHeaders.OFF_MAX_MAPNR, "max_mapnr is " + Long.toUnsignedString(pages)
                    + " pages; granule reads 1 to " + KdumpFile.MAX_PAGES);
        }
        dumped = DumpBitmap.read(bytes, file.bitmapOffset() + file.bitmapBytes(), pages, "2nd bitmap");
        ram = DumpBitmap.read(bytes, file.bitmapOffset(), pages, "1st bitmap");
        // Before anything is sized by the dumped pages: their page_desc array must lie in the file.
        long dumpedPages = dumped.count();
        if (dumpedPages > 0) {
            bytes.check(file.pageDescOffset(), dumpedPages * PAGE_DESC_SIZE, "page_desc array (" + dumpedPages + " dumped pages)");
        }
        int sets = Integer.highestOneBit(Math.max(MIN_CACHE_PAGES, CACHE_BYTES / blockSize) / 2);
        setMask = sets - 1;
        cachedPfn = new long[2 * sets];
        cachedPage = new byte[2 * sets][];
        recent = new byte[sets];
        Arrays.fill(cachedPfn, -1);
        runs = new DumpRuns(dumped, shift);
    }

    public KdumpFile file() { return file; }

    /** Bytes per page of this dump (block_size). */
    public int pageSize() { return blockSize; }

    /** Number of pages the dump holds. */
    public long dumpedPages() { return dumped.count(); }

    private boolean isDumped(long pfn) { return dumped.get(pfn); }

    private boolean isRam(long pfn) { return ram.get(pfn); }

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
        long index = dumped.rank(pfn);
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
            // A table or a read of a few pages (every walk step asks): a bit test per page. The rest is
            // in another method, so that this one stays as small as it was for the walks' inlining.
            for (long pfn = pa >>> shift, last = (pa + length - 1) >>> shift; pfn <= last; pfn++) {
                if (!isDumped(pfn)) return false;
            }
            return true;
        }
        return containsMany(pa, length);
    }

    /** {@link #contains} for an empty extent or one of more than 16 pages. */
    private boolean containsMany(long pa, long length) {
        long first = pa >>> shift;
        if (length == 0) {
            // As a range [base, end) holds its end: pa in a run's pages or just past its last one.
            return isDumped(first) || ((pa & (blockSize - 1)) == 0 && isDumped(first - 1));
        }
        return dumped.allSet(first, ((pa + length - 1) >>> shift) + 1);
    }

    @Override
    public List<MemoryRange> ranges() { return runs; }

    /** Nothing of its own to release: the file belongs to whoever mapped it. */
    @Override
    public void close() {
        if (inflater != null) inflater.end();
        inflater = null;
    }
}
