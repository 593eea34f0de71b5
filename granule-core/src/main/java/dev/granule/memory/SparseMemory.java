package dev.granule.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writable physical memory that exists only where it has been written: off-heap 64 KiB chunks
 * allocated on first write, so a model of a 52-bit PA space costs what its tables cost.
 *
 * <p>Lookups go through a direct-mapped cache of chunk handles before the hash map, so a walk
 * over tables that fit the cache costs two array loads and a compare per descriptor read. RAM
 * ranges must be 64 KiB aligned so that a chunk is either wholly RAM or wholly not.
 */
public final class SparseMemory implements PhysicalMemory {

    public static final int CHUNK_SHIFT = 16;
    public static final long CHUNK_SIZE = 1L << CHUNK_SHIFT;
    private static final long CHUNK_MASK = CHUNK_SIZE - 1;
    private static final int CACHE_SIZE = 1024;

    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Shared by every untouched chunk; read-only so a bug cannot write through it. */
    private static final MemorySegment ZERO = Arena.global().allocate(CHUNK_SIZE, CHUNK_SIZE).asReadOnly();

    private final Arena arena;
    private final List<MemoryRange> ranges;
    private final Map<Long, MemorySegment> chunks = new HashMap<>();
    private final long[] cacheKey = new long[CACHE_SIZE];
    private final MemorySegment[] cacheSegment = new MemorySegment[CACHE_SIZE];

    private SparseMemory(List<MemoryRange> ranges, Arena arena) {
        this.arena = arena;
        List<MemoryRange> sorted = new ArrayList<>(ranges);
        sorted.sort(null);
        for (int i = 0; i < sorted.size(); i++) {
            MemoryRange r = sorted.get(i);
            if ((r.base() & CHUNK_MASK) != 0 || (r.size() & CHUNK_MASK) != 0) {
                throw new IllegalArgumentException("RAM range " + r + " must be 64 KiB aligned in base and size");
            }
            if (i > 0 && sorted.get(i - 1).overlaps(r)) {
                throw new IllegalArgumentException("RAM ranges " + sorted.get(i - 1) + " and " + r + " overlap");
            }
        }
        if (sorted.isEmpty()) throw new IllegalArgumentException("at least one RAM range is required");
        this.ranges = List.copyOf(sorted);
        Arrays.fill(cacheKey, -1L);
    }

    /** RAM in the given ranges, usable from any thread (access is not synchronised: the caller orders it). */
    public static SparseMemory of(MemoryRange... ranges) {
        return new SparseMemory(List.of(ranges), Arena.ofShared());
    }

    public static SparseMemory of(List<MemoryRange> ranges) {
        return new SparseMemory(ranges, Arena.ofShared());
    }

    /** RAM covering the whole space below {@code 1 << paBits}, usable from any thread. */
    public static SparseMemory ofPaBits(int paBits) {
        return new SparseMemory(List.of(paRange(paBits)), Arena.ofShared());
    }

    /**
     * RAM in the given ranges for the creating thread only, for short-lived models (an impact
     * analysis builds three, a fuzzer one per input): closing a shared arena is a handshake with
     * every thread of the JVM, a confined one's is not. Long-lived memory that is walked should be
     * {@link #of}: in WalkBenchmark a 5-level walk over confined memory measured 45 ns against 36 ns
     * over shared memory (the owner-thread check on every access).
     */
    public static SparseMemory confined(MemoryRange... ranges) {
        return new SparseMemory(List.of(ranges), Arena.ofConfined());
    }

    /** {@link #confined} RAM covering the whole space below {@code 1 << paBits}. */
    public static SparseMemory confinedOfPaBits(int paBits) {
        return new SparseMemory(List.of(paRange(paBits)), Arena.ofConfined());
    }

    private static MemoryRange paRange(int paBits) {
        if (paBits < 17 || paBits > 62) throw new IllegalArgumentException("paBits must be 17..62, was " + paBits);
        return new MemoryRange(0, 1L << paBits);
    }

    // ---- chunk lookup ---------------------------------------------------------------------------

    // The cache probe is kept this small (under HotSpot's 35-byte MaxInlineSize) so that it inlines
    // into every access even where the JIT does not count the call site hot; the miss is out of line.
    private MemorySegment chunkForRead(long pa) {
        int i = (int) (pa >>> CHUNK_SHIFT) & (CACHE_SIZE - 1);
        return cacheKey[i] == pa >>> CHUNK_SHIFT ? cacheSegment[i] : readMiss(pa);
    }

    /**
     * The chunk holding {@code pa}, read-only, once it has been written; null where it has not (its
     * reads are zeros until the first write gives it storage) or is not RAM. A written chunk keeps
     * its storage until {@link #close}, so a reader that comes back to the same tables (the MMU's
     * TLB-miss walk) may keep it and read through it, with a dependent load less than
     * {@link #readLong}'s cache probe.
     */
    public MemorySegment writtenChunk(long pa) {
        MemorySegment s = chunks.get(pa >>> CHUNK_SHIFT);
        return s == null ? null : s.asReadOnly();
    }

    private MemorySegment readMiss(long pa) {
        long c = pa >>> CHUNK_SHIFT;
        int i = (int) c & (CACHE_SIZE - 1);
        MemorySegment s = chunks.get(c);
        if (s == null) {
            if (!inRam(pa)) throw new MemoryAccessException(pa, "not RAM (RAM is " + ranges + ")");
            s = ZERO;
        }
        cacheKey[i] = c;
        cacheSegment[i] = s;
        return s;
    }

    private MemorySegment chunkForWrite(long pa) {
        MemorySegment s = chunkForRead(pa);
        if (s != ZERO) return s;
        long c = pa >>> CHUNK_SHIFT;
        s = arena.allocate(CHUNK_SIZE, CHUNK_SIZE);
        chunks.put(c, s);
        int i = (int) c & (CACHE_SIZE - 1);
        cacheKey[i] = c;
        cacheSegment[i] = s;
        return s;
    }

    private boolean inRam(long pa) {
        for (MemoryRange r : ranges) {
            if (Long.compareUnsigned(pa, r.base()) >= 0 && Long.compareUnsigned(pa, r.end()) < 0) return true;
        }
        return false;
    }

    private static void aligned(long pa, int size) {
        if ((pa & (size - 1)) != 0) {
            throw new MemoryAccessException(pa, "misaligned " + size + "-byte access");
        }
    }

    // ---- PhysicalMemory -------------------------------------------------------------------------

    @Override
    public long readLong(long pa) {
        aligned(pa, 8);
        return chunkForRead(pa).get(LONG_LE, pa & CHUNK_MASK);
    }

    @Override
    public void writeLong(long pa, long value) {
        aligned(pa, 8);
        chunkForWrite(pa).set(LONG_LE, pa & CHUNK_MASK, value);
    }

    @Override
    public int readInt(long pa) {
        aligned(pa, 4);
        return chunkForRead(pa).get(INT_LE, pa & CHUNK_MASK);
    }

    @Override
    public void writeInt(long pa, int value) {
        aligned(pa, 4);
        chunkForWrite(pa).set(INT_LE, pa & CHUNK_MASK, value);
    }

    @Override
    public void read(long pa, byte[] dst, int offset, int length) {
        while (length > 0) {
            int n = (int) Math.min(length, CHUNK_SIZE - (pa & CHUNK_MASK));
            MemorySegment.copy(chunkForRead(pa), ValueLayout.JAVA_BYTE, pa & CHUNK_MASK, dst, offset, n);
            pa += n;
            offset += n;
            length -= n;
        }
    }

    @Override
    public void write(long pa, byte[] src, int offset, int length) {
        if (!contains(pa, length)) throw new MemoryAccessException(pa, "write of " + length + " bytes leaves RAM " + ranges);
        while (length > 0) {
            int n = (int) Math.min(length, CHUNK_SIZE - (pa & CHUNK_MASK));
            MemorySegment.copy(src, offset, chunkForWrite(pa), ValueLayout.JAVA_BYTE, pa & CHUNK_MASK, n);
            pa += n;
            offset += n;
            length -= n;
        }
    }

    @Override
    public void fill(long pa, long length, byte value) {
        if (!contains(pa, length)) throw new MemoryAccessException(pa, "fill of " + length + " bytes leaves RAM " + ranges);
        while (length > 0) {
            long n = Math.min(length, CHUNK_SIZE - (pa & CHUNK_MASK));
            MemorySegment s = chunkForRead(pa);
            if (!(s == ZERO && value == 0)) {
                chunkForWrite(pa).asSlice(pa & CHUNK_MASK, n).fill(value);
            }
            pa += n;
            length -= n;
        }
    }

    @Override
    public boolean contains(long pa, long length) {
        if (length < 0) return false;
        for (MemoryRange r : ranges) {
            if (r.contains(pa, length)) return true;
        }
        return false;
    }

    @Override
    public List<MemoryRange> ranges() { return ranges; }

    @Override
    public boolean isReadOnly() { return false; }

    @Override
    public void close() {
        chunks.clear();
        Arrays.fill(cacheKey, -1L);
        Arrays.fill(cacheSegment, null);
        arena.close();
    }

    // ---- statistics and snapshots ---------------------------------------------------------------

    /** Chunks that have been written (backing storage in use). */
    public int touchedChunks() { return chunks.size(); }

    public long backingBytes() { return (long) chunks.size() * CHUNK_SIZE; }

    /**
     * A copy of every non-zero chunk, for checking that a failed operation changed no byte.
     * Equal snapshots mean byte-identical memory.
     */
    public Snapshot snapshot() {
        TreeMap<Long, byte[]> copy = new TreeMap<>();
        for (Map.Entry<Long, MemorySegment> e : chunks.entrySet()) {
            MemorySegment s = e.getValue();
            if (s.mismatch(ZERO) >= 0) copy.put(e.getKey() << CHUNK_SHIFT, s.toArray(ValueLayout.JAVA_BYTE));
        }
        return new Snapshot(copy);
    }

    /** Non-zero 64 KiB chunks by base address. */
    public record Snapshot(TreeMap<Long, byte[]> chunks) {
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Snapshot other) || !chunks.keySet().equals(other.chunks.keySet())) return false;
            for (var e : chunks.entrySet()) {
                if (!Arrays.equals(e.getValue(), other.chunks.get(e.getKey()))) return false;
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 0;
            for (var e : chunks.entrySet()) h = 31 * h + Long.hashCode(e.getKey()) ^ Arrays.hashCode(e.getValue());
            return h;
        }

        /** First differing address against {@code other}, or -1 if identical; for failure messages. */
        public long firstDifference(Snapshot other) {
            var keys = new java.util.TreeSet<Long>(chunks.keySet());
            keys.addAll(other.chunks.keySet());
            for (long k : keys) {
                byte[] a = chunks.getOrDefault(k, new byte[(int) CHUNK_SIZE]);
                byte[] b = other.chunks.getOrDefault(k, new byte[(int) CHUNK_SIZE]);
                int m = Arrays.mismatch(a, b);
                if (m >= 0) return k + m;
            }
            return -1;
        }

        @Override
        public String toString() { return "Snapshot[" + chunks.size() + " non-zero chunks]"; }
    }
}
