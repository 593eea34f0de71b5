package dev.granule.mmu.oracle;

import dev.granule.geometry.Granule;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.FaultType;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Stage2Regime;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Differential test of two-stage EL1&amp;0 translation ({@link Mmu} with a {@link Stage2Regime})
 * against QEMU 10: random stage-1 cases over random stage 2s ({@link TwoStageCaseGenerator}),
 * asked with AT S12E1R/W, S12E0R/W (the PA, combined attributes, or a fault with its stage, level
 * and PTW bit) and AT S1E1R/W, S1E0R/W (the IPA, whose stage-1 table reads still go through stage 2),
 * from EL2 with HCR_EL2.VM = 1.
 *
 * <p>QEMU 10.0.2 aborts when an AT S12* ends in a stage-2 permission fault on the final IPA
 * (FACTS: do_ats_write's assertion); such probes are asked with the stage-1 AT instead, and counted.
 * {@code -Dgranule.oracle.probes=N} sets the probes per stage-2 granule (10,000 by default).
 */
@Tag("qemu")
class QemuTwoStageOracleTest {

    static final int PROBES_PER_CASE = 400;
    static final int CASES_PER_BATCH = 100;
    static final long BATCH_TABLES_LIMIT = QemuAt.RAM_BASE + QemuAt.RAM_SIZE - (96L << 20);

    @TempDir
    Path work;

    private OracleDriver oracle;
    private QemuAt.Answers id;
    private OracleDriver.Count keptOut;

    @Test
    void twoStageTranslationAgreesWithQemuForMixedGranules() throws Exception {
        oracle = OracleDriver.start("QEMU two-stage AT oracle", QemuAt.Target.AARCH64, work, "probes",
                "per stage-2 granule");
        int perGranule = Integer.getInteger("granule.oracle.probes", 10_000);
        id = oracle.identify(2);
        keptOut = oracle.count("AT S12* probes that end in a stage-2 permission fault on the final IPA asked as AT S1*"
                + " (QEMU 10.0.2 aborts on them)");
        oracle.spreadOver(List.of(Granule.values()));

        oracle.runBatches(() -> oracle.fewest() >= perGranule, (seed, memory) -> runBatch(seed, memory, perGranule));

        oracle.finish("");
        assertThat(oracle.spread().values()).allMatch(v -> v >= perGranule);
    }

    private void runBatch(long seed, SparseMemory memory, int perGranule) throws Exception {
        TwoStageCaseGenerator generator = new TwoStageCaseGenerator(seed, id.cpu(), memory);
        List<TwoStageCaseGenerator.Case> batch = new ArrayList<>();
        List<List<OracleCase.Probe>> asked = new ArrayList<>();
        List<Translation> model = new ArrayList<>();
        while (batch.size() < CASES_PER_BATCH && generator.tablesEnd() < BATCH_TABLES_LIMIT
                && oracle.fewest() < perGranule) {
            TwoStageCaseGenerator.Case c = generator.next(PROBES_PER_CASE);
            batch.add(c);
            oracle.spread(c.stage2Granule(), c.stage1().probes().size());
        }
        // The model answers every probe before QEMU runs (HA/HD are off: nothing is written).
        for (TwoStageCaseGenerator.Case c : batch) {
            Registers r = c.stage1().registers();
            Stage2Regime s2 = new Stage2Regime(c.hcr(), c.vtcr(), c.vttbr(), id.cpu());
            Mmu[] mmu = new Mmu[2];
            for (int pan = 0; pan < 2; pan++) {
                var regs = new Registers(r.tcr(), r.ttbr0(), r.ttbr1(), r.mair(), r.sctlr(), pan == 1);
                mmu[pan] = new Mmu(new TranslationRegime(regs, id.cpu()), s2, memory, new Tlb(16, 4));
            }
            List<OracleCase.Probe> list = new ArrayList<>();
            for (var p : c.stage1().probes()) {
                AtOp op = p.op();
                Translation t = answer(mmu[op.pan ? 1 : 0], p.va(), op);
                if (op.twoStages() && t instanceof Translation.Fault f && f.stage() == 2 && !f.s1ptw()
                        && f.type() == FaultType.PERMISSION) {
                    op = AtOp.values()[op.ordinal() - 8]; // S12E1R -> S1E1R, ...: QEMU would abort
                    t = answer(mmu[0], p.va(), op);
                    keptOut.add();
                }
                list.add(new OracleCase.Probe(p.va(), op));
                model.add(t);
                oracle.tally("stage-1 granule over stage-2 granule", c.stage1().granuleOf(p.va()) + " over " + c.stage2Granule());
                oracle.tally("model outcomes", (op.twoStages() ? "S12 " : "S1  ") + outcome(t));
            }
            asked.add(list);
        }
        byte[] tables = new byte[(int) (generator.tablesEnd() - QemuAt.TABLES_BASE)];
        memory.read(QemuAt.TABLES_BASE, tables, 0, tables.length);
        QemuAt.Answers answers = oracle.qemu.ask(job(batch, asked, model.size()), tables, model.size());
        int n = 0;
        for (int i = 0; i < batch.size(); i++) {
            var c = batch.get(i);
            for (var p : asked.get(i)) {
                QemuAt.Answer a = answers.answer(n);
                Translation t = model.get(n++);
                boolean agree = t instanceof Translation.Fault f && f.type() == FaultType.EXTERNAL_ABORT_ON_WALK
                        ? a.tookWalkAbort(f) : a.agrees(t);
                if (!agree) {
                    oracle.mismatch(p.op() + ": model " + outcome(t) + ", QEMU " + a.kind(),
                            () -> String.format("%s VA 0x%016x: QEMU %s, model %s%n    stage 1 alone %s%n    case %s",
                                    p.op(), p.va(), a.describe(), t, stage1Alone(c, memory, id, p), c.summary()));
                }
            }
        }
        oracle.asked(batch.size(), n);
    }

    /** The stage-1 answer without stage 2 (its attributes), for mismatch reports. */
    private static Translation stage1Alone(TwoStageCaseGenerator.Case c, SparseMemory memory, QemuAt.Answers id,
                                           OracleCase.Probe p) {
        var mmu = new Mmu(new TranslationRegime(c.stage1().registers(), id.cpu()), memory, new Tlb(16, 4));
        return mmu.translate(p.va(), p.op().access, p.op().el);
    }

    private static Translation answer(Mmu mmu, long va, AtOp op) {
        mmu.tlb().invalidateAll();
        return op.twoStages() ? mmu.translate(va, op.access, op.el) : mmu.translateStage1(va, op.access, op.el);
    }

    private static String outcome(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> "translated, stage-1 leaf at level " + ok.level();
            case Translation.Fault f -> OracleDriver.stagedFault(f);
        };
    }

    private static byte[] job(List<TwoStageCaseGenerator.Case> batch, List<List<OracleCase.Probe>> asked, int probes) {
        ByteBuffer b = QemuAt.le(8 + batch.size() * 72 + probes * 16);
        b.putLong(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            var c = batch.get(i);
            Registers r = c.stage1().registers();
            b.putLong(r.tcr()).putLong(r.ttbr0()).putLong(r.ttbr1()).putLong(r.mair()).putLong(r.sctlr())
                    .putLong(c.hcr()).putLong(c.vtcr()).putLong(c.vttbr()).putLong(asked.get(i).size());
            for (var p : asked.get(i)) b.putLong(p.va()).putLong(p.op().ordinal());
        }
        return b.array();
    }
}
