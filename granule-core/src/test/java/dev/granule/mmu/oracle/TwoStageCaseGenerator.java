package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random two-stage cases: a stage-1 case from {@link OracleCaseGenerator} (its tables in guest RAM),
 * and a random stage 2 under it with its own granule (mixed with stage 1's), IPA size, start level
 * (concatenated root tables included), PS, DS, VMID, HCR_EL2.PTW and FWB. Stage 2 maps guest RAM to
 * itself, so that the stage-1 tables are found at their IPAs, sometimes with attributes that make
 * every stage-1 table read fault (no access, AF = 0, Device with PTW, unmapped); and it maps the
 * IPAs the probes' stage-1 walks end at, most of them, to random PAs with random S2AP, MemAttr, XN,
 * AF and SH, at random levels.
 *
 * <p>Stage-2 tables are written by hand here, not by the engine: the start level comes from
 * VTCR_EL2.SL0 and may be a run of concatenated tables, which the engine does not build.
 */
final class TwoStageCaseGenerator {

    /** VTCR_EL2 bit 31 is RES1. */
    static final long VTCR_RES1 = 1L << 31;
    static final long HCR_VM = 1, HCR_PTW = 1L << 2, HCR_DC = 1L << 12, HCR_FWB = 1L << 46;
    static final long AF = 1L << 10;
    static final int NC = 0b0100;

    /**
     * @param stage1 the stage-1 registers and probes (ops rewritten to S12 or S1 ones)
     * @param hcr    HCR_EL2 (RW, VM, maybe PTW and FWB)
     */
    record Case(OracleCase stage1, long hcr, long vtcr, long vttbr, Granule stage2Granule, String summary) {}

    private final OracleCaseGenerator s1;
    private final Random random;
    private final CpuFeatures cpu;
    private final SparseMemory memory;

    TwoStageCaseGenerator(long seed, CpuFeatures cpu, SparseMemory memory) {
        this.s1 = new OracleCaseGenerator(seed, cpu, memory);
        this.random = s1.random();
        this.cpu = cpu;
        this.memory = memory;
    }

    long tablesEnd() { return s1.tablesEnd(); }

    Case next(int probes) {
        OracleCase base = s1.next(probes);
        Granule g = Granule.values()[random.nextInt(3)];
        if (!cpu.supports(g)) g = Granule.FOUR_K;
        boolean ds = g != Granule.SIXTY_FOUR_K && cpu.supportsLpa2(g) && random.nextInt(3) == 0;
        int ps = pick(5, 5, 6, 6, 2, 3, 4, 7);
        int ipaBits = pick(32, 36, 40, 40, 42, 44, 48, 48, 52, 33, 38);
        boolean wide = ds || (g == Granule.SIXTY_FOUR_K && cpu.supportsLva());
        if (ipaBits > 48 && !wide) ipaBits = 48;
        int[] sl = startLevelEncoding(g, ipaBits, ds);
        long vtcr = VTCR_RES1 | (64 - ipaBits) | (long) sl[0] << 6 | (long) (ds ? pick(0, 2, 3) : random.nextInt(4)) << 12
                | (long) random.nextInt(16) << 8 | (long) g.tg0() << 14 | (long) ps << 16 | (long) random.nextInt(2) << 19
                | (ds ? 1L << 32 : 0) | (long) sl[1] << 33;
        long hcr = QemuAt.HCR_RW | HCR_VM | (random.nextInt(3) == 0 ? HCR_PTW : 0)
                | (random.nextInt(4) == 0 ? HCR_FWB : 0);
        // HCR_EL2.DC now and then: EL1&0 stage 1 off (flat, Normal WB by default). Not TGE: QEMU
        // 10.0.2's AT S1E1*/S12E1* from EL2 walk stage 1 under TGE, where AArch64.S1Enabled turns it
        // off for the EL1&0 regime (HcrDcTgeTest has the architecture's answer).
        if (random.nextInt(12) == 0) hcr |= HCR_DC;
        Stage2Regime draft = new Stage2Regime(hcr, vtcr, 0, cpu);
        long rootBytes = draft.invalidReason() != null ? 64 : draft.rootEntries() * 8;
        long root = s1.allocate(Math.max(rootBytes, 64), Math.max(rootBytes, 64));
        long vmid = random.nextLong() & 0xFFFF;
        long vttbr = baddr(root, draft) | vmid << 48;
        Stage2Regime regime = new Stage2Regime(hcr, vtcr, vttbr, cpu);
        boolean fwb = (hcr & HCR_FWB) != 0;

        if (regime.invalidReason() == null) {
            mapRam(regime, fwb, (hcr & HCR_PTW) != 0);
            // The IPAs the probes' stage-1 walks end at: map most of them.
            int transientLevels = transientWriteBack(base.registers().mair());
            TranslationRegime s1Regime = new TranslationRegime(base.registers(), cpu);
            Mmu stage1 = new Mmu(s1Regime, memory, new Tlb(16, 4));
            for (var p : base.probes()) {
                if (random.nextInt(10) >= 7) continue;
                stage1.tlb().invalidateAll();
                if (stage1.translate(p.va(), Access.READ, 1) instanceof Translation.Translated t) {
                    mapIpa(regime, t.pa(), fwb, transientLevels);
                }
            }
        }
        List<OracleCase.Probe> list = new ArrayList<>(base.probes().size());
        for (var p : base.probes()) {
            AtOp op = random.nextInt(10) < 7 ? AtOp.values()[8 + random.nextInt(4)] : p.op();
            list.add(new OracleCase.Probe(p.va(), op));
        }
        OracleCase stage1 = new OracleCase(base.registers(), base.lower(), base.upper(), list, base.summary());
        String summary = String.format("HCR=0x%x VTCR=0x%x VTTBR=0x%x (stage 2 %s/%d-bit IPA, start level %d x%d, PS %d%s) over %s",
                hcr, vtcr, vttbr, regime.geometry().granule(), regime.ipaBits(), regime.startLevel(),
                regime.invalidReason() != null ? 0 : regime.rootEntries() >> (regime.geometry().pageShift() - 3),
                regime.paBits(), regime.invalidReason() != null ? ", " + regime.invalidReason() : "", base.summary());
        return new Case(stage1, hcr, vtcr, vttbr, regime.geometry().granule(), summary);
    }

    /**
     * SL0 (and SL2) for a start level consistent with the IPA size (AArch64.S2InconsistentSL),
     * chosen at random among the implemented ones; one case in 25 takes any encoding.
     */
    private int[] startLevelEncoding(Granule g, int ipaBits, boolean ds) {
        if (random.nextInt(25) == 0) return new int[]{random.nextInt(4), ds && g == Granule.FOUR_K ? random.nextInt(2) : 0};
        List<int[]> ok = new ArrayList<>();
        int stride = g.pageShift() - 3;
        for (int sl2 = 0; sl2 <= (ds && g == Granule.FOUR_K ? 1 : 0); sl2++) {
            for (int sl0 = 0; sl0 < 4; sl0++) {
                long vtcr = VTCR_RES1 | (64 - ipaBits) | (long) sl0 << 6 | (long) g.tg0() << 14 | 6L << 16
                        | (ds ? 1L << 32 : 0) | (long) sl2 << 33;
                Stage2Regime r = new Stage2Regime(HCR_VM, vtcr, 0, cpu);
                // Concatenation wastes RAM: at most 16 root tables, and the root at most 64 KiB.
                if (r.invalidReason() == null && r.rootEntries() * 8 <= 1 << 16 && r.ipaBits() == ipaBits) {
                    ok.add(new int[]{sl0, sl2});
                }
            }
        }
        if (ok.isEmpty()) return new int[]{random.nextInt(4), 0};
        return ok.get(random.nextInt(ok.size()));
    }

    /** VTTBR_EL2.BADDR for {@code root}: BADDR[51:48] in bits [5:2] in the 52-bit forms. */
    private static long baddr(long root, Stage2Regime r) {
        boolean wide = r.geometry().lpa2() || (r.geometry().granule() == Granule.SIXTY_FOUR_K && r.paBits() == 52);
        return wide ? (root & 0x0000_FFFF_FFFF_FFC0L) | ((root >>> 48 & 0xF) << 2) : root & 0x0000_FFFF_FFFF_FFFEL;
    }

    /**
     * Guest RAM mapped to itself, mostly so that the stage-1 tables can be read, sometimes not.
     * With HCR_EL2.PTW, never as Device: QEMU 10.0.2 reports that stage-2 permission fault at level
     * 0 where the Arm ARM (AArch64.S2CheckPermissions, after the walk) gives the stage-2 leaf's level,
     * as QEMU itself does for an S2AP denial (TwoStageTest checks the architecture's answer).
     */
    private void mapRam(Stage2Regime r, boolean fwb, boolean ptw) {
        long attrs = AF | 3L << 6 | (fwb ? 0b0111L : 0b1111L) << 2 | 3L << 8; // RW, Normal WB (or stage 1's), ISH
        switch (random.nextInt(12)) {
            case 0 -> attrs &= ~AF;                        // stage-1 walks take a stage-2 access flag fault
            case 1 -> attrs &= ~(3L << 6);                 // no access: a stage-2 permission fault
            case 2 -> {                                    // Device-nGnRE: read as Normal NC without PTW
                // (nGnRnE under FWB: see the FWB Device rule in mapIpa)
                if (!ptw) attrs = attrs & ~(0xFL << 2) | (fwb ? 0b0000L : 0b0001L) << 2;
            }
            case 3 -> { return; }                          // unmapped: a stage-2 translation fault
            default -> { }
        }
        Geometry g = r.geometry();
        int level = Math.max(r.startLevel(), 1);
        while (level < 3 && (!g.blockAllowed(level) || g.entrySpan(level) > QemuAt.RAM_SIZE)) level++;
        for (long ipa = QemuAt.RAM_BASE; ipa < QemuAt.RAM_BASE + QemuAt.RAM_SIZE; ipa += g.entrySpan(level)) {
            map(r, ipa, ipa, level, attrs);
        }
    }

    /**
     * Which cache levels (bit 1 outer, bit 0 inner) some MAIR attribute gives Transient Write-Back
     * (0b01RW). With stage 2 Write-Through there, the Arm ARM's S2CombineS1AttrHints keeps stage 1's
     * transient hint (PAR.ATTR 0b00RW) and QEMU 10.0.2 drops it (0b10RW): stage 2 then never uses
     * Write-Through at that level (TwoStageTest checks the architecture's answer).
     */
    private static int transientWriteBack(long mair) {
        int levels = 0;
        for (int i = 0; i < 8; i++) {
            int attr = (int) (mair >>> (8 * i)) & 0xFF;
            if (attr == 0x08 || attr == 0x0C) levels |= 4; // Device-nGRE or -GRE, see mapIpa
            if ((attr & 0xF0) == 0) levels |= 16;          // any Device, see mapIpa
            if ((attr & 0xF0) != 0 && (attr & 0xF) == NC) levels |= 8; // Normal Inner Non-cacheable, see mapIpa
            if ((attr & 0xF0) == 0) continue; // Device
            if ((attr >>> 4 & 0b1100) == 0b0100 && (attr >>> 4 & 3) != 0) levels |= 2;
            if ((attr & 0b1100) == 0b0100 && (attr & 3) != 0) levels |= 1;
        }
        return levels;
    }

    /** A random leaf covering {@code ipa} to a random PA, unless the IPA is RAM or already mapped. */
    private void mapIpa(Stage2Regime r, long ipa, boolean fwb, int transientLevels) {
        if (r.ipaBits() < 64 && ipa >>> r.ipaBits() != 0) return;
        if (ipa >= QemuAt.RAM_BASE && ipa < QemuAt.RAM_BASE + QemuAt.RAM_SIZE) return;
        Geometry g = r.geometry();
        int level = 3 - random.nextInt(3);
        while (level < 3 && (level < r.startLevel() || !g.blockAllowed(level))) level++;
        long span = g.entrySpan(level);
        long first = ipa & -span;
        // Guest RAM stays mapped to itself (or unmapped): a leaf around another IPA keeps off it.
        if (first < QemuAt.RAM_BASE + QemuAt.RAM_SIZE && first + span > QemuAt.RAM_BASE) return;
        int paTop = Math.min(r.paBits() + (random.nextInt(20) == 0 ? 2 : 0), g.paBits());
        // 64K above 48 bits is bits [15:12], which QEMU ignores below a 52-bit PS (see OracleCaseGenerator).
        if (g.granule() == Granule.SIXTY_FOUR_K && r.paBits() < 52) paTop = Math.min(paTop, Math.max(r.paBits(), 48));
        long pa = (random.nextLong() & ((1L << paTop) - 1)) & -span;
        int[] normal = fwb ? new int[]{0b0101, 0b0110, 0b0111, 0b0111} : new int[]{0b1111, 0b1111, 0b1010, 0b0101, 0b1101, 0b0111, 0b1011};
        // QEMU 10.0.2 combines a Device type with the other stage's inner nibble even when that stage is
        // Normal: Inner Non-cacheable (0x4) there reads as Device-nGnRE. The Arm ARM
        // (S2CombineS1MemAttrs) takes the Device stage's type. So with a Normal Inner Non-cacheable
        // attribute in MAIR, stage 2 Device is nGnRnE or nGnRE only, and see below.
        int memAttr = random.nextInt(4) == 0 ? random.nextInt((transientLevels & 8) != 0 ? 2 : 4)
                : normal[random.nextInt(normal.length)];
        if (!fwb && (memAttr & 0b1100) != 0) {
            if ((transientLevels & 2) != 0 && (memAttr >>> 2) == 0b10) memAttr |= 0b0100; // outer WT -> WB
            if ((transientLevels & 1) != 0 && (memAttr & 3) == 0b10) memAttr |= 0b0001;   // inner WT -> WB
            // Stage 1 Device-nGRE/GRE over stage 2 Normal is stage 1's Device type (S2CombineS1MemAttrs);
            // QEMU 10.0.2 reports nGnRE when stage 2 is Inner Non-cacheable: no inner NC then.
            if ((transientLevels & 4) != 0 && (memAttr & 3) == 0b01) memAttr |= 0b0011;
        }
        // With FWB, stage 2 Device over stage 1 Device is the more restrictive type
        // (AArch64.S2ApplyFWBMemAttrs, S2CombineS1Device); QEMU 10.0.2 takes stage 2's. Over a MAIR
        // with Device attributes, stage-2 Device is then nGnRnE, where both answers are the same.
        if (fwb && memAttr < 4 && (transientLevels & 16) != 0) memAttr = 0;
        long attrs = (random.nextInt(10) != 0 ? AF : 0) | (long) pick(3, 3, 3, 1, 2, 0) << 6 | (long) memAttr << 2
                | (long) pick(0, 2, 3) << 8 | (long) random.nextInt(4) << 53;
        map(r, ipa & -span, pa, level, attrs);
    }

    /** Writes a leaf at {@code level}, making tables on the way; gives up where something else is. */
    private void map(Stage2Regime r, long ipa, long pa, int level, long attrs) {
        Geometry g = r.geometry();
        var f = (dev.granule.format.Vmsa64Format) r.format();   // this generator builds VMSAv8-64 stage 2 only
        var d = new dev.granule.format.Descriptor();
        long table = r.root();
        long index = (ipa >>> g.shift(r.startLevel())) & (r.rootEntries() - 1);
        for (int l = r.startLevel(); ; l++) {
            long slot = table + index * 8;
            long w = memory.readLong(slot);
            if (l == level) {
                if (w != 0) return;
                // With DS the SH bits [9:8] are OA[51:50]: withOutputAddress replaces them.
                memory.writeLong(slot, f.withOutputAddress(attrs | (level == 3 ? 3 : 1), pa, level));
                return;
            }
            if (w == 0) {
                long next = s1.allocate(g.fullTableBytes(), g.fullTableBytes());
                f.encodeTable(d, next, dev.granule.format.TableAttributes.NONE);
                memory.writeLong(slot, d.lo());
                w = d.lo();
            }
            if ((w & 3) != 3) return; // a leaf is already there
            d.set(w, 0);
            table = f.tableAddress(d);
            index = g.index(ipa, l + 1);
        }
    }

    private int pick(int... values) { return values[random.nextInt(values.length)]; }
}
