package dev.granule.mmu.oracle;

import dev.granule.geometry.Granule;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.FaultType;
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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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

    static final int PROBES_PER_CASE = 400;
    static final int CASES_PER_BATCH = 120;
    /** A case's table pool is 64 MiB; a batch stops while one more still fits. */
    static final long BATCH_TABLES_LIMIT = QemuAt.RAM_BASE + QemuAt.RAM_SIZE - (80L << 20);

    @TempDir
    Path work;

    /** What all batches found. */
    static final class Tally {
        final Map<Granule, Integer> perGranule = new EnumMap<>(Granule.class);
        final Map<String, Integer> outcomes = new TreeMap<>();
        final Map<String, Integer> mismatchKinds = new TreeMap<>();
        final List<String> mismatches = new ArrayList<>();
        int probes, cases, batches, wideVa, lpa2, pa52, aborts, block64kLevel1, largeBlockDepartures;

        Tally() {
            for (Granule g : Granule.values()) perGranule.put(g, 0);
        }

        int fewest() { return perGranule.values().stream().mapToInt(Integer::intValue).min().orElse(0); }
    }

    @Test
    void translationAgreesWithQemuOnRandomTablesForEveryGranule() throws Exception {
        String missing = QemuAt.unavailableReason(QemuAt.Target.AARCH64);
        assumeTrue(missing == null, () -> "QEMU oracle skipped: " + missing);
        int perGranule = Integer.getInteger("granule.oracle.probes", 10_000);
        long seed = Seeds.oracleSeed();

        QemuAt qemu = new QemuAt(QemuAt.Target.AARCH64, work);
        QemuAt.Answers id = qemu.identify();
        assertThat(id.currentEl()).as("the probe must run at EL2").isEqualTo(2);

        Tally tally = new Tally();
        while (tally.fewest() < perGranule) {
            runBatch(qemu, id, seed + tally.batches, perGranule, tally);
            tally.batches++;
        }

        System.out.printf("QEMU AT oracle (seed %d, %s, -cpu max): %d probes in %d cases, %d QEMU runs, per granule %s,"
                + " %d mismatches%n", seed, qemu.version(), tally.probes, tally.cases, tally.batches, tally.perGranule,
                tally.mismatches.size());
        System.out.printf("  model outcomes:%n");
        tally.outcomes.forEach((k, v) -> System.out.printf("  %8d  %s%n", v, k));
        System.out.printf("  %d probes in halves with a VA above 48 bits, %d with TCR.DS = 1 (LPA2), %d under a 52-bit PA size%n",
                tally.wideVa, tally.lpa2, tally.pa52);
        System.out.printf("  %d translations through a 64K level-1 (4T) block under a PA size below 52 bits (the CPU's"
                + " PARange decides, AArch64.BlockDescSupported)%n", tally.block64kLevel1);
        System.out.printf("  %d walks ended in a synchronous external abort, taken as a Data Abort with the expected DFSC%n",
                tally.aborts);
        System.out.printf("  %d probes at an offset beyond the PA size in a block larger than it kept out (QEMU 10.0.2"
                + " translates them, the Arm ARM faults; QemuLargeBlockOaTest)%n", tally.largeBlockDepartures);
        tally.mismatchKinds.forEach((k, v) -> System.out.printf("  %6d  %s%n", v, k));
        assertThat(tally.mismatches).as("probes where the model and QEMU disagree (seed %d), first 20:%n%s", seed,
                String.join("\n", tally.mismatches.subList(0, Math.min(20, tally.mismatches.size())))).isEmpty();
        assertThat(tally.perGranule.values()).allMatch(v -> v >= perGranule);
    }

    private static void runBatch(QemuAt qemu, QemuAt.Answers id, long seed, int perGranule, Tally tally) throws Exception {
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
            OracleCaseGenerator generator = new OracleCaseGenerator(seed, id.cpu(), memory);
            List<OracleCase> cases = new ArrayList<>();
            int total = 0;
            while (tally.fewest() < perGranule && cases.size() < CASES_PER_BATCH
                    && generator.tablesEnd() < BATCH_TABLES_LIMIT) {
                OracleCase c = generator.next(PROBES_PER_CASE);
                cases.add(c);
                for (var p : c.probes()) tally.perGranule.merge(c.granuleOf(p.va()), 1, Integer::sum);
                total += c.probes().size();
            }
            // The model answers first; with HA/HD off the guest writes nothing to the tables.
            long[] expected = new long[total];
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
                    expected[n] = Par.expected(model[n]);
                    tally.outcomes.merge(outcome(model[n]), 1, Integer::sum);
                    var half = (p.va() >>> 55 & 1) == 0 ? m.regime().lower() : m.regime().upper();
                    if (half.geometry().vaBits() > 48) tally.wideVa++;
                    if (half.geometry().lpa2()) tally.lpa2++;
                    if (m.regime().paBits() == 52) tally.pa52++;
                    if (model[n] instanceof Translation.Translated ok && ok.level() == 1 && m.regime().paBits() < 52
                            && half.geometry().granule() == Granule.SIXTY_FOUR_K) tally.block64kLevel1++;
                    n++;
                }
            }
            byte[] tables = new byte[(int) (generator.tablesEnd() - QemuAt.TABLES_BASE)];
            memory.read(QemuAt.TABLES_BASE, tables, 0, tables.length);
            QemuAt.Answers answers = qemu.ask(job(cases, total), tables, total);
            compare(qemu, id, memory, cases, model, expected, answers, tally);
            tally.probes += total;
            tally.cases += cases.size();
        }
    }

    private static void compare(QemuAt qemu, QemuAt.Answers id, SparseMemory memory, List<OracleCase> cases,
                                Translation[] model, long[] expected, QemuAt.Answers answers, Tally tally) {
        int n = 0;
        for (OracleCase c : cases) {
            for (var p : c.probes()) {
                long par = answers.par()[n];
                boolean exception = answers.exception()[n];
                boolean agree;
                if (model[n] instanceof Translation.Fault f && f.type() == FaultType.EXTERNAL_ABORT_ON_WALK) {
                    // Taken as a Data Abort (EC 0x25, same EL), not reported in PAR: compare the ESR's DFSC.
                    agree = exception && Par.isWalkAbort(answers.esr()[n], f);
                    if (agree) tally.aborts++;
                } else if (!exception && Par.isLargeBlockDeparture(model[n], par,
                        new TranslationRegime(c.registers(), id.cpu()).paBits())) {
                    agree = true; // kept out: QEMU's answer departs from the Arm ARM (docs/translation.md)
                    tally.largeBlockDepartures++;
                } else {
                    long actual = Par.compared(par);
                    agree = !exception && actual == expected[n];
                }
                if (!agree) {
                    String qemuSaid = exception ? String.format("exception ESR 0x%x", answers.esr()[n]) : Par.describe(par);
                    tally.mismatchKinds.merge(p.op() + ": model " + outcome(model[n]) + ", QEMU "
                            + (exception ? "exception" : Par.kind(Par.compared(par))), 1, Integer::sum);
                    if (tally.mismatches.size() < 1000) {
                        tally.mismatches.add(String.format("%s VA 0x%016x: QEMU %s, model %s%n    case %s%n    walk %s",
                                p.op(), p.va(), qemuSaid, model[n], c.summary(), walk(memory, c, id, p.va())));
                    }
                }
                n++;
            }
        }
    }

    private static String outcome(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> "translated, leaf at level " + ok.level() + (ok.contiguous() ? " (contiguous)" : "");
            case Translation.Fault f -> f.type().name().toLowerCase().replace('_', ' ') + " fault, level " + f.level();
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
