package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.oracle.OracleCase;
import dev.granule.mmu.oracle.OracleCaseGenerator;
import dev.granule.table.LeafWalk;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TLB-miss path's look-up tables ({@link LeafCheckTables}) against the general leaf check, whose
 * answers QemuAtOracleTest and QemuEl2OracleTest hold to QEMU: on the oracle's random regimes and
 * damaged tables (QEMU's -cpu max features, without QEMU), in the EL1&amp;0, EL2 and EL2&amp;0
 * regimes, with PAN off and on, every probe VA for a read, write and fetch at both levels.
 * {@link Mmu#outputAddress} on a miss must answer what {@link Mmu#translate} does and leave the same
 * TLB entry (output address, rights, info, ASID) that the general walk leaves; and wherever the
 * tables answer a leaf themselves, their entry and address must be the general walk's.
 */
class LeafCheckTablesTest {

    /** ID_AA64MMFR0/2/3_EL1 of qemu-system-aarch64 10.0.2 -cpu max (FACTS.md), as CompiledMissPathTest. */
    static final CpuFeatures QEMU_MAX = new CpuFeatures(0x2100032310201126L, 0x1221011112011011L, 0x1000000000000000L);
    /**
     * QEMU_MAX with FEAT_AIE (ID_AA64MMFR3_EL1.AIE [27:24]), FEAT_ASID2 (ID_AA64MMFR4_EL1.ASID2 [11:8]) and
     * FEAT_THE (ID_AA64PFR1_EL1.THE [51:48]).
     */
    static final CpuFeatures EXTENDED = new CpuFeatures(QEMU_MAX.idAa64mmfr0(), QEMU_MAX.idAa64mmfr2(),
            QEMU_MAX.idAa64mmfr3() | 1L << 24 | 1, 0, 1L << 8, 1L << 48);
    static final long RAM_BASE = 0x4000_0000L, RAM_SIZE = 0x4000_0000L;

    @Test
    void aMissCachesWhatTheGeneralLeafCheckCaches() throws ReflectiveOperationException {
        int compared = 0, answeredByTables = 0, faults = 0, highAttrIndex = 0;
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(RAM_BASE, RAM_SIZE))) {
            OracleCaseGenerator generator = new OracleCaseGenerator(2020, QEMU_MAX, memory);
            for (int c = 0; c < 24 && generator.tablesEnd() < RAM_BASE + RAM_SIZE - (80L << 20); c++) {
                OracleCase oracleCase = generator.next(200);
                Registers r = oracleCase.registers();
                for (TranslationRegime.Kind kind : TranslationRegime.Kind.values()) {
                    for (int pan = 0; pan < 4; pan++) {
                        // pan 2 and 3: EL1&0 with TCR2_EL1.AIE (AttrIndx[3] in bit 59, MAIR2), FEAT_ASID2's
                        // FNG0 + A2 or FNG1 and FEAT_THE's PnCH, on a CPU that has them (the tables answer those
                        // leaves too); EL2 (E2H = 0) with TCR2_EL2.AIE and PnCH, the fields of its layout.
                        if (pan >= 2 && kind == TranslationRegime.Kind.EL2_0) continue;
                        var regs = new Registers(r.tcr(), r.ttbr0(), r.ttbr1(), r.mair(), r.sctlr(), (pan & 1) == 1,
                                0, 0, ~r.mair());
                        long tcr2 = TranslationRegime.TCR2_AIE | TranslationRegime.TCR2_PNCH | (pan == 2 ? TranslationRegime.TCR2_FNG0 | TranslationRegime.TCR2_A2
                                : TranslationRegime.TCR2_FNG1);
                        TranslationRegime regime = switch (kind) {
                            case EL1_0 -> pan >= 2 ? new TranslationRegime(regs, new PermissionRegisters(tcr2, 0, 0, 0, 0), EXTENDED)
                                    : new TranslationRegime(regs, QEMU_MAX);
                            case EL2_0 -> TranslationRegime.el20(regs, QEMU_MAX);
                            case EL2 -> pan >= 2 ? TranslationRegime.el2(tcrEl2(r.tcr()), r.ttbr0(), r.mair(), r.sctlr(), ~r.mair(),
                                    new PermissionRegisters(tcr2, 0, 0, 0, 0), EXTENDED)
                                    : TranslationRegime.el2(tcrEl2(r.tcr()), r.ttbr0(), r.mair(), r.sctlr(), QEMU_MAX);
                        };
                        int context = switch (kind) {
                            case EL1_0 -> 0;
                            case EL2 -> Tlb.EL2;
                            case EL2_0 -> Tlb.EL2_0;
                        };
                        Mmu fast = new Mmu(regime, memory, new Tlb(16, 4));
                        Mmu walked = new Mmu(regime, memory, new Tlb(16, 4));
                        for (var p : oracleCase.probes()) {
                            for (Access access : Access.values()) {
                                for (int level = 0; level < 2; level++) {
                                    int el = kind == TranslationRegime.Kind.EL1_0 ? level : kind == TranslationRegime.Kind.EL2 ? 2 : level * 2;
                                    if (kind == TranslationRegime.Kind.EL2 && level == 0) continue;
                                    String what = oracleCase.summary() + " " + kind + " PAN " + pan + " " + access + " EL" + el
                                            + " 0x" + Long.toHexString(p.va());
                                    fast.tlb().invalidateAll();
                                    walked.tlb().invalidateAll();
                                    long pa = fast.outputAddress(p.va(), access, el);
                                    Translation want = walked.translate(p.va(), access, el);
                                    compared++;
                                    if (!(want instanceof Translation.Translated t)) {
                                        faults++;
                                        assertThat(pa).as(what + ": " + want).isEqualTo(-1);
                                        continue;
                                    }
                                    assertThat(pa).as(what).isEqualTo(t.pa());
                                    assertSameEntry(fast.tlb(), walked.tlb(), p.va(), context, regime.asid((p.va() >>> 55 & 1) != 0), what);
                                    if (pan >= 2 && !isMairByte(r.mair(), t.mairAttr())) highAttrIndex++;   // read MAIR2: AttrIndx[3] set
                                    answeredByTables += tablesAnswer(fast, memory, p.va(), access, el, t, walked.tlb(),
                                            context, what);
                                }
                            }
                        }
                    }
                }
            }
        }
        assertThat(compared).isGreaterThan(50_000);
        assertThat(faults).isGreaterThan(5_000);
        assertThat(answeredByTables).as("misses the tables answered themselves").isGreaterThan(5_000);
        assertThat(highAttrIndex).as("AIE leaves with AttrIndx[3] set").isGreaterThan(100);
    }

    /**
     * Runs the regime's tables by hand on the compiled walk's leaf of {@code va}: 1 if they answered
     * (then their address and TLB entry must be the general walk's), 0 where they left it to the
     * general check or the regime has none.
     */
    private static int tablesAnswer(Mmu mmu, SparseMemory memory, long va, Access access, int el,
                                    Translation.Translated want, Tlb walkedTlb, int context, String what)
            throws ReflectiveOperationException {
        boolean upper = (va >>> 55 & 1) != 0;
        Field field = Mmu.class.getDeclaredField(upper ? "upperLeafTables" : "lowerLeafTables");
        field.setAccessible(true);
        LeafCheckTables tables = (LeafCheckTables) field.get(mmu);
        if (tables == null) return 0;
        TranslationRegime.Half half = upper ? mmu.regime().upper() : mmu.regime().lower();
        long paLimit = mmu.regime().paBits() == 64 ? -1L : (1L << mmu.regime().paBits()) - 1;
        LeafWalk walk = LeafWalk.compiled(half.format(), memory, half.root(), paLimit);
        long lo = walk.leaf(va);
        if (lo == 0) return 0;
        Tlb tlb = new Tlb(16, 4);
        long pa = tables.check(tlb, va, lo, walk.outputAddress(), walk.tableDescriptors(), walk.level(), access, el);
        if (pa == LeafCheckTables.GENERAL) return 0;
        assertThat(pa).as(what).isEqualTo(want.pa());
        assertSameEntry(tlb, walkedTlb, va, context, mmu.regime().asid(upper), what);
        return 1;
    }

    private static boolean isMairByte(long mair, int attr) {
        for (int i = 0; i < 8; i++) if ((int) (mair >>> 8 * i & 0xFF) == attr) return true;
        return false;
    }

    private static void assertSameEntry(Tlb got, Tlb want, long va, int context, int asid, String what) {
        int g = got.lookup(va, context, asid), w = want.lookup(va, context, asid);
        assertThat(g >= 0).as(what + ": cached").isEqualTo(w >= 0);
        if (w < 0) return;
        assertThat(got.pa(g, va)).as(what + ": entry PA").isEqualTo(want.pa(w, va));
        assertThat(got.perms(g)).as(what + ": entry rights").isEqualTo(want.perms(w));
        assertThat(got.info(g)).as(what + ": entry info").isEqualTo(want.info(w));
        assertThat(got.asid(g)).as(what + ": entry ASID").isEqualTo(want.asid(w));
    }

    /**
     * TCR_EL2 (E2H = 0) with TCR_EL1's TTBR0 fields (the Arm ARM's TCR_EL2 layout: T0SZ [5:0],
     * IRGN0/ORGN0/SH0/TG0 [15:8], PS [18:16], TBI [20], HA [21], HD [22], HPD [24], DS [32]).
     */
    private static long tcrEl2(long tcrEl1) {
        return (tcrEl1 & 0xFF3FL) | (tcrEl1 >>> 32 & 7) << 16 | (tcrEl1 >>> 37 & 1) << 20 | (tcrEl1 >>> 39 & 1) << 21
                | (tcrEl1 >>> 40 & 1) << 22 | (tcrEl1 >>> 41 & 1) << 24 | (tcrEl1 >>> 59 & 1) << 32;
    }
}
