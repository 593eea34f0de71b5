package dev.granule.impact;

/**
 * One mapping of a process as /proc/PID/smaps describes it.
 *
 * @param start     first address
 * @param end       address after the last byte
 * @param perms     "r-xp" and the like
 * @param path      backing file or pseudo-name ([heap], [stack], ...), empty for anonymous memory
 * @param rssBytes  Rss: resident bytes
 * @param anonBytes Anonymous: resident bytes not backed by a file page
 */
public record Vma(long start, long end, String perms, long inode, String path, long rssBytes, long anonBytes) {

    public long size() { return end - start; }

    /** File-backed unless it has no inode (anonymous, heap, stack, vdso...). */
    public boolean fileBacked() { return inode != 0; }
}
