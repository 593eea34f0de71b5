package dev.granule.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.PermissionRegisters;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;

/**
 * Register decoding and translation over hostile inputs: any TCR/TTBR/MAIR/SCTLR values, any
 * TCR2/PIR/PIRE0/POR values (permission indirection and overlays; VMSAv9-128 with TCR2_EL1.D128, its
 * 128-bit TTBRs and MAIR2; AIE, HAFT, FNG0/FNG1 and A2), any CPU, any memory contents; and sometimes a
 * stage 2 under the EL1&amp;0 regime: any HCR_EL2, VTCR_EL2 (often with D128 [38]: VMSAv9-128 stage-2 tables
 * and a 128-bit VTTBR_EL2), VTTBR_EL2, S2PIR_EL2, S2POR_EL1. The same register values sometimes make an
 * EL2 regime instead: EL2 with HCR_EL2.E2H = 0 (TCR_EL2 in its own layout, TTBR0_EL2, MAIR_EL2, MAIR2_EL2,
 * TCR2_EL2/PIR_EL2/POR_EL2), accessed at EL2, or EL2&amp;0 with E2H = 1 (TCR_EL2 in TCR_EL1's layout, both
 * TTBRs with ASIDs, TCR2_EL2 with D128), accessed at EL0 and EL2; no stage 2 under them. Decoding never
 * throws; every translation is a result (an output address within the PA size, or a fault at a real
 * level) and agrees with the allocation-free path.
 */
class MmuFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyRegistersAndMemoryTranslateToAResult(FuzzedDataProvider data) {
        // A random CPU's ID_AA64MMFR1_EL1 (HAFDBS: FEAT_HAFT) and ID_AA64MMFR4_EL1 (ASID2) come from its
        // random MMFR3's upper bits, so that the committed corpus reads the same bytes as before they were added.
        CpuFeatures cpu;
        if (data.consumeBoolean()) {
            cpu = CpuFeatures.ALL;
        } else {
            long mmfr0 = data.consumeLong(), mmfr2 = data.consumeLong(), mmfr3 = data.consumeLong();
            cpu = new CpuFeatures(mmfr0, mmfr2, mmfr3, mmfr3 >>> 40, mmfr3 >>> 48);
        }
        try (SparseMemory memory = SparseMemory.confined(new MemoryRange(0, 1L << 20))) {
            long tcr = data.consumeLong();
            long ttbr0 = data.consumeBoolean() ? data.consumeLong(0, (1L << 20) - 1) : data.consumeLong();
            long ttbr1 = data.consumeBoolean() ? data.consumeLong(0, (1L << 20) - 1) : data.consumeLong();
            // The high halves of 128-bit TTBRs (read under TCR2_EL1.D128) and MAIR2_EL1 (under AIE).
            long ttbr0High = data.consumeBoolean() ? 0 : data.consumeLong();
            long ttbr1High = data.consumeBoolean() ? 0 : data.consumeLong();
            Registers r = new Registers(tcr, ttbr0, ttbr1, data.consumeLong(), data.consumeLong(), data.consumeBoolean(),
                    ttbr0High, ttbr1High, data.consumeLong());
            int words = data.consumeInt(0, 256);
            for (int i = 0; i < words; i++) {
                long pa = data.consumeLong(0, (1L << 17) - 1) * 8;
                long v = data.consumeBoolean() ? data.consumeLong()
                        : (data.consumeLong(0, (1L << 20) - 1) & -4096L) | 0b11 | (data.consumeLong() & 0xFFF0_0000_0000_0FFCL);
                memory.writeLong(pa, v);
            }
            // TCR2_EL1 mostly with the fields granule models only (PIE/E0POE/POE/AIE/D128 [5:1], HAFT [11],
            // DisCH0/1 [15:14], A2/FNG0/FNG1 [18:16]), sometimes any value; PIR/POR any.
            long tcr2 = data.consumeBoolean() ? data.consumeLong() & 0b111_1100_1000_0011_1110L : data.consumeLong();
            PermissionRegisters p = new PermissionRegisters(tcr2, data.consumeLong(), data.consumeLong(),
                    data.consumeLong(), data.consumeLong());
            TranslationRegime el10 = new TranslationRegime(r, p, cpu);
            long[] vas = new long[8];
            Access[] accesses = new Access[8];
            int[] els = new int[8];
            for (int i = 0; i < 8; i++) {
                vas[i] = data.consumeLong();
                accesses[i] = data.pickValue(Access.values());
                els[i] = data.consumeInt(0, 1);
            }
            // Stage 2 is drawn after everything else, so that the committed corpus reads the same bytes as
            // before it was added (an input that ends earlier draws none).
            Stage2Regime stage2 = null;
            if (data.consumeBoolean()) {
                long hcr = data.consumeBoolean() ? 1 : data.consumeLong();
                long vtcr = data.consumeBoolean() ? data.consumeLong() | 1L << 38 : data.consumeLong();
                long vttbr = data.consumeBoolean() ? data.consumeLong(0, (1L << 20) - 1) : data.consumeLong();
                long vttbrHigh = data.consumeBoolean() ? 0 : data.consumeLong();
                stage2 = new Stage2Regime(hcr, vtcr, vttbr, vttbrHigh, data.consumeLong(), data.consumeLong(), cpu);
            }
            // The regime kind is drawn last of all, so that an earlier input (which ends before) stays EL1&0.
            // The EL2 regimes read the register values drawn above as their _EL2 counterparts.
            TranslationRegime regime = switch (data.consumeInt(0, 2)) {
                case 1 -> TranslationRegime.el2(tcr, ttbr0, r.mair(), r.sctlr(), r.mair2(), p, cpu);
                case 2 -> TranslationRegime.el20(r, p, cpu);
                default -> el10;
            };
            if (regime != el10) {
                stage2 = null;
                // EL2 serves EL2 only; EL2&0 serves EL0 and EL2 (the drawn EL1 becomes EL2).
                for (int i = 0; i < 8; i++) els[i] = regime.kind() == TranslationRegime.Kind.EL2 || els[i] == 1 ? 2 : 0;
            }
            Mmu mmu = new Mmu(regime, stage2, memory, new Tlb(16, 2));
            // Under stage 2 the output is stage 2's, within its PA size whether stage 1 is on or off; without
            // it, stage 1 off (SCTLR_EL1.M = 0, or HCR_EL2.DC/TGE) outputs the VA, checked against the CPU's PA size.
            int paBits = mmu.stage2() != null ? mmu.stage2().paBits() : regime.paBits();
            boolean stage1Off = !regime.mmuEnabled() || stage2 != null && stage2.stage1Disabled();
            boolean bounded = mmu.stage2() != null || !stage1Off;
            for (int i = 0; i < 8; i++) {
                long va = vas[i];
                Access access = accesses[i];
                int el = els[i];
                Translation t = mmu.translate(va, access, el);
                switch (t) {
                    case Translation.Translated x -> {
                        if (paBits < 64 && (x.pa() >>> Math.max(paBits, 12)) != 0 && bounded) {
                            throw new AssertionError("PA beyond the PA size: " + x);
                        }
                    }
                    case Translation.Fault f -> {
                        if (f.level() < -2 || f.level() > 3 || f.detail() == null) throw new AssertionError(f.toString());
                    }
                }
                long pa = mmu.outputAddress(va, access, el);
                long expected = t instanceof Translation.Translated x ? x.pa() : -1;
                // A second translation may differ only where the first one's HA/HD update changed memory.
                if (pa != expected && !(t instanceof Translation.Fault)) {
                    throw new AssertionError("outputAddress 0x" + Long.toHexString(pa) + " vs " + t);
                }
            }
        }
    }
}
