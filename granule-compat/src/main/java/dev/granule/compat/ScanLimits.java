package dev.granule.compat;

/**
 * Bounds that keep a scan of hostile archives finite in memory and time. Nested members are read into
 * memory (never extracted to disk), so each is bounded, and so is the sum per top-level input.
 *
 * @param maxDepth       archive layers (a compressed stream counts as one): a self-nesting archive stops here
 * @param maxMemberBytes the largest member read into memory
 * @param maxTotalBytes  bytes decompressed for one top-level input, read or skipped
 * @param maxRatio       decompressed/compressed bytes allowed per member or stream (plus 1 MiB of slack):
 *                       a zip bomb is refused after about ratio x its own size
 */
public record ScanLimits(int maxDepth, long maxMemberBytes, long maxTotalBytes, long maxRatio) {

    public static final ScanLimits DEFAULT = new ScanLimits(8, 512L << 20, 8L << 30, 200);

    static final long RATIO_SLACK = 1L << 20;

    public ScanLimits {
        if (maxDepth < 1 || maxMemberBytes < 1 || maxTotalBytes < 1 || maxRatio < 1) {
            throw new IllegalArgumentException("scan limits must be positive");
        }
    }

    long allowedOutput(long compressed) {
        long byRatio = compressed > (Long.MAX_VALUE - RATIO_SLACK) / maxRatio ? Long.MAX_VALUE : compressed * maxRatio + RATIO_SLACK;
        return Math.min(byRatio, maxTotalBytes);
    }
}
