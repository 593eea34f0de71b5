package dev.granule.mmu;

/** The access check both MMU models share, over the {@link Tlb} permission bits R/W/X at EL0/PL0 and EL1/PL1. */
final class Permissions {

    private Permissions() {}

    /**
     * Whether {@code perms} allow {@code access} at exception/privilege level {@code el} (0 or 1).
     * With PSTATE.PAN, a privileged data access to memory the unprivileged level can reach faults
     * (or that is marked {@link Tlb#PAN}: see there).
     */
    static boolean permitted(int perms, Access access, int el, boolean pan) {
        // Tlb keeps R, W, X for EL0 in bits 0..2 and for EL1 in bits 3..5, in Access's order: one
        // shift picks the bit (this is the TLB-hit path; a switch would index a lookup table).
        if (el != 0 && pan && access != Access.EXECUTE && (perms & (Tlb.R0 | Tlb.W0 | Tlb.PAN)) != 0) return false;
        return (perms & (Tlb.R0 << (access.ordinal() + (el == 0 ? 0 : 3)))) != 0;
    }
}
