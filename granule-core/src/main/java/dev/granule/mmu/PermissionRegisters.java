package dev.granule.mmu;

/**
 * The Armv8.9 registers beside {@link Registers} that decide stage-1 EL1&amp;0 access rights:
 * permission indirection (FEAT_S1PIE) and permission overlays (FEAT_S1POE).
 *
 * <p>A CPU without FEAT_TCR2, S1PIE or S1POE (ID_AA64MMFR3_EL1) ignores them, as it would find the
 * fields RES0: {@link TranslationRegime} reads them only where the CPU has the feature. For the EL2&amp;0
 * regime the same record holds TCR2_EL2, PIR_EL2, PIRE0_EL2, POR_EL2 and POR_EL0 (TCR2_EL2 has
 * TCR2_EL1's layout when HCR_EL2.E2H is 1).
 *
 * @param tcr2   TCR2_EL1 (PIE [1], E0POE [2], POE [3], AIE [4], D128 [5], HAFT [11], DisCH0/1 [15:14],
 *               A2 [16], FNG0 [17], FNG1 [18] are read)
 * @param pir    PIR_EL1: the privileged rights of each PIIndex
 * @param pire0  PIRE0_EL1: the unprivileged rights of each PIIndex
 * @param porEl1 POR_EL1: the privileged overlay of each POIndex (TCR2_EL1.POE)
 * @param porEl0 POR_EL0: the unprivileged overlay of each POIndex (TCR2_EL1.E0POE)
 */
public record PermissionRegisters(long tcr2, long pir, long pire0, long porEl1, long porEl0) {

    /** TCR2_EL1 = 0: direct AP/UXN/PXN permissions, no overlays (what a CPU before Armv8.9 does). */
    public static final PermissionRegisters NONE = new PermissionRegisters(0, 0, 0, 0, 0);
}
