package dev.granule.table;

/**
 * Writes runs of leaf descriptors into a table an edit has just allocated, compiled for one
 * geometry (see {@link Vmsa64LeafWriter}): the inner loop of a large map.
 */
interface LeafWriter {

    /**
     * Writes {@code count} leaves at {@code level} from entry {@code index} of {@code table}: each is
     * {@code template} (a leaf descriptor, type, attributes and contiguous bit set) with its output
     * address {@code pa}, {@code pa + span}, ... Writes straight to memory, with no undo record: the
     * table is one the edit allocated, which a rollback frees whole.
     */
    void writeFresh(long table, int index, long template, long pa, int count, int level);
}
