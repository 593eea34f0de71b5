package dev.granule.impact;

import dev.granule.geometry.Granule;

/**
 * What one workload would cost with one page size.
 *
 * @param granule         the page size
 * @param virtualFile     bytes of file-backed address space after rounding mappings out to the page size
 * @param virtualAnon     the same for anonymous mappings
 * @param residentFile    resident file-backed bytes (estimate: see {@link ImpactAnalysis})
 * @param residentAnon    resident anonymous bytes (estimate)
 * @param tableBytes      page-table memory, from tables built with the engine
 * @param tlbEntries      translations a TLB needs to cover the resident set mapped with pages, as
 *                        Linux maps user memory without THP (one per leaf)
 * @param tlbEntriesBestCase the same where every aligned, fully resident span uses the largest
 *                        block or Contiguous run that fits (THP, mTHP with contpte): one entry each
 */
public record PageSizeImpact(Granule granule, long virtualFile, long virtualAnon, long residentFile, long residentAnon,
                             long tableBytes, long tlbEntries, long tlbEntriesBestCase) {

    public long resident() { return residentFile + residentAnon; }

    public long virtual() { return virtualFile + virtualAnon; }

    PageSizeImpact plus(PageSizeImpact o) {
        return new PageSizeImpact(granule, virtualFile + o.virtualFile, virtualAnon + o.virtualAnon,
                residentFile + o.residentFile, residentAnon + o.residentAnon, tableBytes + o.tableBytes,
                tlbEntries + o.tlbEntries, tlbEntriesBestCase + o.tlbEntriesBestCase);
    }
}
