package dev.granule.mmu.oracle;

import dev.granule.geometry.Granule;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Mmu;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Differential test of {@link Mmu#translate} against QEMU's walker: random regimes, damaged random
 * tables and random probes (see {@link OracleCaseGenerator}), answered by AT instructions on
 * {@code qemu-system-aarch64 -cpu max} and by our model, must agree on PA, memory attributes and
 * shareability, or on fault kind and level, for every probe.
 *
 * <p>{@code -Dgranule.oracle.probes=N} sets the probes per granule (10,000 by default; the
 * {@code nightly} Maven profile asks for 200,000), {@code -Dgranule.oracle.seed=S} the seed. Cases
 * are run in batches, one QEMU boot each, as many as fit their tables into the guest's RAM.
 */
@Tag("qemu")
class QemuAtOracleTest {

    @TempDir
    Path work;

    private OracleDriver oracle;
    private QemuAt.Answers id;
    private OracleDriver.Count wideVa, lpa2, pa52, block64kLevel1, aborts, largeBlockDepartures;

    @Test
    void translationAgreesWithQemuOnRandomTablesForEveryGranule() throws Exception {
        oracle = OracleDriver.start("QEMU AT oracle", QemuAt.Target.AARCH64, work, "probes", "per granule");
        int perGranule = Integer.getInteger("granule.oracle.probes", 10_000);
        id = oracle.identify(2);
        wideVa = oracle.count("probes in halves with a VA above 48 bits");
        lpa2 = oracle.count("probes with TCR.DS = 1 (LPA2)");
        pa52 = oracle.count("probes under a 52-bit PA size");
        block64kLevel1 = oracle.count("translations through a 64K level-1 (4T) block under a PA size below 52 bits"
                + " (the CPU's PARange decides, AArch64.BlockDescSupported)");
        aborts = oracle.count("walks ended in a synchronous external abort, taken as a Data Abort with the expected DFSC");
        largeBlockDepartures = oracle.departure("probes at an offset beyond the PA size in a block larger than it"
                + " (the Arm ARM faults; QEMU 10.0.2 translates them or goes on to the block's Access flag or permission"
                + " fault; QemuLargeBlockOaTest)");
        oracle.spreadOver(List.of(Granule.values()));

        oracle.runBatches(() -> oracle.fewest() >= perGranule, (seed, memory) -> runBatch(seed, memory, perGranule));

        oracle.finish("");
        assertThat(oracle.spread().values()).allMatch(v -> v >= perGranule);
    }

    private void runBatch(long seed, SparseMemory memory, int perGranule) throws Exception {
        OracleCaseGenerator generator = new OracleCaseGenerator(seed, id.cpu(), memory);
        List<OracleCase> cases = new ArrayList<>();
        generator.batch(() -> oracle.fewest() < perGranule, c -> {
            cases.add(c);
            for (var p : c.probes()) oracle.spread(c.granuleOf(p.va()), 1);
        });
        int total = cases.stream().mapToInt(c -> c.probes().size()).sum();
        // The model answers first; with HA/HD off the guest writes nothing to the tables.
        Translation[] model = new Translation[total];
        int n = 0;
        for (OracleCase c : cases) {
            Registers r = c.registers();
            Mmu[] mmu = new Mmu[2];
            for (int pan = 0; pan < 2; pan++) {
                var regs = new Registers(r.tcr(), r.ttbr0(), r.ttbr1(), r.mair(), r.sctlr(), pan == 1);
                mmu[pan] = new Mmu(new TranslationRegime(regs, id.cpu()), memory, new Tlb(16, 4));
            }
            for (var p : c.probes()) {
                Mmu m = mmu[p.op().pan ? 1 : 0];
                m.tlb().invalidateAll(); // every probe is a walk, as QEMU's AT is
                model[n] = m.translate(p.va(), p.op().access, p.op().el);
                oracle.tally("model outcomes", outcome(model[n]));
                var half = (p.va() >>> 55 & 1) == 0 ? m.regime().lower() : m.regime().upper();
                if (half.geometry().vaBits() > 48) wideVa.add();
                if (half.geometry().lpa2()) lpa2.add();
                if (m.regime().paBits() == 52) pa52.add();
                if (model[n] instanceof Translation.Translated ok && ok.level() == 1 && m.regime().paBits() < 52
                        && half.geometry().granule() == Granule.SIXTY_FOUR_K) block64kLevel1.add();
                n++;
            }
        }
        byte[] tables = new byte[(int) (generator.tablesEnd() - QemuAt.TABLES_BASE)];
        memory.read(QemuAt.TABLES_BASE, tables, 0, tables.length);
        QemuAt.Answers answers = oracle.qemu.ask(job(cases, total), tables, total);
        compare(memory, cases, model, answers);
        oracle.asked(cases.size(), total);
    }

    private void compare(SparseMemory memory, List<OracleCase> cases, Translation[] model, QemuAt.Answers answers) {
        int n = 0;
        for (OracleCase c : cases) {
            for (var p : c.probes()) {
                QemuAt.Answer a = answers.answer(n);
                Translation t = model[n++];
                if (!a.agreesStage1(t, par -> QemuLargeBlockDeparture.atStage1(oracle, t, par,
                        new TranslationRegime(c.registers(), id.cpu()), memory), aborts, largeBlockDepartures)) {
                    oracle.mismatch(p.op() + ": model " + outcome(t) + ", QEMU " + a.kind(),
                            () -> String.format("%s VA 0x%016x: QEMU %s, model %s%n    case %s%n    walk %s", p.op(), p.va(),
                                    a.describe(), t, c.summary(), walk(memory, c, id, p.va())));
                }
            }
        }
    }

    private static String outcome(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> "translated, leaf at level " + ok.level() + (ok.contiguous() ? " (contiguous)" : "");
            case Translation.Fault f -> OracleDriver.fault(f);
        };
    }

    /** The descriptor words a walk for {@code va} reads, for mismatch reports. */
    private static String walk(SparseMemory memory, OracleCase c, QemuAt.Answers id, long va) {
        var regime = new TranslationRegime(c.registers(), id.cpu());
        var half = (va >>> 55 & 1) == 0 ? regime.lower() : regime.upper();
        var g = half.geometry();
        var f = half.format();
        var d = new dev.granule.format.Descriptor();
        StringBuilder sb = new StringBuilder();
        long table = half.root();
        for (int level = g.startLevel(); level <= 3; level++) {
            long address = table + ((long) g.index(va, level) << 3);
            if (!memory.contains(address, 8)) return sb.append(" L").append(level).append(" not RAM").toString();
            long w = memory.readLong(address);
            d.set(w, 0);
            sb.append(String.format(" L%d@0x%x=0x%016x", level, address, w));
            if (level == 3 || f.kind(d, level) != dev.granule.format.DescriptorKind.TABLE) break;
            table = f.tableAddress(d);
        }
        return sb.toString();
    }

    private static byte[] job(List<OracleCase> cases, int probes) {
        ByteBuffer b = QemuAt.le(8 + cases.size() * 72 + probes * 16);
        b.putLong(cases.size());
        for (OracleCase c : cases) {
            Registers r = c.registers();
            // HCR_EL2 = RW only: no stage 2 (VTCR_EL2, VTTBR_EL2 unused).
            b.putLong(r.tcr()).putLong(r.ttbr0()).putLong(r.ttbr1()).putLong(r.mair()).putLong(r.sctlr())
                    .putLong(QemuAt.HCR_RW).putLong(0).putLong(0).putLong(c.probes().size());
            for (var p : c.probes()) b.putLong(p.va()).putLong(p.op().ordinal());
        }
        return b.array();
    }
}
