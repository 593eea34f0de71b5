package dev.granule.mmu;

/** The access check both MMU models share, over the {@link Tlb} permission bits R/W/X at EL0/PL0 and EL1/PL1. */
final class Permissions {

    private Permissions() {}

    /**
     * Whether {@code perms} allow {@code access} at exception/privilege level {@code el} (0 or 1).
     * With PSTATE.PAN, a privileged data access to memory the unprivileged level can reach faults.
     */
    static boolean permitted(int perms, Access access, int el, boolean pan) {
        if (el == 0) {
            return switch (access) {
                case READ -> (perms & Tlb.R0) != 0;
                case WRITE -> (perms & Tlb.W0) != 0;
                case EXECUTE -> (perms & Tlb.X0) != 0;
            };
        }
        if (access.isData() && pan && (perms & (Tlb.R0 | Tlb.W0)) != 0) return false;
        return switch (access) {
            case READ -> (perms & Tlb.R1) != 0;
            case WRITE -> (perms & Tlb.W1) != 0;
            case EXECUTE -> (perms & Tlb.X1) != 0;
        };
    }
}
