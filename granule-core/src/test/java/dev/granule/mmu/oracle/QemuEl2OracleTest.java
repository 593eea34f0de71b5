package dev.granule.mmu.oracle;

import dev.granule.geometry.Granule;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
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
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The EL2 (HCR_EL2.E2H = 0) and EL2&amp;0 (E2H = 1) regimes against QEMU's walker: {@code AT S1E2R}
 * and {@code S1E2W} run from EL3 ({@code at-probe-el3.S}) over the random, damaged tables of
 * {@link OracleCaseGenerator}. An EL2&amp;0 case takes the generated TCR (the EL1 layout), both TTBRs
 * and their ASIDs as TCR_EL2/TTBR0_EL2/TTBR1_EL2; an EL2 case writes the lower half's fields into
 * TCR_EL2's own layout (PS at [18:16], TBI [20], HPD [24], DS [32], RES1 [23] and [31]) and drops
 * the TTBR's ASID. The model ({@link TranslationRegime#el2}, {@link TranslationRegime#el20}) must
 * give the same PA, ATTR and SH, or the same fault kind and level, for every probe.
 *
 * <p>{@code -Dgranule.oracle.probes=N} per granule and regime (10,000 by default),
 * {@code -Dgranule.oracle.seed=S}.
 */
@Tag("qemu")
class QemuEl2OracleTest {

    static final long HCR_E2H = 1L << 34;

    @TempDir
    Path work;

    enum Kind { EL2, EL2_0 }

    /** One generated case as an EL2 or EL2&amp;0 setting. */
    record El2Case(OracleCase source, Kind kind, long tcr, long ttbr0, long ttbr1, long hcr) {
        TranslationRegime regime(dev.granule.geometry.CpuFeatures cpu) {
            Registers r = source.registers();
            return kind == Kind.EL2_0 ? TranslationRegime.el20(new Registers(tcr, ttbr0, ttbr1, r.mair(), r.sctlr(), false), cpu)
                    : TranslationRegime.el2(tcr, ttbr0, r.mair(), r.sctlr(), cpu);
        }

        Granule granuleOf(long va) { return kind == Kind.EL2 ? source.lower() : source.granuleOf(va); }
    }

    /**
     * TCR_EL1's lower-half fields in TCR_EL2's layout (E2H = 0), written from the Arm ARM's field
     * table: T0SZ, IRGN0, ORGN0, SH0, TG0 stay at [15:8] and [5:0]; IPS [34:32] -> PS [18:16];
     * TBI0 [37] -> TBI [20]; HA [39] -> [21]; HD [40] -> [22]; HPD0 [41] -> HPD [24]; DS [59] -> [32];
     * RES1 at [23] and [31].
     */
    static long tcrEl2Layout(long tcrEl1) {
        return (tcrEl1 & 0x3F) | (tcrEl1 & 0xFF00) | (tcrEl1 >>> 32 & 7) << 16 | (tcrEl1 >>> 37 & 1) << 20
                | (tcrEl1 >>> 39 & 1) << 21 | (tcrEl1 >>> 40 & 1) << 22 | (tcrEl1 >>> 41 & 1) << 24
                | (tcrEl1 >>> 59 & 1) << 32 | 1L << 23 | 1L << 31;
    }

    private OracleDriver oracle;
    private QemuAt.Answers id;
    private OracleDriver.Count aborts, largeBlockDepartures;

    @Test
    void el2AndEl20TranslationAgreesWithQemu() throws Exception {
        oracle = OracleDriver.start("QEMU EL2/EL2&0 AT oracle", QemuAt.Target.AARCH64_EL2, work, "probes",
                "per regime and granule");
        int perGranule = Integer.getInteger("granule.oracle.probes", 10_000);
        id = oracle.identify(3);
        aborts = oracle.count("walks ended in a synchronous external abort, taken with the expected DFSC");
        largeBlockDepartures = oracle.departure("probes at an offset beyond the PA size in a block larger than it"
                + " (the Arm ARM faults; QEMU 10.0.2 translates them or goes on to the block's Access flag or permission"
                + " fault; QemuLargeBlockOaTest)");
        for (Kind k : Kind.values()) oracle.spreadOver(Stream.of(Granule.values()).map(g -> k + " " + g).toList());

        oracle.runBatches(() -> oracle.fewest() >= perGranule, (seed, memory) -> runBatch(seed, memory, perGranule));

        oracle.finish("");
    }

    private void runBatch(long seed, SparseMemory memory, int perGranule) throws Exception {
        OracleCaseGenerator generator = new OracleCaseGenerator(seed, id.cpu(), memory);
        List<El2Case> cases = new ArrayList<>();
        generator.batch(() -> oracle.fewest() < perGranule, c -> {
            Registers r = c.registers();
            El2Case e = generator.random().nextBoolean()
                    ? new El2Case(c, Kind.EL2_0, r.tcr(), r.ttbr0(), r.ttbr1(), QemuAt.HCR_RW | HCR_E2H)
                    : new El2Case(c, Kind.EL2, tcrEl2Layout(r.tcr()), r.ttbr0() & 0x0000_FFFF_FFFF_FFFFL, 0, QemuAt.HCR_RW);
            cases.add(e);
            for (var p : c.probes()) oracle.spread(e.kind() + " " + e.granuleOf(p.va()), 1);
        });
        int total = cases.stream().mapToInt(e -> e.source().probes().size()).sum();
        Translation[] model = new Translation[total];
        int n = 0;
        for (El2Case e : cases) {
            Mmu m = new Mmu(e.regime(id.cpu()), memory, new Tlb(16, 4));
            for (var p : e.source().probes()) {
                m.tlb().invalidateAll();
                model[n] = m.translate(p.va(), access(p), 2);
                oracle.tally("model outcomes", e.kind() + ": " + outcome(model[n]));
                n++;
            }
        }
        byte[] tables = new byte[(int) (generator.tablesEnd() - QemuAt.TABLES_BASE)];
        memory.read(QemuAt.TABLES_BASE, tables, 0, tables.length);
        QemuAt.Answers answers = oracle.qemu.ask(job(cases, total), tables, total);
        n = 0;
        for (El2Case e : cases) {
            for (var p : e.source().probes()) {
                QemuAt.Answer a = answers.answer(n);
                Translation t = model[n++];
                if (!a.agreesStage1(t, par -> QemuLargeBlockDeparture.atStage1(oracle, t, par, e.regime(id.cpu()), memory),
                        aborts, largeBlockDepartures)) {
                    oracle.mismatch(e.kind() + " " + access(p) + ": model " + outcome(t) + ", QEMU " + a.kind(),
                            () -> String.format("%s %s VA 0x%016x: QEMU %s, model %s%n    TCR_EL2=0x%x TTBR0=0x%x"
                                            + " TTBR1=0x%x HCR=0x%x; case %s", e.kind(), access(p), p.va(), a.describe(),
                                    t, e.tcr(), e.ttbr0(), e.ttbr1(), e.hcr(), e.source().summary()));
                }
            }
        }
        oracle.asked(cases.size(), total);
    }

    /** AT S1E2R for the generated read probes, S1E2W for the writes. */
    private static Access access(OracleCase.Probe p) {
        return p.op().access == Access.WRITE ? Access.WRITE : Access.READ;
    }

    private static String outcome(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> "translated, leaf at level " + ok.level() + (ok.contiguous() ? " (contiguous)" : "");
            case Translation.Fault f -> OracleDriver.fault(f);
        };
    }

    private static byte[] job(List<El2Case> cases, int probes) {
        ByteBuffer b = QemuAt.le(8 + cases.size() * 72 + probes * 16);
        b.putLong(cases.size());
        for (El2Case e : cases) {
            Registers r = e.source().registers();
            b.putLong(e.tcr()).putLong(e.ttbr0()).putLong(e.ttbr1()).putLong(r.mair()).putLong(r.sctlr())
                    .putLong(e.hcr()).putLong(0).putLong(0).putLong(e.source().probes().size());
            for (var p : e.source().probes()) b.putLong(p.va()).putLong(access(p) == Access.WRITE ? 1 : 0);
        }
        return b.array();
    }
}
