package dev.granule.mmu.oracle;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Translation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every random QEMU oracle does around its own case generator and comparison: skips with the
 * reason when QEMU or binutils are missing, builds the probe, runs batches (one QEMU boot each, over
 * a fresh guest RAM, the generator seeded with the oracle seed plus the batch number) until the test
 * has enough, and keeps the tally: probes and cases asked, how they spread, what the model answered,
 * the departures of QEMU from the Arm ARM that are kept out of the comparison (counted apart, so a
 * departure that grows is seen), and the mismatches. {@link #finish} prints the summary and fails on
 * any mismatch.
 */
final class OracleDriver {

    /** Mismatches kept with their details; all of them are counted. */
    static final int MISMATCHES_KEPT = 200;

    /** One batch: generate cases into {@code memory}, let the model answer, ask QEMU, compare. */
    @FunctionalInterface
    interface Batch {
        void run(long seed, SparseMemory memory) throws Exception;
    }

    /** A number the summary prints on its own line, after what it counts. */
    static final class Count {
        private final String what;
        private int n;

        private Count(String what) { this.what = what; }

        void add() { n++; }

        void add(int more) { n += more; }

        int value() { return n; }
    }

    final String name;
    final long seed;
    final QemuAt qemu;
    private final String cpu;
    private final String version;
    private final String unit;
    private final String spreadLabel;
    private final Map<String, Integer> spread = new LinkedHashMap<>();
    private final Map<String, Map<String, Integer>> tallies = new LinkedHashMap<>();
    private final List<Count> counts = new ArrayList<>();
    private final List<Count> departures = new ArrayList<>();
    private final Map<String, Integer> mismatchKinds = new TreeMap<>();
    private final List<String> mismatches = new ArrayList<>();
    private int mismatchCount, probes, cases, batches;

    /** A driver over {@code qemu} (null in the driver's own test, which asks QEMU nothing). */
    OracleDriver(String name, long seed, QemuAt qemu, String cpu, String version, String unit, String spreadLabel) {
        this.name = name;
        this.seed = seed;
        this.qemu = qemu;
        this.cpu = cpu;
        this.version = version;
        this.unit = unit;
        this.spreadLabel = spreadLabel;
    }

    /**
     * The oracle {@code name} on {@code target}, its probe built in {@code work}; the test is skipped,
     * saying why, where QEMU or the probe's binutils are missing. {@code unit} names what is asked
     * ("probes", "accesses"), {@code spreadLabel} how {@link #spread} divides them ("per granule").
     */
    static OracleDriver start(String name, QemuAt.Target target, Path work, String unit, String spreadLabel)
            throws Exception {
        String missing = QemuAt.unavailableReason(target);
        assumeTrue(missing == null, () -> name + " skipped: " + missing);
        QemuAt qemu = new QemuAt(target, work);
        return new OracleDriver(name, Seeds.oracleSeed(), qemu, target.cpu(), qemu.version(), unit, spreadLabel);
    }

    /** The CPU's ID registers, checking that the probe runs at the Exception level it is written for. */
    QemuAt.Answers identify(int el) throws Exception {
        QemuAt.Answers id = qemu.identify();
        assertThat(id.currentEl()).as("the probe must run at EL%d", el).isEqualTo(el);
        return id;
    }

    /** Runs batches until {@code enough}; each gets the next seed and a fresh guest RAM. */
    void runBatches(BooleanSupplier enough, Batch batch) throws Exception {
        while (!enough.getAsBoolean()) {
            try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
                batch.run(seed + batches, memory);
            }
            batches++;
        }
    }

    int batches() { return batches; }

    /** Counts a batch's cases and probes once QEMU has answered them. */
    void asked(int batchCases, int batchProbes) {
        cases += batchCases;
        probes += batchProbes;
    }

    /** Declares the spread's keys, so that {@link #fewest} sees those still at zero, in this order. */
    void spreadOver(Iterable<?> keys) {
        for (Object k : keys) spread.putIfAbsent(String.valueOf(k), 0);
    }

    /** Adds {@code n} probes to {@code key} of the spread. */
    void spread(Object key, int n) { spread.merge(String.valueOf(key), n, Integer::sum); }

    /** The fewest probes any key of the spread has. */
    int fewest() { return spread.values().stream().mapToInt(Integer::intValue).min().orElse(0); }

    Map<String, Integer> spread() { return spread; }

    /** Counts one {@code key} in the table {@code title} (printed in the order the tables are first used). */
    void tally(String title, String key) { tally(title, key, 1); }

    void tally(String title, String key, int n) {
        tallies.computeIfAbsent(title, t -> new TreeMap<>()).merge(key, n, Integer::sum);
    }

    Map<String, Integer> tally(String title) { return tallies.getOrDefault(title, Map.of()); }

    /** A number to print in the summary: "  N {@code what}". */
    Count count(String what) {
        Count c = new Count(what);
        counts.add(c);
        return c;
    }

    /**
     * Probes where QEMU departs from the Arm ARM and the model follows the Arm ARM: kept out of the
     * comparison, counted and printed apart ({@code what} says which departure, and where it is pinned).
     */
    Count departure(String what) {
        Count c = new Count(what);
        departures.add(c);
        return c;
    }

    /** A disagreement: counted by {@code kind} (null: not by kind), its details kept for the first few. */
    void mismatch(String kind, Supplier<String> details) {
        mismatchCount++;
        if (kind != null) mismatchKinds.merge(kind, 1, Integer::sum);
        if (mismatches.size() < MISMATCHES_KEPT) mismatches.add(details.get());
    }

    /** A fault as the outcome tables name it: "translation fault, level 3". */
    static String fault(Translation.Fault f) {
        return f.type().name().toLowerCase().replace('_', ' ') + " fault, level " + f.level();
    }

    /** A fault of a two-stage regime: "stage-2 (s1 walk) permission fault, level 1". */
    static String stagedFault(Translation.Fault f) {
        return (f.stage() == 2 ? "stage-2 " + (f.s1ptw() ? "(s1 walk) " : "") : "stage-1 ") + fault(f);
    }

    /**
     * Prints the summary (what was asked, {@code detail} beside the seed, the tables, counts and
     * departures, the mismatches by kind) and fails if the model and QEMU disagreed anywhere.
     */
    void finish(String detail) {
        System.out.printf("%s (seed %d, %s, -cpu %s%s): %d %s in %d cases, %d QEMU runs, %s %s, %d mismatches%n",
                name, seed, version, cpu, detail.isEmpty() ? "" : ", " + detail, probes, unit, cases, batches,
                spreadLabel, spread, mismatchCount);
        tallies.forEach((title, table) -> {
            System.out.printf("  %s:%n", title);
            table.forEach((k, v) -> System.out.printf("  %8d  %s%n", v, k));
        });
        for (Count c : counts) System.out.printf("  %d %s%n", c.n, c.what);
        if (!departures.isEmpty()) System.out.printf("  kept out, %s departs from the Arm ARM:%n", version);
        for (Count c : departures) System.out.printf("  %d %s%n", c.n, c.what);
        if (!mismatchKinds.isEmpty()) System.out.printf("  mismatches by kind:%n");
        mismatchKinds.forEach((k, v) -> System.out.printf("  %6d  %s%n", v, k));
        assertThat(mismatchCount).as("%s: where the model and QEMU disagree (seed %d), first 20:%n%s", name, seed,
                String.join("\n", mismatches.subList(0, Math.min(20, mismatches.size())))).isZero();
    }
}
