package dev.granule.mmu;

import dev.granule.format.Shareability;

/** The outcome of one stage-1 translation: an output address, or the architectural fault. */
public sealed interface Translation {

    long va();

    /**
     * @param pa          output address
     * @param level       level of the leaf (3 for a page)
     * @param leafSize    bytes the leaf descriptor maps
     * @param contiguous  whether the leaf is part of a Contiguous run
     * @param mairAttr    the MAIR_EL1 byte AttrIndx selects
     * @param memoryType  its decoding
     * @param shareability from the descriptor (or TCR.SHn with TCR.DS=1)
     * @param global      nG = 0
     * @param asid        the ASID a non-global translation is tagged with
     */
    record Translated(long va, long pa, int level, long leafSize, boolean contiguous, int mairAttr,
                      MemoryType memoryType, Shareability shareability, boolean global, int asid) implements Translation {}

    /**
     * @param type   the fault kind
     * @param level  the lookup level the fault is reported at
     * @param detail why, in words, for people reading a trace
     */
    record Fault(long va, FaultType type, int level, String detail) implements Translation {
        @Override
        public String toString() {
            return type + " fault, level " + level + " (" + detail + ")";
        }
    }
}
