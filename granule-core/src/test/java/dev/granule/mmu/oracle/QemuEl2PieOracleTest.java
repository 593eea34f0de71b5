package dev.granule.mmu.oracle;

import dev.granule.format.PermissionIndirection;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Granule;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.FaultType;
import dev.granule.mmu.IndirectPermissions;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.PermissionRegisters;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * TCR2_EL2 against QEMU 11.1 (FEAT_TCR2, S1PIE, AIE; {@link QemuPieOracleTest} says where it comes from):
 * the random, damaged tables of {@link OracleCaseGenerator} asked as the EL2 regime (HCR_EL2.E2H = 0,
 * TCR_EL2 in its own layout as {@link QemuEl2OracleTest} writes it) and as the EL2&amp;0 regime (E2H = 1),
 * each with TCR2_EL2.PIE (seven cases in eight) and random PIR_EL2/PIRE0_EL2 (Linux's PIE_E1/PIE_E0 in a
 * quarter), TCR2_EL2.AIE in half the cases with a random MAIR2_EL2, and bits 51 (PIIndex[1]) and 59
 * (AttrIndx[3] under AIE) flipped at random in the leaves. {@code at-probe-el3.S} (its TCR2 job form)
 * asks AT S1E2R/S1E2W, and in EL2&amp;0 cases with HCR_EL2.TGE also AT S1E0R/S1E0W, which the Arm ARM
 * sends to the EL2&amp;0 regime when {E2H, TGE} = {1, 1} (AT S1E0R, "Purpose"). The model
 * ({@link TranslationRegime#el2(long, long, long, long, long, PermissionRegisters, CpuFeatures)},
 * {@link TranslationRegime#el20(Registers, PermissionRegisters, CpuFeatures)}) must give PAR's PA,
 * attribute byte and shareability, or its fault kind and level.
 *
 * <p>Kept out and counted: QEMU 11.1's departure of {@link QemuPieDepartures} that reaches these regimes
 * (no nDirty check under PIE), only where QEMU's PAR is the model's answer with nDirty cleared; and the
 * large-block departure ({@link QemuLargeBlockOaTest}). Half of {@code -Dgranule.oracle.probes=N} per regime
 * and granule (10,000 by default, as {@code ./run-tests} sets it), {@code -Dgranule.oracle.seed=S}.
 */
@Tag("qemu")
class QemuEl2PieOracleTest {

    static final long HCR_E2H = 1L << 34, HCR_TGE = 1L << 27;
    /** TCR2_EL2.PIE [1] and AIE [4] (the same bits in both layouts). */
    static final long TCR2_PIE = 1L << 1, TCR2_AIE = 1L << 4;
    /** Bit 63 of at-probe-el3.S's case count: each case carries TCR2_EL2, PIR_EL2, PIRE0_EL2, MAIR2_EL2. */
    static final long TCR2_JOB = 1L << 63;

    enum Kind { EL2, EL2_0 }

    /** One generated case as an EL2 or EL2&amp;0 setting with its TCR2 registers. */
    record Case(OracleCase source, Kind kind, long tcr, long ttbr0, long ttbr1, long hcr, long tcr2, long pir,
                long pire0, long mair2) {
        TranslationRegime regime(CpuFeatures cpu) {
            Registers r = source.registers();
            PermissionRegisters p = new PermissionRegisters(tcr2, pir, pire0, 0, 0);
            return kind == Kind.EL2_0
                    ? TranslationRegime.el20(new Registers(tcr, ttbr0, ttbr1, r.mair(), r.sctlr(), false, 0, 0, mair2), p, cpu)
                    : TranslationRegime.el2(tcr, ttbr0, r.mair(), r.sctlr(), mair2, p, cpu);
        }

        Granule granuleOf(long va) { return kind == Kind.EL2 ? source.lower() : source.granuleOf(va); }

        boolean tge() { return (hcr & HCR_TGE) != 0; }

        String registers() {
            return String.format("TCR_EL2=0x%x TTBR0=0x%x TTBR1=0x%x HCR=0x%x TCR2_EL2=0x%x PIR_EL2=0x%016x"
                    + " PIRE0_EL2=0x%016x MAIR2_EL2=0x%016x", tcr, ttbr0, ttbr1, hcr, tcr2, pir, pire0, mair2);
        }
    }

    /** A probe as asked: AT S1E2R/W (el 2) or, under TGE, S1E0R/W (el 0). */
    record Ask(long va, Access access, int el) {
        int op() { return (el == 0 ? 2 : 0) | (access == Access.WRITE ? 1 : 0); }

        String name() { return "AT S1E" + el + (access == Access.WRITE ? "W" : "R"); }
    }

    @TempDir
    Path work;

    private OracleDriver oracle;
    private CpuFeatures cpu;
    private OracleDriver.Count aborts, largeBlockDepartures, noDirtyCheck, aieHierarchical, aieCases, pieCases, highAttr;
    private final int[] piIndexSeen = new int[16];

    @Test
    void el2AndEl20WithTcr2El2AgreeWithQemu() throws Exception {
        QemuAt.Target target = QemuPieOracleTest.onQemu11(QemuAt.Target.AARCH64_EL2, "QEMU EL2 PIE oracle");
        oracle = OracleDriver.start("QEMU EL2/EL2&0 TCR2_EL2 oracle", target, work, "probes", "per regime and granule");
        QemuAt.Answers id = oracle.identify(3);
        cpu = new CpuFeatures(id.id()[0], id.id()[2], id.mmfr3());
        boolean features = cpu.supportsTcr2() && cpu.supportsS1pie() && cpu.supportsAie();
        if (!features) System.out.println("SKIPPED: QEMU EL2 PIE oracle skipped: " + oracle.qemu.version()
                + " lacks FEAT_TCR2/S1PIE/AIE (ID_AA64MMFR3_EL1 = 0x" + Long.toHexString(id.mmfr3()) + ")");
        assumeTrue(features, "no FEAT_TCR2/S1PIE/AIE");
        // Half the probes per granule of the other oracles for each of the two regimes: a run the size of
        // QemuPieOracleTest's (about 40,000 probes in ./run-tests).
        int perGranule = Integer.getInteger("granule.oracle.probes", 10_000) / 2;
        aborts = oracle.count("walks ended in a synchronous external abort, taken with the expected DFSC");
        pieCases = oracle.count("cases with TCR2_EL2.PIE");
        aieCases = oracle.count("cases with TCR2_EL2.AIE");
        highAttr = oracle.count("translations whose attribute came from MAIR2_EL2 (AIE, AttrIndx[3] = 1)");
        largeBlockDepartures = oracle.departure("probes at an offset beyond the PA size in a block larger than it"
                + " (QEMU translates them, or goes on to the same leaf's Access flag or permission"
                + " fault; the Arm ARM faults; QemuLargeBlockOaTest)");
        noDirtyCheck = oracle.departure("writes kept out where QEMU 11.1 answers as if nDirty (bit 7) were 0: it does"
                + " not check nDirty under PIE (AArch64.S1CheckPermissions does; docs/translation.md)");
        aieHierarchical = oracle.departure("probes kept out where QEMU 11.1 answers as if TCR2_EL2.AIE left hierarchical"
                + " permissions on: it does not set walkparams.hpd for AIE (S1TTWParamsEL2/EL20 do; docs/translation.md)");
        for (Kind k : Kind.values()) oracle.spreadOver(Stream.of(Granule.values()).map(g -> k + " " + g).toList());

        oracle.runBatches(() -> oracle.fewest() >= perGranule, (seed, memory) -> runBatch(seed, memory, perGranule));

        oracle.finish("translations under PIE per leaf PIIndex " + java.util.Arrays.toString(piIndexSeen));
    }

    private void runBatch(long seed, SparseMemory memory, int perGranule) throws Exception {
        OracleCaseGenerator generator = new OracleCaseGenerator(seed, cpu, memory);
        Random random = new Random(~seed);
        List<Case> cases = new ArrayList<>();
        List<List<Ask>> asks = new ArrayList<>();
        generator.batch(() -> oracle.fewest() < perGranule, c -> {
            Case e = tcr2Case(c, random);
            cases.add(e);
            varyLeafBits(memory, e, random);
            List<Ask> list = new ArrayList<>();
            for (var p : c.probes()) {
                Access access = p.op().access == Access.WRITE ? Access.WRITE : Access.READ;
                list.add(new Ask(p.va(), access, e.tge() && random.nextBoolean() ? 0 : 2));
                oracle.spread(e.kind() + " " + e.granuleOf(p.va()), 1);
            }
            asks.add(list);
        });
        int total = asks.stream().mapToInt(List::size).sum();
        Translation[] model = new Translation[total];
        Translation[] departure = new Translation[total];
        Translation[] withTablePermissions = new Translation[total];
        int n = 0;
        for (int i = 0; i < cases.size(); i++) {
            Case e = cases.get(i);
            TranslationRegime regime = e.regime(cpu);
            Mmu m = new Mmu(regime, memory, new Tlb(16, 4));
            for (Ask a : asks.get(i)) {
                m.tlb().invalidateAll();
                model[n] = m.translate(a.va(), a.access(), a.el());
                departure[n] = withoutDirtyCheck(memory, m, regime, a, model[n]);
                withTablePermissions[n] = withAieTablePermissions(memory, e, a, model[n]);
                if (model[n] instanceof Translation.Translated t) {
                    long leaf = QemuPieDepartures.leafAddress(memory, regime, a.va());
                    if (regime.permissionIndirection() && leaf >= 0) piIndexSeen[IndirectPermissions.piIndex64(memory.readLong(leaf))]++;
                    if (regime.attributeIndexExtension() && leaf >= 0 && regime.attrIndex(memory.readLong(leaf)) >= 8) highAttr.add();
                }
                oracle.tally("model outcomes", e.kind() + (a.el() == 0 ? " EL0" : " EL2") + ": " + outcome(model[n]));
                n++;
            }
        }
        byte[] tables = new byte[(int) (generator.tablesEnd() - QemuAt.TABLES_BASE)];
        memory.read(QemuAt.TABLES_BASE, tables, 0, tables.length);
        QemuAt.Answers answers = oracle.qemu.ask(job(cases, asks, total), tables, total);
        n = 0;
        for (int i = 0; i < cases.size(); i++) {
            Case e = cases.get(i);
            for (Ask a : asks.get(i)) {
                QemuAt.Answer answer = answers.answer(n);
                Translation t = model[n];
                Translation relaxed = departure[n], tablePermissions = withTablePermissions[n++];
                if (answer.agreesStage1(t, par -> QemuLargeBlockDeparture.atStage1(oracle, t, par, e.regime(cpu), memory),
                        aborts, largeBlockDepartures)) continue;
                if (!answer.exception() && QemuPieDepartures.largeBlock(e.regime(cpu), t, answer.par())) {
                    // QEMU, not checking the whole output address, went on to the leaf's AF or permission fault.
                    largeBlockDepartures.add();
                    continue;
                }
                if (relaxed != null && answer.agrees(relaxed)) {
                    noDirtyCheck.add();
                    continue;
                }
                if (tablePermissions != null && answer.agrees(tablePermissions)) {
                    aieHierarchical.add();
                    continue;
                }
                oracle.mismatch(e.kind() + " " + a.name() + ": model " + outcome(t) + ", QEMU " + answer.kind(),
                        () -> String.format("%s %s VA 0x%016x: QEMU %s, model %s%n    walk %s%n    %s; case %s", e.kind(),
                                a.name(), a.va(), answer.describe(), t, walk(memory, e.regime(cpu), a.va()), e.registers(),
                                e.source().summary()));
            }
        }
        oracle.asked(cases.size(), total);
    }

    /**
     * The case as EL2 (E2H = 0) or EL2&amp;0 (E2H = 1, TGE in half of them), with TCR2_EL2.PIE in seven
     * cases of eight, AIE in half, random PIR_EL2/PIRE0_EL2 (Linux's in a quarter) and MAIR2_EL2.
     */
    private Case tcr2Case(OracleCase c, Random random) {
        Registers r = c.registers();
        long tcr2 = (random.nextInt(8) != 0 ? TCR2_PIE : 0) | (random.nextBoolean() ? TCR2_AIE : 0);
        boolean linux = random.nextInt(4) == 0;
        long pir = linux ? PermissionIndirection.LINUX.pir() : random.nextLong();
        long pire0 = linux ? PermissionIndirection.LINUX.pire0() : random.nextLong();
        long mair2 = 0;
        for (int i = 0; i < 8; i++) {
            mair2 |= (long) OracleCaseGenerator.MAIR_ATTRS[random.nextInt(OracleCaseGenerator.MAIR_ATTRS.length)] << 8 * i;
        }
        if ((tcr2 & TCR2_PIE) != 0) pieCases.add();
        if ((tcr2 & TCR2_AIE) != 0) aieCases.add();
        return random.nextBoolean()
                ? new Case(c, Kind.EL2_0, r.tcr(), r.ttbr0(), r.ttbr1(),
                        QemuAt.HCR_RW | HCR_E2H | (random.nextBoolean() ? HCR_TGE : 0), tcr2, pir, pire0, mair2)
                : new Case(c, Kind.EL2, QemuEl2OracleTest.tcrEl2Layout(r.tcr()), r.ttbr0() & 0x0000_FFFF_FFFF_FFFFL, 0,
                        QemuAt.HCR_RW, tcr2, pir, pire0, mair2);
    }

    /**
     * Flips bit 51 (DBM, PIIndex[1] under PIE) and bit 59 (PBHA[0], AttrIndx[3] under AIE) at random in
     * the leaves some probes reach: the generator sets neither. A table descriptor ignores both.
     */
    private void varyLeafBits(SparseMemory memory, Case e, Random random) {
        TranslationRegime regime = e.regime(cpu);
        for (var p : e.source().probes()) {
            if (random.nextInt(3) != 0) continue;
            long leaf = QemuPieDepartures.leafAddress(memory, regime, p.va());
            if (leaf < 0) continue;
            long flip = (random.nextBoolean() ? 1L << 51 : 0) | (random.nextBoolean() ? 1L << 59 : 0);
            memory.writeLong(leaf, memory.readLong(leaf) ^ flip);
        }
    }

    /**
     * QEMU 11.1's answer where it departs (QemuPieDepartures): a write the model denies under PIE only
     * because the leaf's nDirty bit is 1 (TCR_EL2.HA/HD stay 0 here), asked again with nDirty cleared;
     * null where that changes nothing.
     */
    private static Translation withoutDirtyCheck(SparseMemory memory, Mmu m, TranslationRegime regime, Ask a, Translation t) {
        if (!(t instanceof Translation.Fault f) || f.type() != FaultType.PERMISSION || a.access() != Access.WRITE
                || !regime.permissionIndirection()) {
            return null;
        }
        long leaf = QemuPieDepartures.leafAddress(memory, regime, a.va());
        if (leaf < 0) return null;
        long word = memory.readLong(leaf);
        if ((word & 1L << 7) == 0) return null;
        memory.writeLong(leaf, word & ~(1L << 7));
        try {
            m.tlb().invalidateAll();
            Translation relaxed = m.translate(a.va(), a.access(), a.el());
            return Par.expected(relaxed) == Par.expected(t) ? null : relaxed;
        } finally {
            memory.writeLong(leaf, word);
            m.tlb().invalidateAll();
        }
    }

    /** The descriptors a walk for {@code va} reads, start level first, for a mismatch's details. */
    private static String walk(SparseMemory memory, TranslationRegime regime, long va) {
        var half = (va >>> 55 & 1) == 0 ? regime.lower() : regime.upper();
        var g = half.geometry();
        var d = new dev.granule.format.Descriptor();
        StringBuilder b = new StringBuilder();
        long table = half.root();
        for (int level = g.startLevel(); level <= 3; level++) {
            long address = table + (g.index(va, level) << 3);
            if (!memory.contains(address, 8)) return b.append(" L").append(level).append(" outside RAM").toString();
            d.set(memory.readLong(address), 0);
            b.append(String.format(" L%d 0x%016x", level, d.lo()));
            if (half.format().kind(d, level) != dev.granule.format.DescriptorKind.TABLE || level == 3) break;
            table = half.format().tableAddress(d);
        }
        return b.toString();
    }

    /**
     * QEMU 11.1's answer where it departs under AIE without PIE: S1TTWParamsEL2/EL20 set walkparams.hpd
     * when aie is 1, so APTable/UXNTable/PXNTable are ignored; QEMU 11.1.3 keeps applying them (shown
     * with hand-built tables: an APTable[1] table over a writable page, AT S1E2W faults with TCR2_EL2.AIE
     * alone and translates with AIE and PIE or with TCR_EL2.HPD). The only outcome this changes is a
     * permission fault where the model translates, so the answer is the same registers with AIE off
     * (which applies the tables' bits) when that is a permission fault; else null.
     */
    private Translation withAieTablePermissions(SparseMemory memory, Case e, Ask a, Translation t) {
        if (!(t instanceof Translation.Translated) || (e.tcr2() & TCR2_AIE) == 0) return null;
        TranslationRegime regime = e.regime(cpu);
        if (!regime.attributeIndexExtension() || regime.permissionIndirection()) return null;
        Case withoutAie = new Case(e.source(), e.kind(), e.tcr(), e.ttbr0(), e.ttbr1(), e.hcr(), e.tcr2() & ~TCR2_AIE,
                e.pir(), e.pire0(), e.mair2());
        Translation qemu = new Mmu(withoutAie.regime(cpu), memory, new Tlb(16, 4)).translate(a.va(), a.access(), a.el());
        return qemu instanceof Translation.Fault f && f.type() == FaultType.PERMISSION ? qemu : null;
    }

    private static String outcome(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> "translated, leaf at level " + ok.level();
            case Translation.Fault f -> OracleDriver.fault(f);
        };
    }

    private static byte[] job(List<Case> cases, List<List<Ask>> asks, int probes) {
        ByteBuffer b = QemuAt.le(8 + cases.size() * 104 + probes * 16);
        b.putLong(cases.size() | TCR2_JOB);
        for (int i = 0; i < cases.size(); i++) {
            Case e = cases.get(i);
            Registers r = e.source().registers();
            b.putLong(e.tcr()).putLong(e.ttbr0()).putLong(e.ttbr1()).putLong(r.mair()).putLong(r.sctlr())
                    .putLong(e.hcr()).putLong(0).putLong(0).putLong(asks.get(i).size())
                    .putLong(e.tcr2()).putLong(e.pir()).putLong(e.pire0()).putLong(e.mair2());
            for (Ask a : asks.get(i)) b.putLong(a.va()).putLong(a.op());
        }
        return b.array();
    }
}
