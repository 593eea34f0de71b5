package dev.granule.table;

/**
 * Restrictions on the leaves {@code map} may choose, named after the flags of Linux's
 * {@code __create_pgd_mapping} (arch/arm64/mm/mmu.c), used where a kernel must be able to change
 * single pages later (rodata=full, debug_pagealloc, KFENCE).
 */
public enum MapFlag {
    /** Only last-level pages, no block descriptors. */
    NO_BLOCK_MAPPINGS,
    /** Never set the Contiguous bit. */
    NO_CONT_MAPPINGS
}
