/**
 * granule's library: arm64 translation geometries chosen at start-up, the page-table engine, the MMU
 * and TLB model, kernel memory dumps and the page-size impact model. Every package is API; the
 * per-geometry walk and leaf writer classes are package-private inside {@code dev.granule.table} and
 * defined as hidden classes in that package at run time (no reflection from outside is needed).
 */
module dev.granule.core {
    // zstd-compressed traces and LZO/snappy/zstd kdump pages; the jar names no module, so its
    // name comes from the file name (aircompressor-2.0.2.jar).
    requires aircompressor;

    exports dev.granule.geometry;
    exports dev.granule.memory;
    exports dev.granule.format;
    exports dev.granule.table;
    exports dev.granule.mmu;
    exports dev.granule.dump;
    exports dev.granule.impact;
    exports dev.granule.impact.trace;
}
