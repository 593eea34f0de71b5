package dev.granule.mmu.oracle;

import dev.granule.geometry.Granule;
import dev.granule.mmu.Registers;

import java.util.List;

/**
 * One register setting and the probes asked under it.
 *
 * @param registers TCR/TTBR0/TTBR1/MAIR/SCTLR_EL1 (PSTATE.PAN comes from each probe's AT op)
 * @param lower     granule of the TTBR0 half (TG0 as the CPU resolves it)
 * @param upper     granule of the TTBR1 half
 * @param probes    the addresses and AT instructions
 * @param summary   what the case exercises, for reports
 */
public record OracleCase(Registers registers, Granule lower, Granule upper, List<Probe> probes, String summary) {

    public record Probe(long va, AtOp op) {}

    public Granule granuleOf(long va) {
        return (va >>> 55 & 1) == 0 ? lower : upper;
    }
}
