package dev.granule.impact;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * Regular files under some directories, for the page cache's rounding: the cache holds a file in
 * whole pages, so a file of n bytes occupies {@code ceil(n / PAGE_SIZE)} pages when fully cached.
 * One walk answers every page size: files are counted by their 4 KiB page count modulo 16, which
 * is all the rounding to 16K or 64K pages depends on, so no per-file list is kept.
 * Symbolic links are not followed; unreadable directories are skipped; at most
 * {@link #MAX_FILES} files are counted.
 */
public final class PageCacheScan {

    public static final long MAX_FILES = 50_000_000;

    /** Files scanned, their bytes, and how many fall in each 4 KiB page count modulo 16 (for rounding to 16K and 64K). */
    public record Result(long files, long fileBytes, long pages4k, long[] byPages4kMod16) {

        /** Bytes the files take in whole pages of {@code pageSize} (4K, 16K or 64K). */
        public long rounded(long pageSize) {
            if (pageSize == 4096) return pages4k << 12;
            int per = (int) (pageSize >>> 12); // 4 or 16 base pages per page
            // A file of p 4K pages takes ceil(p / per) pages: p 4K pages plus (per - p % per) % per more.
            long extra = 0;
            for (int m = 0; m < 16; m++) extra += byPages4kMod16[m] * ((per - m % per) % per);
            return (pages4k + extra) << 12;
        }
    }

    private PageCacheScan() {}

    public static Result scan(List<Path> roots) throws IOException {
        long[] counts = new long[3];
        long[] mod = new long[16];
        for (Path root : roots) {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes a) {
                    if (!a.isRegularFile()) return FileVisitResult.CONTINUE;
                    if (counts[0] == MAX_FILES) {
                        throw new InputLimitException(root + ": more than the limit of " + MAX_FILES + " files to scan");
                    }
                    long pages = (a.size() + 4095) >>> 12;
                    counts[0]++;
                    counts[1] += a.size();
                    counts[2] += pages;
                    mod[(int) (pages & 15)]++;
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE; // unreadable: not counted
                }
            });
        }
        return new Result(counts[0], counts[1], counts[2], mod);
    }
}
