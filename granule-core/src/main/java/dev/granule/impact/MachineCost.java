package dev.granule.impact;

import dev.granule.geometry.Geometry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a page size costs the whole machine outside its processes, counted as Linux counts it.
 *
 * <ul>
 *   <li>{@code memmap}: the {@code struct page} array (vmemmap): one {@code struct page} per page
 *       frame of RAM, {@code RAM / PAGE_SIZE * sizeof(struct page)}; the size from VMCOREINFO's
 *       {@code SIZE(page)} or the kernel's 64 bytes (arm64 without debug options).
 *   <li>{@code linearMap}: the tables below the root ({@code swapper_pg_dir}, there whatever the
 *       mapping) that map RAM in the linear map: with the largest blocks the level allows
 *       ({@link Geometry#blockAllowed}) as arm64's {@code map_mem} does by default, and with pages
 *       only as with {@code rodata=full} (also debug_pagealloc, kfence), which sets
 *       NO_BLOCK_MAPPINGS and NO_CONT_MAPPINGS. RAM is taken as one range aligned to the largest
 *       block, as memstart's alignment gives it on machines with block-aligned DRAM.
 *   <li>{@code pageCache}: file bytes rounded up to whole pages, as the page cache holds a file
 *       ({@link PageCacheScan}); only when files were scanned.
 * </ul>
 *
 * @param geometry           the geometry's label
 * @param ramBytes           RAM counted
 * @param structPageBytes    sizeof(struct page)
 * @param memmapBytes        the struct page array
 * @param linearMapBytes     linear-map tables with block mappings
 * @param linearMapRodataFullBytes linear-map tables with pages only (rodata=full)
 * @param pageCacheFileBytes the scanned files' bytes (0 if none were scanned)
 * @param pageCacheBytes     the same rounded up to whole pages per file
 */
public record MachineCost(String geometry, long ramBytes, int structPageBytes, long memmapBytes, long linearMapBytes,
                          long linearMapRodataFullBytes, long pageCacheFileBytes, long pageCacheBytes) {

    /** sizeof(struct page) on arm64 kernels without debug options (include/linux/mm_types.h). */
    public static final int DEFAULT_STRUCT_PAGE = 64;

    public static MachineCost of(Geometry g, long ramBytes, int structPageBytes, PageCacheScan.Result pageCache) {
        if (ramBytes < 0 || structPageBytes < 1) throw new IllegalArgumentException("RAM " + ramBytes + ", struct page " + structPageBytes);
        long frames = ramBytes >>> g.pageShift();
        return new MachineCost(g.label(), ramBytes, structPageBytes, frames * structPageBytes,
                linearMapTables(g, ramBytes, true), linearMapTables(g, ramBytes, false),
                pageCache == null ? 0 : pageCache.fileBytes(), pageCache == null ? 0 : pageCache.rounded(g.pageSize()));
    }

    /**
     * Bytes of the tables below the root that map {@code [0, ram)} (RAM rounded down to whole
     * pages). With blocks, greedily: the largest block level first, then smaller leaves for the
     * rest. A level-L table exists per distinct {@code va >> shift(L - 1)} over the part mapped with
     * leaves at level L or deeper, which is a suffix {@code [from, ram)} of the range.
     */
    static long linearMapTables(Geometry g, long ram, boolean blocks) {
        ram &= g.pageMask();
        if (ram == 0) return 0;
        // from[L]: where the part mapped with leaves at level >= L begins.
        long[] from = new long[4 - g.startLevel() + 1];
        long pos = 0;
        for (int level = g.startLevel(); level <= 3; level++) {
            boolean leafHere = level == 3 || (blocks && g.blockAllowed(level));
            from[level - g.startLevel()] = pos;
            if (leafHere) pos += (ram - pos) / g.entrySpan(level) * g.entrySpan(level);
        }
        long bytes = 0;
        for (int level = g.startLevel() + 1; level <= 3; level++) {
            long start = from[level - g.startLevel()];
            if (start >= ram) continue;
            int shift = g.shift(level - 1);
            bytes += (((ram - 1) >>> shift) - (start >>> shift) + 1) * g.tableBytes(level);
        }
        return bytes;
    }

    /** The {@code SIZE(page)=N} line of a VMCOREINFO text (as /proc/vmcore's note or granule dump info shows it), or -1. */
    public static int structPageFromVmcoreinfo(Path file) throws IOException {
        try (BoundedLineReader in = new BoundedLineReader(Files.newInputStream(file), file.toString(), 4096, 1 << 20)) {
            for (String line; (line = in.readLine()) != null; ) {
                String t = line.strip();
                if (t.startsWith("SIZE(page)=")) {
                    try {
                        int n = Integer.parseInt(t.substring("SIZE(page)=".length()).strip());
                        if (n < 1 || n > 4096) throw new NumberFormatException();
                        return n;
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(file + ":" + in.lineNumber() + ": SIZE(page) must be a byte count"
                                + " from 1 to 4096: '" + t + "'");
                    }
                }
            }
        }
        return -1;
    }
}
