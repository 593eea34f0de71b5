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
     * @param shareability the descriptor's SH field (or TCR.SHn with TCR.DS=1); the reserved 0b01 is
     *                    taken as Non-shareable, one of the CONSTRAINED UNPREDICTABLE choices
     * @param global      nG = 0
     * @param asid        the ASID a non-global translation is tagged with
     */
    record Translated(long va, long pa, int level, long leafSize, boolean contiguous, int mairAttr,
                      MemoryType memoryType, Shareability shareability, boolean global, int asid) implements Translation {

        /**
         * The shareability the memory system uses, and PAR_EL1.SH reports: Device memory and Normal
         * Inner and Outer Non-cacheable memory are Outer Shareable whatever the descriptor says (Arm
         * ARM S1DecodeMemAttrs, PAREncodeShareability). Device includes the reserved 0b0000xxxx
         * encodings; 0x40 is Normal Non-cacheable with FEAT_XS (XS = 0). Otherwise the field.
         */
        public Shareability effectiveShareability() {
            return forcedOuterShareable(mairAttr) ? Shareability.OUTER_SHAREABLE : shareability;
        }

        /** Device or Normal Inner+Outer Non-cacheable: always Outer Shareable. */
        static boolean forcedOuterShareable(int mairAttr) {
            return (mairAttr & 0xF0) == 0 || mairAttr == 0x44 || mairAttr == 0x40;
        }
    }

    /**
     * @param type   the fault kind
     * @param level  the lookup level the fault is reported at (of the stage that faulted)
     * @param detail why, in words, for people reading a trace
     * @param stage  1, or 2 for a fault in the stage-2 translation of an IPA
     * @param s1ptw  a stage-2 fault on the IPA of a stage-1 table descriptor (PAR_EL1.PTW, ESR.S1PTW)
     * @param ipa    the IPA stage 2 was translating (HPFAR_EL2), or -1 for a stage-1 fault
     */
    record Fault(long va, FaultType type, int level, String detail, int stage, boolean s1ptw, long ipa)
            implements Translation {

        /** A stage-1 fault. */
        public Fault(long va, FaultType type, int level, String detail) {
            this(va, type, level, detail, 1, false, -1);
        }

        @Override
        public String toString() {
            return type + " fault, " + (stage == 2 ? "stage 2 " + (s1ptw ? "(stage-1 table walk) " : "") : "")
                    + "level " + level + " (" + detail + (stage == 2 ? String.format(", IPA 0x%x", ipa) : "") + ")";
        }
    }
}
