package dev.granule.mmu.oracle;

import dev.granule.format.PermissionIndirection;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Granule;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.FaultType;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.PermissionRegisters;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Permission indirection checked against an executable oracle: QEMU 11's {@code -cpu max} has
 * FEAT_TCR2, FEAT_S1PIE and FEAT_S2PIE (QEMU 10, the other oracles' platform, has neither), so the
 * random cases of {@link OracleCaseGenerator} and {@link TwoStageCaseGenerator} are asked again with
 * TCR2_EL1.PIE and random PIR_EL1/PIRE0_EL1 (a quarter of the cases Linux's own PIE_E1/PIE_E0), and
 * over stage 2 with VTCR_EL2.S2PIE and a random S2PIR_EL2, by the same AT probe ({@code at-probe.S},
 * its TCR2/PIE job form) and compared with {@link Mmu} as {@link QemuAtOracleTest} and
 * {@link QemuTwoStageOracleTest} compare: PA, attributes and shareability, or fault kind, level,
 * stage and PTW.
 *
 * <p>QEMU 11 is Debian's trixie-backports build, which a bookworm machine cannot install:
 * {@code scripts/qemu-trixie.sh} unpacks it with its own libraries into the cache and writes a
 * launcher ({@code -Dgranule.qemu.pie=PATH} names another). Without it the test skips and says why.
 * {@code -Dgranule.oracle.probes=N} sets the probes per granule of each test, as for the other oracles
 * (10,000 in {@code ./run-tests}, 200,000 in the {@code nightly} profile); {@code -Dgranule.oracle.seed=S}
 * the seed.
 */
@Tag("qemu")
class QemuPieOracleTest {

    static final int PROBES_PER_CASE = 400;
    static final int CASES_PER_BATCH = 100;
    static final long BATCH_TABLES_LIMIT = QemuAt.RAM_BASE + QemuAt.RAM_SIZE - (96L << 20);
    /** TCR2_EL1.PIE; VTCR_EL2.S2PIE. */
    static final long TCR2_PIE = 1L << 1, VTCR_S2PIE = 1L << 36;
    /** Bit 63 of at-probe.S's case count: each case carries TCR2_EL1, PIR_EL1, PIRE0_EL1, S2PIR_EL2. */
    static final long PIE_JOB = 1L << 63;
    /** Bit 62 with it: each case carries MAIR2_EL1 as well. TCR2_EL1.AIE [4]. */
    static final long MAIR2_JOB = 1L << 62, TCR2_AIE = 1L << 4;

    @TempDir
    Path work;

    /**
     * One case as asked: the stage-1 case, its PIE registers and MAIR2_EL1, and stage 2 (hcr = RW only:
     * none).
     */
    record PieCase(OracleCase stage1, PermissionRegisters pie, long mair2, long hcr, long vtcr, long vttbr, long s2pir,
                   Granule stage2Granule, String summary) {}

    /** What the batches found. */
    static final class Tally {
        final Map<Granule, Integer> perGranule = new EnumMap<>(Granule.class);
        final Map<String, Integer> outcomes = new TreeMap<>(), mismatchKinds = new TreeMap<>();
        final List<String> mismatches = new ArrayList<>();
        final Map<String, Integer> pieDepartures = new TreeMap<>();
        int probes, cases, batches, pieCases, linuxCases, aieCases, mair2Attributes, s12PermissionKeptOut, s12PermissionAsked, largeBlockDepartures, aborts;
        final int[] piIndexSeen = new int[16], s2PiIndexSeen = new int[16];

        Tally() {
            for (Granule g : Granule.values()) perGranule.put(g, 0);
        }

        int fewest() { return perGranule.values().stream().mapToInt(Integer::intValue).min().orElse(0); }
    }

    @Test
    void stage1PermissionIndirectionAgreesWithQemu() throws Exception {
        Oracle o = oracle();
        Tally tally = new Tally();
        while (tally.fewest() < o.perGranule) {
            try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
                OracleCaseGenerator generator = new OracleCaseGenerator(o.seed + tally.batches, o.cpu, memory);
                Random random = new Random(~(o.seed + tally.batches));
                List<PieCase> batch = new ArrayList<>();
                while (batch.size() < CASES_PER_BATCH && generator.tablesEnd() < BATCH_TABLES_LIMIT
                        && tally.fewest() < o.perGranule) {
                    OracleCase c = generator.next(PROBES_PER_CASE);
                    PermissionRegisters pie = pieRegisters(random, tally, o.cpu.supportsAie());
                    long mair2 = mair2(random);
                    varyDirtyBits(memory, c, o.cpu, random);
                    batch.add(new PieCase(c, pie, mair2, QemuAt.HCR_RW, 0, 0, 0, null,
                            c.summary() + String.format(" TCR2=0x%x PIR=0x%016x PIRE0=0x%016x MAIR2=0x%016x", pie.tcr2(),
                                    pie.pir(), pie.pire0(), mair2)));
                    for (var p : c.probes()) tally.perGranule.merge(c.granuleOf(p.va()), 1, Integer::sum);
                }
                runBatch(o, memory, generator.tablesEnd(), batch, tally);
            }
        }
        report("stage 1, TCR2_EL1.PIE", o, tally);
    }

    @Test
    void stage2PermissionIndirectionAgreesWithQemu() throws Exception {
        Oracle o = oracle();
        skipUnless(o.cpu.supportsS2pie(), "QEMU PIE oracle (stage 2) skipped: " + o.qemu.version()
                + " has no FEAT_S2PIE (ID_AA64MMFR3_EL1 = 0x" + Long.toHexString(o.id.mmfr3()) + ")");
        Tally tally = new Tally();
        while (tally.fewest() < o.perGranule) {
            try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
                TwoStageCaseGenerator generator = new TwoStageCaseGenerator(o.seed + tally.batches, o.cpu, memory);
                Random random = new Random(~(o.seed + tally.batches));
                List<PieCase> batch = new ArrayList<>();
                while (batch.size() < CASES_PER_BATCH && generator.tablesEnd() < BATCH_TABLES_LIMIT
                        && tally.fewest() < o.perGranule) {
                    TwoStageCaseGenerator.Case c = generator.next(PROBES_PER_CASE);
                    varyDirtyBits(memory, c.stage1(), o.cpu, random);
                    // Stage 1 with or without PIE over stage 2 with S2PIE (most cases) or S2AP, with
                    // TCR2_EL1.AIE in half of them (MAIR2_EL1's attributes combined with stage 2's).
                    PermissionRegisters pie = random.nextInt(3) == 0 ? PermissionRegisters.NONE
                            : pieRegisters(random, tally, o.cpu.supportsAie());
                    long mair2 = mair2(random);
                    boolean s2pie = random.nextInt(6) != 0;
                    long s2pir = random.nextInt(4) == 0 ? SANE_S2PIR : random.nextLong();
                    long vtcr = s2pie ? c.vtcr() | VTCR_S2PIE : c.vtcr();
                    varyStage2DirtyBits(memory, c.stage1(), new Stage2Regime(c.hcr(), vtcr, c.vttbr(), s2pir, 0, o.cpu),
                            o.cpu, random);
                    batch.add(new PieCase(c.stage1(), pie, mair2, c.hcr(), vtcr, c.vttbr(), s2pie ? s2pir : 0, c.stage2Granule(),
                            c.summary() + String.format(" TCR2=0x%x PIR=0x%016x PIRE0=0x%016x MAIR2=0x%016x%s", pie.tcr2(),
                                    pie.pir(), pie.pire0(), mair2, s2pie ? String.format(" S2PIE S2PIR=0x%016x", s2pir) : "")));
                    tally.perGranule.merge(c.stage2Granule(), c.stage1().probes().size(), Integer::sum);
                }
                runBatch(o, memory, generator.tablesEnd(), batch, tally);
            }
        }
        report("two stages, VTCR_EL2.S2PIE", o, tally);
    }

    /**
     * An S2PIR_EL2 of defined encodings only (Arm ARM, S2PIR_EL2: 0b0000 no access, 0b0010 MMU
     * read-only, 0b1000 RO, 0b1001..0b1011 RO with unprivileged/privileged execute, 0b1100 RW,
     * 0b1101..0b1111 RW with execute), beside the fully random ones.
     */
    static final long SANE_S2PIR = 0xFEDC_BA98_0C0F_8200L;

    /** QEMU 11 from the cache, its CPU, and the run's parameters. */
    private record Oracle(QemuAt qemu, QemuAt.Answers id, CpuFeatures cpu, int perGranule, long seed) {}

    private Oracle oracle() throws Exception {
        QemuAt.Target target = onQemu11(QemuAt.Target.AARCH64, "QEMU PIE oracle");
        QemuAt qemu = new QemuAt(target, work);
        QemuAt.Answers id = qemu.identify();
        assertThat(id.currentEl()).as("the probe must run at EL2").isEqualTo(2);
        CpuFeatures cpu = new CpuFeatures(id.id()[0], id.id()[2], id.mmfr3());
        System.out.printf("QEMU PIE oracle: %s, -cpu max: ID_AA64MMFR0_EL1 = 0x%016x, MMFR1 = 0x%016x, MMFR2 = 0x%016x,"
                + " MMFR3 = 0x%016x (TCRX %d, S1PIE %d, S2PIE %d, S1POE %d, S2POE %d, AIE %d, D128 %d)%n",
                qemu.version(), id.id()[0], id.id()[1], id.id()[2], id.mmfr3(), cpu.tcrx(), cpu.s1pie(), cpu.s2pie(),
                cpu.s1poe(), cpu.s2poe(), id.mmfr3() >>> 24 & 0xF, cpu.d128());
        skipUnless(cpu.supportsTcr2() && cpu.supportsS1pie(), "QEMU PIE oracle skipped: " + qemu.version()
                + " has no FEAT_TCR2/FEAT_S1PIE (ID_AA64MMFR3_EL1 = 0x" + Long.toHexString(id.mmfr3()) + ")");
        return new Oracle(qemu, id, cpu, Integer.getInteger("granule.oracle.probes", 4_000), Seeds.oracleSeed());
    }

    /** Skips the test, saying why in its output as well as in the report. */
    private static void skipUnless(boolean available, String why) {
        if (!available) System.out.println("SKIPPED: " + why);
        assumeTrue(available, why);
    }

    /**
     * {@code base}'s probe on QEMU 11 ({@link #launcher}), ready to run; skips the calling test, printing
     * why, where QEMU 11 or the probe's tools are missing. {@code what} names the test in that message.
     */
    static QemuAt.Target onQemu11(QemuAt.Target base, String what) {
        Path launcher = launcher();
        skipUnless(Files.isExecutable(launcher), what + " skipped: no QEMU 11 at " + launcher
                + " (scripts/qemu-trixie.sh fetches Debian trixie-backports' QEMU there; scripts/install-test-deps.sh runs it)");
        var target = new QemuAt.Target(launcher.toString(), base.cpu(), base.as(), base.ld(), base.march(), base.resource(), base.el3());
        String missing = QemuAt.unavailableReason(target);
        skipUnless(missing == null, what + " skipped: " + missing);
        return target;
    }

    /** {@code -Dgranule.qemu.pie}, else the launcher scripts/qemu-trixie.sh writes into the cache. */
    static Path launcher() {
        String property = System.getProperty("granule.qemu.pie", "");
        if (!property.isBlank()) return Path.of(property);
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("granule/qemu-trixie/qemu-system-aarch64");
    }

    /**
     * TCR2_EL1 with PIE (one case in eight without: the direct permissions with TCR2 present), with AIE
     * in half the cases where {@code aie} (the CPU has FEAT_AIE, stage 1 only), and PIR_EL1/PIRE0_EL1: Linux's PIE_E1/PIE_E0 in a
     * quarter of the cases, else every field random (all sixteen values, reserved ones included).
     */
    private static PermissionRegisters pieRegisters(Random random, Tally tally, boolean aie) {
        long aieBit = aie && random.nextBoolean() ? TCR2_AIE : 0;
        if (aieBit != 0) tally.aieCases++;
        long tcr2 = (random.nextInt(8) == 0 ? 0 : TCR2_PIE) | aieBit;
        boolean linux = random.nextInt(4) == 0;
        long pir = linux ? PermissionIndirection.LINUX.pir() : random.nextLong();
        long pire0 = linux ? PermissionIndirection.LINUX.pire0() : random.nextLong();
        if ((tcr2 & TCR2_PIE) != 0) tally.pieCases++;
        if ((tcr2 & TCR2_PIE) != 0 && linux) tally.linuxCases++;
        return new PermissionRegisters(tcr2, pir, pire0, 0, 0);
    }

    /** A MAIR2_EL1 of the attribute bytes the generator draws MAIR_EL1 from. */
    private static long mair2(Random random) {
        long mair2 = 0;
        for (int i = 0; i < 8; i++) {
            mair2 |= (long) OracleCaseGenerator.MAIR_ATTRS[random.nextInt(OracleCaseGenerator.MAIR_ATTRS.length)] << 8 * i;
        }
        return mair2;
    }

    /**
     * Sets or clears bit 51 (DBM, PIIndex[1] under PIE) and bit 59 (PBHA[0], AttrIndx[3] under AIE)
     * at random in the leaves some probes reach: the generator sets neither, so without this half the
     * PIIndex values and MAIR2_EL1 would not occur. A table descriptor ignores both (bit 59 is PXNTable
     * only where hierarchical permissions apply, and AIE and PIE turn them off), so an aliased leaf
     * changes nothing else that is compared.
     */
    private static void varyDirtyBits(SparseMemory memory, OracleCase c, CpuFeatures cpu, Random random) {
        TranslationRegime regime = new TranslationRegime(c.registers(), cpu);
        for (var p : c.probes()) {
            if (random.nextInt(3) != 0) continue;
            long leaf = QemuPieDepartures.leafAddress(memory, regime, p.va());
            long flip = (random.nextBoolean() ? 1L << 51 : 0) | (random.nextBoolean() ? 1L << 59 : 0);
            if (leaf >= 0) memory.writeLong(leaf, memory.readLong(leaf) ^ flip);
        }
    }

    /**
     * The same for stage 2 (whose PIIndex takes the same bits under S2PIE): bit 51 of the stage-2
     * leaves that some probes' stage-1 output IPAs reach.
     */
    private static void varyStage2DirtyBits(SparseMemory memory, OracleCase c, Stage2Regime s2, CpuFeatures cpu,
                                            Random random) {
        if (!s2.enabled() || s2.invalidReason() != null) return;
        Mmu mmu = new Mmu(new TranslationRegime(c.registers(), cpu), s2, memory, new Tlb(16, 4));
        for (var p : c.probes()) {
            if (random.nextInt(3) != 0) continue;
            if (!(mmu.translateStage1(p.va(), dev.granule.mmu.Access.READ, 1) instanceof Translation.Translated ok)) continue;
            long leaf = QemuPieDepartures.stage2LeafAddress(memory, s2, ok.pa());
            if (leaf >= 0) memory.writeLong(leaf, memory.readLong(leaf) ^ (random.nextBoolean() ? 1L << 51 : 0));
        }
    }

    /** The model answers every probe, QEMU runs the batch once, and the answers are compared. */
    private static void runBatch(Oracle o, SparseMemory memory, long tablesEnd, List<PieCase> batch, Tally tally)
            throws Exception {
        List<List<OracleCase.Probe>> asked = new ArrayList<>();
        List<Translation> model = new ArrayList<>();
        List<QemuPieDepartures.Departure> departures = new ArrayList<>();
        for (PieCase c : batch) {
            Registers r = c.stage1().registers();
            Stage2Regime s2 = (c.hcr() & TwoStageCaseGenerator.HCR_VM) == 0 ? null
                    : new Stage2Regime(c.hcr(), c.vtcr(), c.vttbr(), c.s2pir(), 0, o.cpu);
            Mmu[] mmu = new Mmu[2];
            for (int pan = 0; pan < 2; pan++) {
                var regs = new Registers(r.tcr(), r.ttbr0(), r.ttbr1(), r.mair(), r.sctlr(), pan == 1, 0, 0, c.mair2());
                var regime = new TranslationRegime(regs, c.pie(), o.cpu);
                mmu[pan] = s2 == null ? new Mmu(regime, memory, new Tlb(16, 4)) : new Mmu(regime, s2, memory, new Tlb(16, 4));
            }
            List<OracleCase.Probe> list = new ArrayList<>();
            for (var p : c.stage1().probes()) {
                AtOp op = p.op();
                Translation t = QemuPieDepartures.answer(mmu[op.pan ? 1 : 0], p.va(), op);
                QemuPieDepartures.Departure departure = QemuPieDepartures.of(memory, mmu, p.va(), op, t);
                if (o.qemu.majorVersion() < 11 && op.twoStages() && t instanceof Translation.Fault f && f.stage() == 2
                        && !f.s1ptw() && f.type() == FaultType.PERMISSION) {
                    // QEMU 10.0.2 aborts on an AT S12* that ends in a stage-2 permission fault (FACTS):
                    // asked as AT S1* like QemuTwoStageOracleTest does, and counted. 11.1 reports it.
                    op = AtOp.values()[op.ordinal() - 8];
                    t = QemuPieDepartures.answer(mmu[0], p.va(), op);
                    departure = QemuPieDepartures.of(memory, mmu, p.va(), op, t);
                    tally.s12PermissionKeptOut++;
                }
                if (op.twoStages() && t instanceof Translation.Fault f && f.stage() == 2 && !f.s1ptw()
                        && f.type() == FaultType.PERMISSION) {
                    tally.s12PermissionAsked++;
                }
                if (op.twoStages() && s2 != null && s2.indirectPermissions() != null && t instanceof Translation.Translated) {
                    var ipa = mmu[0].translateStage1(p.va(), op.access, op.el);
                    long leaf = ipa instanceof Translation.Translated ok ? QemuPieDepartures.stage2LeafAddress(memory, s2, ok.pa()) : -1;
                    if (leaf >= 0) tally.s2PiIndexSeen[dev.granule.mmu.IndirectPermissions.piIndex64(memory.readLong(leaf))]++;
                }
                if (c.pie().tcr2() != 0 && t instanceof Translation.Translated) {
                    TranslationRegime regime = mmu[0].regime();
                    long leaf = QemuPieDepartures.leafAddress(memory, regime, p.va());
                    if (leaf >= 0 && regime.permissionIndirection()) {
                        tally.piIndexSeen[dev.granule.mmu.IndirectPermissions.piIndex64(memory.readLong(leaf))]++;
                    }
                    if (leaf >= 0 && regime.attributeIndexExtension() && regime.attrIndex(memory.readLong(leaf)) >= 8) {
                        tally.mair2Attributes++;
                    }
                }
                list.add(new OracleCase.Probe(p.va(), op));
                model.add(t);
                departures.add(departure);
                tally.outcomes.merge((op.twoStages() ? "S12 " : "S1  ") + outcome(t), 1, Integer::sum);
            }
            asked.add(list);
        }
        byte[] tables = new byte[(int) (tablesEnd - QemuAt.TABLES_BASE)];
        memory.read(QemuAt.TABLES_BASE, tables, 0, tables.length);
        QemuAt.Answers answers = o.qemu.ask(job(batch, asked, model.size(), o.cpu.supportsAie()), tables, model.size());
        int n = 0;
        for (int i = 0; i < batch.size(); i++) {
            PieCase c = batch.get(i);
            for (var p : asked.get(i)) {
                Translation t = model.get(n);
                long par = answers.par()[n];
                boolean exception = answers.exception()[n];
                boolean agree;
                if (t instanceof Translation.Fault f && f.type() == FaultType.EXTERNAL_ABORT_ON_WALK) {
                    agree = exception && Par.isWalkAbort(answers.esr()[n], f);
                    if (agree) tally.aborts++;
                } else if (!exception && QemuPieDepartures.largeBlock(c, t, par, o.cpu)) {
                    agree = true; // QEMU's known departure (docs/translation.md), counted apart
                    tally.largeBlockDepartures++;
                } else {
                    agree = !exception && Par.compared(par) == Par.expected(t);
                }
                QemuPieDepartures.Departure departure = departures.get(n);
                if (!agree && departure != null && !exception) {
                    // QEMU 11.1's departure from the pseudocode (docs/translation.md), counted apart; after
                    // it, QEMU may meet the large-block departure as well.
                    if (Par.compared(par) == Par.expected(departure.qemu())) {
                        agree = true;
                        tally.pieDepartures.merge(departure.what(), 1, Integer::sum);
                    } else if (QemuPieDepartures.largeBlock(c, departure.qemu(), par, o.cpu)) {
                        agree = true;
                        tally.pieDepartures.merge(departure.what() + " and a block larger than the PA size", 1, Integer::sum);
                    }
                }
                if (!agree && !exception && t instanceof Translation.Translated && (c.pie().tcr2() & TCR2_AIE) != 0
                        && (c.pie().tcr2() & TCR2_PIE) == 0 && !p.op().twoStages()) {
                    // QEMU 11.1 does not set walkparams.hpd for AIE (docs/translation.md): its answer is the
                    // same registers without AIE, where the tables' APTable/UXNTable/PXNTable still apply.
                    Registers r = c.stage1().registers();
                    var noAie = new TranslationRegime(new Registers(r.tcr(), r.ttbr0(), r.ttbr1(), r.mair(), r.sctlr(),
                            p.op().pan), new PermissionRegisters(c.pie().tcr2() & ~TCR2_AIE, c.pie().pir(), c.pie().pire0(), 0, 0),
                            o.cpu);
                    Translation qemu = QemuPieDepartures.answer(new Mmu(noAie, memory, new Tlb(16, 4)), p.va(), p.op());
                    if (qemu instanceof Translation.Fault f && f.type() == FaultType.PERMISSION
                            && Par.compared(par) == Par.expected(qemu)) {
                        agree = true;
                        tally.pieDepartures.merge("AIE left the tables' permission bits on", 1, Integer::sum);
                    }
                }
                if (!agree && !exception && p.op().twoStages() && Par.compared(par) == QemuPieDepartures.transientHintDropped(t)) {
                    // QEMU 11.1 drops stage 1's transient hint over a Write-Through stage 2 (docs/translation.md).
                    agree = true;
                    tally.pieDepartures.merge("stage 1's transient hint were dropped over a Write-Through stage 2", 1, Integer::sum);
                }
                if (!agree) {
                    tally.mismatchKinds.merge(p.op() + ": model " + outcome(t) + ", QEMU "
                            + (exception ? "exception" : Par.kind(Par.compared(par))), 1, Integer::sum);
                    if (tally.mismatches.size() < 200) {
                        long leaf = QemuPieDepartures.leafAddress(memory, new TranslationRegime(c.stage1().registers(), o.cpu), p.va());
                        tally.mismatches.add(String.format("%s VA 0x%016x: QEMU %s, model %s%n    leaf %s%s%n    case %s",
                                p.op(), p.va(), exception ? String.format("exception ESR 0x%x", answers.esr()[n])
                                        : Par.describe(par), t,
                                leaf < 0 ? "none" : String.format("0x%016x (PIIndex %d)", memory.readLong(leaf),
                                        dev.granule.mmu.IndirectPermissions.piIndex64(memory.readLong(leaf))),
                                departure == null ? "" : "\n    with QEMU's departures (" + departure.what() + ") the model says "
                                        + departure.qemu(),
                                c.summary()));
                    }
                }
                n++;
            }
        }
        tally.probes += n;
        tally.cases += batch.size();
        tally.batches++;
    }

    private static void report(String what, Oracle o, Tally tally) {
        System.out.printf("QEMU PIE oracle, %s (seed %d, %s): %d probes in %d cases (%d with PIE, %d of them Linux's"
                + " PIE_E1/PIE_E0), %d QEMU runs, per granule %s, %d mismatches%n", what, o.seed, o.qemu.version(),
                tally.probes, tally.cases, tally.pieCases, tally.linuxCases, tally.batches, tally.perGranule,
                tally.mismatches.size());
        System.out.printf("  translations under PIE per leaf PIIndex: %s%n", Arrays.toString(tally.piIndexSeen));
        System.out.printf("  %d cases with TCR2_EL1.AIE; %d translations took their attribute from MAIR2_EL1%n",
                tally.aieCases, tally.mair2Attributes);
        if (Arrays.stream(tally.s2PiIndexSeen).sum() > 0) {
            System.out.printf("  AT S12* translations under S2PIE per stage-2 leaf PIIndex: %s%n", Arrays.toString(tally.s2PiIndexSeen));
        }
        System.out.printf("  %d walks ended in a synchronous external abort (compared through ESR_EL2)%n", tally.aborts);
        System.out.printf("  %d probes beyond the PA size in a block larger than it kept out (QEMU translates them, or"
                + " goes on to a later fault; QemuLargeBlockOaTest)%n",
                tally.largeBlockDepartures);
        tally.pieDepartures.forEach((k, v) -> System.out.printf("  %d probes kept out where QEMU answers as if %s%n", v, k));
        if (tally.s12PermissionAsked > 0) {
            System.out.printf("  %d AT S12* probes ending in a stage-2 permission fault on the final IPA, asked as such"
                    + " (QEMU 10.0.2 aborts on them, 11.1 reports them)%n", tally.s12PermissionAsked);
        }
        if (tally.s12PermissionKeptOut > 0) {
            System.out.printf("  %d AT S12* probes ending in a stage-2 permission fault asked as AT S1*%n",
                    tally.s12PermissionKeptOut);
        }
        System.out.printf("  model outcomes:%n");
        tally.outcomes.forEach((k, v) -> System.out.printf("  %8d  %s%n", v, k));
        tally.mismatchKinds.forEach((k, v) -> System.out.printf("  %6d  %s%n", v, k));
        assertThat(tally.mismatches).as("probes where the model and QEMU disagree (seed %d), first 20:%n%s", o.seed,
                String.join("\n", tally.mismatches.subList(0, Math.min(20, tally.mismatches.size())))).isEmpty();
        assertThat(tally.perGranule.values()).allMatch(v -> v >= o.perGranule);
    }

    private static String outcome(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> "translated, leaf at level " + ok.level();
            case Translation.Fault f -> (f.stage() == 2 ? "stage-2 " + (f.s1ptw() ? "(s1 walk) " : "") : "")
                    + f.type().name().toLowerCase().replace('_', ' ') + " fault, level " + f.level();
        };
    }

    /** at-probe.S's job in its TCR2/PIE form: bits 63 and 62 of the case count, five more registers per case. */
    private static byte[] job(List<PieCase> batch, List<List<OracleCase.Probe>> asked, int probes, boolean aie) {
        ByteBuffer b = QemuAt.le(8 + batch.size() * 112 + probes * 16);
        b.putLong(batch.size() | PIE_JOB | (aie ? MAIR2_JOB : 0)); // MAIR2_EL1 is UNDEFINED without FEAT_AIE
        for (int i = 0; i < batch.size(); i++) {
            PieCase c = batch.get(i);
            Registers r = c.stage1().registers();
            b.putLong(r.tcr()).putLong(r.ttbr0()).putLong(r.ttbr1()).putLong(r.mair()).putLong(r.sctlr())
                    .putLong(c.hcr()).putLong(c.vtcr()).putLong(c.vttbr()).putLong(asked.get(i).size())
                    .putLong(c.pie().tcr2()).putLong(c.pie().pir()).putLong(c.pie().pire0()).putLong(c.s2pir());
            if (aie) b.putLong(c.mair2());
            for (var p : asked.get(i)) b.putLong(p.va()).putLong(p.op().ordinal());
        }
        return b.array();
    }
}
