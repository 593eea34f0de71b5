package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.format.Descriptor;

/**
 * One leaf of a translation table as a walk found it.
 *
 * @param va         first virtual address the leaf maps
 * @param pa         output address
 * @param size       bytes one descriptor maps at {@code level}
 * @param level      translation level of the leaf (3 for pages)
 * @param attributes decoded attributes
 * @param contiguous whether the Contiguous bit is set
 * @param descriptor the raw descriptor, for bits the typed model leaves out
 */
public record Mapping(long va, long pa, long size, int level, Attributes attributes, boolean contiguous,
                      Descriptor descriptor) {

    public long lastVa() { return va + size - 1; }

    /** Physical address of {@code address} inside this leaf. */
    public long translate(long address) { return pa + (address - va); }

    public boolean isBlock() { return level < 3; }
}
