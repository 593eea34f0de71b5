package dev.granule.impact.trace;

import dev.granule.geometry.Geometry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real trace: {@code /bin/ls} run under Debian's Valgrind (lackey), replayed, and every count
 * checked against {@link Reference}, a small simulator of the same TLB model written here the
 * obvious way (String parsing, a LinkedHashMap in access order per set, a HashSet of touched pages).
 */
class LackeyReplayTest {

    @TempDir
    Path dir;

    @Test
    void aProgramUnderValgrindLackeyReplaysAsTheReferenceSimulatorSays() throws Exception {
        Path valgrind = Path.of("/usr/bin/valgrind");
        assumeTrue(Files.isExecutable(valgrind), "valgrind is not installed (apt-get install valgrind)");
        Path trace = dir.resolve("ls.lackey");
        Process p = new ProcessBuilder(valgrind.toString(), "--tool=lackey", "--trace-mem=yes", "--log-file=" + trace,
                "/bin/ls", "/").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assumeTrue(p.waitFor(120, TimeUnit.SECONDS), "valgrind did not finish in 2 minutes");
        assumeTrue(p.exitValue() == 0 && Files.size(trace) > 0, "valgrind failed (exit " + p.exitValue() + ")");

        List<Geometry> geometries = List.of(Geometry.FOUR_K_48, Geometry.SIXTEEN_K_48, Geometry.SIXTY_FOUR_K_48);
        List<TlbConfig> configs = List.of(TlbConfig.NEOVERSE_N1, TlbConfig.CORTEX_A72, TlbConfig.oneLevel(64, 4));
        var outcome = StreamingReplay.run(new TraceInput(trace.toString()), null, false,
                new StreamingReplay.Plan(geometries, configs, Replayer.Mapping.PAGES), n -> {});
        assertThat(outcome.stats().format()).isEqualTo(TraceFormat.LACKEY);
        assertThat(outcome.stats().malformed()).isZero();
        assertThat(outcome.stats().accesses()).isGreaterThan(100_000);

        List<Reference.Line> lines = Reference.parse(trace);
        int i = 0;
        for (TlbConfig c : configs) {
            for (Geometry g : geometries) {
                ReplayResult got = outcome.results().get(i++);
                long[] want = Reference.run(lines, c, g);
                assertThat(new long[]{got.accesses(), got.instructions(), got.translations(), got.l1iMisses(),
                        got.l1dMisses(), got.l2Misses(), got.walkReferences(), got.walkReferencesWithWalkCache(),
                        got.pageFaults(), got.footprintBytes()})
                        .as("%s at %s: accesses, instructions, translations, L1i, L1d, L2 misses, walk refs, with cache,"
                                + " faults, footprint", c.name(), g.label())
                        .containsExactly(want);
            }
        }
        // Sanity of the model itself: larger pages never take more L2 misses on this trace.
        assertThat(outcome.results().get(0).l2Misses()).isGreaterThanOrEqualTo(outcome.results().get(2).l2Misses());
    }

    /** The TLB model, written for clarity only. */
    static final class Reference {
        /** LRU sets of keys; a set is chosen by key modulo the number of sets. */
        static final class Lru {
            final int sets, ways;
            final Map<Long, LinkedHashMap<Long, Boolean>> content = new HashMap<>();

            Lru(TlbLevel l) {
                sets = l.entries() / l.ways();
                ways = l.ways();
            }

            LinkedHashMap<Long, Boolean> set(long key) {
                return content.computeIfAbsent(Math.floorMod(key, (long) sets), k -> new LinkedHashMap<>(16, 0.75f, true));
            }

            boolean lookup(long key) { return set(key).get(key) != null; }

            void insert(long key) {
                var s = set(key);
                if (s.size() == ways) s.remove(s.keySet().iterator().next());
                s.put(key, true);
            }
        }

        /** One lackey line: its kind letter, address and size. */
        record Line(char kind, long va, int size) {}

        static List<Line> parse(Path trace) throws Exception {
            List<Line> out = new ArrayList<>();
            try (BufferedReader in = Files.newBufferedReader(trace)) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("==")) continue;
                    String[] f = line.trim().split("\\s+");
                    String[] addrSize = f[1].split(",");
                    int size = Integer.parseInt(addrSize[1]);
                    assertThat(size).as("the model splits accesses above 64 bytes; this test assumes none").isBetween(1, 64);
                    out.add(new Line(f[0].charAt(0), Long.parseLong(addrSize[0], 16), size));
                }
            }
            return out;
        }

        static long[] run(List<Line> lines, TlbConfig c, Geometry g) {
            int shift = g.pageShift();
            int levels = 3 - g.startLevel() + 1;
            int walkShift = g.shift(2);
            Lru l1i = c.l1i() == null ? null : new Lru(c.l1i()), l1d = c.l1d() == null ? null : new Lru(c.l1d());
            Lru l2 = new Lru(c.l2()), walkCache = new Lru(c.walkCache());
            Set<Long> touched = new HashSet<>();
            long accesses = 0, instructions = 0, translations = 0, l1iMiss = 0, l1dMiss = 0, l2Miss = 0, walk = 0, walkCached = 0;
            for (Line line : lines) {
                long va = line.va();
                int size = line.size();
                List<Boolean> kinds = new ArrayList<>(); // true: instruction
                switch (line.kind()) {
                    case 'I' -> kinds.add(true);
                    case 'L', 'S' -> kinds.add(false);
                    case 'M' -> { kinds.add(false); kinds.add(false); }
                    default -> throw new AssertionError(line);
                }
                for (boolean instruction : kinds) {
                    accesses++;
                    if (instruction) instructions++;
                    for (long page = va >>> shift; page <= (va + size - 1) >>> shift; page++) {
                        translations++;
                        Lru l1 = instruction ? l1i : l1d;
                        if (l1 != null && l1.lookup(page)) continue;
                        if (l1 != null) {
                            if (instruction) l1iMiss++;
                            else l1dMiss++;
                        }
                        if (!l2.lookup(page)) {
                            l2Miss++;
                            touched.add(page);
                            walk += levels;
                            long wk = (page << shift) >>> walkShift;
                            if (walkCache.lookup(wk)) walkCached += 1;
                            else {
                                walkCached += levels;
                                walkCache.insert(wk);
                            }
                            l2.insert(page);
                        }
                        if (l1 != null) l1.insert(page);
                    }
                }
            }
            return new long[]{accesses, instructions, translations, l1iMiss, l1dMiss, l2Miss, walk, walkCached,
                    touched.size(), (long) touched.size() << shift};
        }
    }
}
