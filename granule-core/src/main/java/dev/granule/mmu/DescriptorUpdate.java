package dev.granule.mmu;

import dev.granule.format.Descriptor;
import dev.granule.table.Slot;

/**
 * A hardware update of a stage-1 descriptor: a leaf's Access flag or dirty state (HA/HD), a table's
 * Access flag (FEAT_HAFT), in either descriptor size. The update is a write of the descriptor
 * (CreateAccDescTTEUpdate): under stage 2, AArch64.S1Translate first translates the descriptor's IPA
 * for that write, which needs stage-2 write permission (S2AP[1], or stage 2's DBM) and may fault at
 * stage 2 with S1PTW. One place for the three walks (the 64-bit leaf and table, the VMSAv9-128 table).
 */
final class DescriptorUpdate {

    private DescriptorUpdate() {}

    /**
     * Writes {@code lo} as the low word of the descriptor {@code d} read from {@code slot} (its high
     * word kept); false, writing nothing, where stage 2 refuses the write ({@code stage2Walker.fault()}
     * says why). {@code stage2Walker} is null without stage 2; {@code ipa} is the descriptor's address.
     */
    static boolean write(Descriptor d, Slot slot, long lo, Stage2Walker stage2Walker, long va, long ipa, int el) {
        if (stage2Walker != null && stage2Walker.walk(va, ipa, Access.WRITE, el, true) == null) return false;
        d.set(lo, d.hi());
        slot.write(d);
        return true;
    }
}
