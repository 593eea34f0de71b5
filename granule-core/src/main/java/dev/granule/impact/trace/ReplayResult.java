package dev.granule.impact.trace;

/**
 * What one page size (one geometry) does with a trace on one CPU's TLBs.
 *
 * @param pageSize          "4K", "16K", "64K"
 * @param geometry          the geometry's label, e.g. "4K/48-bit VA/48-bit PA/d64"
 * @param cpu               the TLB preset, or "custom"
 * @param mapping           "pages", "contpte" or "thp": what a TLB entry covers
 * @param entryBytes        bytes one TLB entry maps (page, Contiguous run or PMD block)
 * @param accesses          accesses replayed (a lackey M is two)
 * @param instructions      instruction fetches among them (lackey I lines)
 * @param translations      TLB lookups: an access crossing an entry's boundary looks up both
 * @param l1iMisses         L1 instruction TLB misses (0 without L1s)
 * @param l1dMisses         L1 data TLB misses
 * @param l2Misses          L2 (unified) TLB misses: each one walks the tables
 * @param l2MissesPerKiloAccess  L2 misses per thousand accesses
 * @param l2MissesPerKiloInstruction  L2 misses per thousand instructions (MPKI), for traces that
 *                          have instruction fetches (lackey); 0 without
 * @param walkLevels        descriptors a walk reads without a walk cache (levels from the root to the leaf)
 * @param walkReferences    memory references of all walks without a walk cache (l2Misses x walkLevels)
 * @param walkReferencesWithWalkCache  the same with the walk cache: a hit reads only the leaf descriptor
 * @param pageFaults        first touches (demand paging maps the page, run or block then)
 * @param footprintBytes    memory the touched entries map
 * @param l1dReachBytes     bytes the L1 data TLB maps when full (0 without L1s)
 * @param l2ReachBytes      bytes the L2 TLB maps when full
 */
public record ReplayResult(String pageSize, String geometry, String cpu, String mapping, long entryBytes,
                           long accesses, long instructions, long translations,
                           long l1iMisses, long l1dMisses, long l2Misses, double l2MissesPerKiloAccess,
                           double l2MissesPerKiloInstruction,
                           int walkLevels, long walkReferences, long walkReferencesWithWalkCache,
                           long pageFaults, long footprintBytes, long l1dReachBytes, long l2ReachBytes) {}
