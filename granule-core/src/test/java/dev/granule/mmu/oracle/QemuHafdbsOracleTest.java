package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Granule;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hardware updates of the Access flag and dirty state (FEAT_HAFDBS) checked by REAL accesses:
 * QEMU 10's {@code -cpu max} (HAFDBS = 2) makes loads, stores and instruction fetches at EL1 and
 * EL0 through random tables ({@link HafdbsCaseGenerator}) with TCR_EL1.HA/HD, one stage or over a
 * stage 2 with VTCR_EL2.HA/HD, and then prints every descriptor word the generator wrote. The
 * model ({@link Mmu} with one TLB per case, as the CPU keeps one across a case's accesses) makes
 * the same accesses in the same order over the same memory; each access must end the same way
 * (completed, or the exception's level, class, fault status, WnR, S1PTW, FAR and HPFAR) and every
 * word must then be equal, byte for byte.
 *
 * <p>{@code -Dgranule.oracle.hafdbs=N} sets the accesses per stage-1 granule (4,000 by default),
 * half of them over a stage 2 with a random granule. {@link QemuHafdbsPieOracleTest} runs the same
 * batches ({@link #runBatch}) under permission indirection on QEMU 11.
 */
@Tag("qemu")
class QemuHafdbsOracleTest {

    static final int ACCESSES_PER_CASE = 40;
    static final int CASES_PER_BATCH = 120;
    static final long BATCH_TABLES_LIMIT = HafdbsCaseGenerator.IDENTITY_END - (16L << 20);

    @TempDir
    Path work;

    @Test
    void hardwareAccessFlagAndDirtyUpdatesEqualQemusAfterRealAccesses() throws Exception {
        OracleDriver oracle = OracleDriver.start("QEMU hardware-update oracle", QemuAt.Target.AARCH64_HAFDBS, work, "accesses",
                "per stage-1 granule and stage 2");
        int perGranule = Integer.getInteger("granule.oracle.hafdbs", 4_000);
        QemuAt.Answers id = identify(oracle.qemu.output(new byte[32], null));
        assertThat(id.currentEl()).as("the probe must run at EL2").isEqualTo(2);
        assertThat(id.id()[1] & 0xF).as("ID_AA64MMFR1_EL1.HAFDBS: Access flag and dirty state").isEqualTo(2);
        OracleDriver.Count words = oracle.count("descriptor words compared");

        for (Granule g1 : Granule.values()) {
            int[] done = {0};
            oracle.runBatches(() -> done[0] >= perGranule, (seed, memory) -> done[0] += runBatch(oracle, words,
                    new HafdbsCaseGenerator(seed, id.cpu(), memory), id.cpu(), memory, g1, perGranule - done[0], KEEP_NONE));
        }

        oracle.finish("real loads/stores/fetches");
        var updates = oracle.tally(WORDS_AFTER);
        assertThat(updates.keySet()).as("the oracle saw the updates it is for")
                .anyMatch(k -> k.startsWith("stage-1") && k.contains("AF set"))
                .anyMatch(k -> k.startsWith("stage-1") && k.contains("AP[2] cleared"))
                .anyMatch(k -> k.startsWith("stage-2 page of data") && k.contains("AF set"))
                .anyMatch(k -> k.startsWith("stage-2 page of data") && k.contains("S2AP[1] set"))
                .anyMatch(k -> k.startsWith("stage-2 page of stage-1 tables") && k.contains("AF set"))
                .anyMatch(k -> k.startsWith("stage-2 page of stage-1 tables") && k.contains("S2AP[1] set"));
        assertThat(oracle.tally(OUTCOMES).keySet()).as("stage-1 descriptor updates that stage 2 refuses")
                .anyMatch(k -> k.contains("stage-2 (s1 walk) permission fault"));
    }

    static final String OUTCOMES = "access outcomes (model)", WORDS_AFTER = "descriptor words after the accesses (QEMU)";

    /**
     * A rule that keeps an access out of the comparison where QEMU is known to depart from the Arm ARM:
     * asked before the model makes the access (the model's memory is then what QEMU's is, as every
     * earlier access agreed), and when it holds the access is neither made by the model nor asked of
     * QEMU, so nothing after it depends on which of the two was right. The rule counts what it keeps out.
     */
    @FunctionalInterface
    interface KeepOut {
        boolean keepsOut(HafdbsCaseGenerator.Case c, HafdbsCaseGenerator.Probe p, Mmu mmu, SparseMemory memory);
    }

    static final KeepOut KEEP_NONE = (c, p, mmu, memory) -> false;

    /**
     * One QEMU run of cases from {@code generator} with stage-1 granule {@code g1}, at most {@code wanted}
     * accesses, compared with the model on {@code cpu}; returns how many accesses were generated (kept
     * out ones included, so that a run ends however many a rule keeps out).
     */
    static int runBatch(OracleDriver oracle, OracleDriver.Count words, HafdbsCaseGenerator generator, CpuFeatures cpu,
                        SparseMemory memory, Granule g1, int wanted, KeepOut keepOut) throws Exception {
        List<HafdbsCaseGenerator.Case> batch = new ArrayList<>();
        int accesses = 0;
        while (batch.size() < CASES_PER_BATCH && generator.tablesEnd() < BATCH_TABLES_LIMIT && accesses < wanted) {
            Granule g2 = batch.size() % 2 == 0 ? null : Granule.values()[batch.size() / 2 % 3];
            var c = generator.next(g1, g2, ACCESSES_PER_CASE);
            batch.add(c);
            accesses += c.probes().size();
            oracle.spread(g1 + (g2 == null ? " one stage" : " over " + g2), c.probes().size());
        }
        Map<Long, String> set = generator.words();
        long[] addresses = set.keySet().stream().mapToLong(Long::longValue).toArray();
        long[] before = new long[addresses.length];
        for (int i = 0; i < addresses.length; i++) before[i] = memory.readLong(addresses[i]);
        byte[] tables = new byte[(int) (generator.tablesEnd() - QemuAt.TABLES_BASE)];
        memory.read(QemuAt.TABLES_BASE, tables, 0, tables.length);

        // The model makes every access before QEMU runs, updating its copy of the tables.
        List<Translation> model = new ArrayList<>();
        List<List<HafdbsCaseGenerator.Probe>> asked = new ArrayList<>();
        for (var c : batch) {
            Stage2Regime s2 = c.stage2() == null ? null : new Stage2Regime(c.hcr(), c.vtcr(), c.vttbr(), c.s2pir(), 0, cpu);
            var mmu = new Mmu(new TranslationRegime(c.registers(), c.indirection(), cpu), s2, memory, new Tlb(16, 4));
            List<HafdbsCaseGenerator.Probe> list = new ArrayList<>();
            for (var p : c.probes()) {
                if (keepOut.keepsOut(c, p, mmu, memory)) continue;
                model.add(mmu.translate(p.va(), p.access(), p.el()));
                list.add(p);
            }
            asked.add(list);
        }
        boolean indirection = generator.indirection();
        Run run = ask(oracle.qemu, batch, asked, addresses, tables, indirection);

        int n = 0;
        for (int i = 0; i < batch.size(); i++) {
            var c = batch.get(i);
            for (var p : asked.get(i)) {
                Translation t = model.get(n);
                String qemuSays = run.lines.get(n);
                String expected = expected(p, t);
                oracle.tally(OUTCOMES, String.format("%-9s %s", p.name(), outcome(t)));
                if (!expected.equals(qemuSays)) {
                    oracle.mismatch(p.name() + " outcome", () -> String.format("%s VA 0x%x: QEMU \"%s\", model \"%s\" (%s)%n    case %s",
                            p.name(), p.va(), qemuSays, expected, t, c.summary()));
                }
                n++;
            }
        }
        for (int i = 0; i < addresses.length; i++) {
            long address = addresses[i], was = before[i], mine = memory.readLong(address), theirs = run.words[i];
            oracle.tally(WORDS_AFTER, set.get(address) + ": " + change(was, theirs, indirection));
            if (mine != theirs) {
                oracle.mismatch(set.get(address) + " after the accesses", () -> String.format(
                        "%s at PA 0x%x: was 0x%016x, QEMU 0x%016x, model 0x%016x", set.get(address), address, was, theirs, mine));
            }
        }
        words.add(addresses.length);
        oracle.asked(batch.size(), n);
        return accesses;
    }

    /**
     * The probe's line for the model's answer: "O" for an EL1 access that completed; EL0's SVC after
     * its load or store (EC 0x15) or the UNDEFINED HVC its fetch executed (EC 0x00) as "1 esr far";
     * a stage-1 fault taken to EL1, a stage-2 fault to EL2, with the fields the architecture fixes.
     */
    static String expected(HafdbsCaseGenerator.Probe p, Translation t) {
        return switch (t) {
            case Translation.Translated ok -> p.el() == 1 ? "O" : p.access() == Access.EXECUTE ? "EL0 fetched" : "EL0 done";
            case Translation.Fault f -> {
                boolean fetch = p.access() == Access.EXECUTE;
                // Instruction or Data Abort; "from a lower Exception level" when taken to EL2 or from EL0.
                int ec = (fetch ? 0x20 : 0x24) | (f.stage() == 1 ? p.el() : 0);
                long iss = Par.faultStatus(f.type(), f.level());
                // WnR is the access's direction, on a stage-1 walk's fault too: the fault record the
                // walk and the descriptor update pass to AArch64.S2Translate is the access's.
                if (!fetch && p.access() == Access.WRITE) iss |= 1 << 6;
                if (f.s1ptw()) iss |= 1 << 7;
                yield f.stage() == 1 ? String.format("1 ec 0x%x iss 0x%x far 0x%x", ec, iss, p.va())
                        : String.format("2 ec 0x%x iss 0x%x far 0x%x ipa 0x%x", ec, iss, p.va(), f.ipa() >>> 12);
            }
        };
    }

    /** What an access looked like in the probe's words: QEMU's line reduced as {@link #expected} writes it. */
    private static String reduce(String line) {
        String[] f = line.split(" ");
        if (f[0].equals("O")) return "O";
        long esr = Long.parseUnsignedLong(f[1], 16), far = Long.parseUnsignedLong(f[2], 16);
        int ec = (int) (esr >>> 26 & 0x3F);
        // ISS: DFSC/IFSC [5:0], WnR [6] (data aborts), S1PTW [7]; the rest (ISV, SAS, ...) is not the walk's.
        long iss = esr & 0xFF;
        if (f[0].equals("1")) {
            if (ec == 0x15) return "EL0 done";
            if (ec == 0x00) return "EL0 fetched";
            return String.format("1 ec 0x%x iss 0x%x far 0x%x", ec, iss, far);
        }
        long hpfar = Long.parseUnsignedLong(f[3], 16);
        return String.format("2 ec 0x%x iss 0x%x far 0x%x ipa 0x%x", ec, iss, far, hpfar >>> 4);
    }

    private static String outcome(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> "completed, stage-1 leaf at level " + ok.level();
            case Translation.Fault f -> OracleDriver.stagedFault(f);
        };
    }

    /**
     * How a descriptor word changed: the bits the hardware may update, by the stage it belongs to; bit 7
     * is AP[2] / S2AP[1] with direct permissions, nDirty / Dirty under {@code indirection}.
     */
    private static String change(long before, long after, boolean indirection) {
        if (before == after) return "unchanged";
        List<String> what = new ArrayList<>();
        long diff = before ^ after;
        if ((diff & HafdbsCaseGenerator.AF) != 0) what.add((after & HafdbsCaseGenerator.AF) != 0 ? "AF set" : "AF cleared");
        if ((diff & 1L << 7) != 0) {
            boolean set = (after & 1L << 7) != 0;
            what.add(indirection ? (set ? "Dirty set" : "nDirty cleared") : (set ? "S2AP[1] set" : "AP[2] cleared"));
        }
        if ((diff & ~(HafdbsCaseGenerator.AF | 1L << 7)) != 0) what.add(String.format("other bits 0x%x", diff & ~(HafdbsCaseGenerator.AF | 1L << 7)));
        return String.join(", ", what);
    }

    /** The probe's "I" line from a run with no cases. */
    static QemuAt.Answers identify(String out) throws IOException {
        for (String line : out.split("\n")) {
            if (!line.startsWith("I ")) continue;
            String[] f = line.strip().substring(2).split(" ");
            long[] id = new long[f.length];
            for (int i = 0; i < f.length; i++) id[i] = Long.parseUnsignedLong(f[i], 16);
            return new QemuAt.Answers(id, new long[0], new boolean[0], new long[0]);
        }
        throw new IOException("the probe printed no ID line:\n" + out);
    }

    /** What QEMU answered: one line per access as {@link #expected} writes it, then the descriptor words asked for. */
    record Run(List<String> lines, long[] words) {}

    /**
     * One QEMU run of {@code batch}, making the accesses {@code asked} (per case) over {@code tables}
     * (guest RAM from {@link QemuAt#TABLES_BASE}), then reading the words at {@code addresses}.
     */
    static Run ask(QemuAt qemu, List<HafdbsCaseGenerator.Case> batch, List<List<HafdbsCaseGenerator.Probe>> asked,
                   long[] addresses, byte[] tables, boolean indirection) throws IOException, InterruptedException {
        int accesses = asked.stream().mapToInt(List::size).sum();
        return parse(qemu.output(job(batch, asked, addresses, indirection), tables), accesses, addresses.length);
    }

    private static Run parse(String out, int accesses, int words) throws IOException {
        List<String> lines = new ArrayList<>(accesses);
        long[] values = new long[words];
        int w = 0;
        boolean dump = false, end = false;
        for (String line : out.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("I ")) continue;
            if (line.startsWith("!")) throw new IOException("the probe took an exception at EL2: " + line);
            if (line.equals("END")) { end = true; continue; }
            if (line.equals("D")) { dump = true; continue; }
            if (dump) {
                if (w >= words) throw new IOException("the probe printed more words than were asked");
                values[w++] = Long.parseUnsignedLong(line, 16);
            } else {
                lines.add(reduce(line));
            }
        }
        if (!end || lines.size() != accesses || w != words) {
            throw new IOException("the probe did not finish (" + lines.size() + " of " + accesses + " accesses, " + w
                    + " of " + words + " words); output:\n" + out.substring(0, Math.min(out.length(), 2000)));
        }
        return new Run(lines, values);
    }

    /** Bit 63 of hafdbs-probe.S's case count: each case carries TCR2_EL1, PIR_EL1, PIRE0_EL1, S2PIR_EL2. */
    static final long INDIRECTION_JOB = 1L << 63;

    private static byte[] job(List<HafdbsCaseGenerator.Case> batch, List<List<HafdbsCaseGenerator.Probe>> asked, long[] words,
                              boolean indirection) {
        int accesses = asked.stream().mapToInt(List::size).sum();
        ByteBuffer b = QemuAt.le(8 * 3 + batch.size() * (indirection ? 112 : 80) + accesses * 16 + 8 + words.length * 8);
        b.putLong(HafdbsCaseGenerator.SCRATCH).putLong(HafdbsCaseGenerator.SCRATCH_BYTES);
        b.putLong(batch.size() | (indirection ? INDIRECTION_JOB : 0));
        for (int i = 0; i < batch.size(); i++) {
            var c = batch.get(i);
            var r = c.registers();
            b.putLong(r.tcr()).putLong(r.ttbr0()).putLong(r.ttbr1()).putLong(r.mair()).putLong(r.sctlr())
                    .putLong(c.hcr()).putLong(c.vtcr()).putLong(c.vttbr()).putLong(r.pan() ? 1L << 22 : 0)
                    .putLong(asked.get(i).size());
            if (indirection) {
                var pie = c.indirection();
                b.putLong(pie.tcr2()).putLong(pie.pir()).putLong(pie.pire0()).putLong(c.s2pir());
            }
            for (var p : asked.get(i)) b.putLong(p.va()).putLong(p.op());
        }
        b.putLong(words.length);
        for (long a : words) b.putLong(a);
        return b.array();
    }
}
