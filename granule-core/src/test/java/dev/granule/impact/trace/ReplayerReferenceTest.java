package dev.granule.impact.trace;

import dev.granule.geometry.Geometry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replay's counts on a generated trace that makes every TLB evict (48-entry L1s, a 5-way and a
 * 4-way L2, the 64-entry walk cache) checked against {@link LackeyReplayTest.Reference}, the
 * LinkedHashMap simulator written for clarity: runs without valgrind, so a change to the replay's
 * data structures is checked on every build, evictions and page-crossing accesses included.
 */
class ReplayerReferenceTest {

    @Test
    void countsMatchTheReferenceSimulatorUnderHeavyEviction() {
        List<LackeyReplayTest.Reference.Line> lines = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(20);
        long pc = 0x40_0000L;
        for (int i = 0; i < 300_000; i++) {
            if (i % 3 == 0) {
                // Instructions: sequential with jumps over 4 MiB of text (more pages than any L1i holds).
                pc = random.nextInt(8) == 0 ? 0x40_0000L + random.nextInt(4 << 20) : pc + 4;
                lines.add(new LackeyReplayTest.Reference.Line('I', pc, 4));
            } else {
                int r = random.nextInt(10);
                long va = r < 5 ? 0x7fff_0000_0000L + random.nextInt(256 << 10)      // a stack: L1 hits
                        : r < 8 ? 0x10_0000_0000L + random.nextLong(64L << 20)     // a heap: L2 hits and misses
                        : 0x20_0000_0000L + random.nextLong(16L << 30);            // sparse: walks, faults
                int size = 1 + random.nextInt(64);                                  // crosses a page now and then
                char kind = "LLLSSM".charAt(random.nextInt(6));
                lines.add(new LackeyReplayTest.Reference.Line(kind, va, size));
            }
        }
        long[] packed = new long[lines.size() * 2];
        int n = 0;
        for (var line : lines) {
            switch (line.kind()) {
                case 'I' -> packed[n++] = Access.pack(line.va(), Access.EXECUTE, line.size());
                case 'L' -> packed[n++] = Access.pack(line.va(), Access.READ, line.size());
                case 'S' -> packed[n++] = Access.pack(line.va(), Access.WRITE, line.size());
                case 'M' -> {
                    packed[n++] = Access.pack(line.va(), Access.READ, line.size());
                    packed[n++] = Access.pack(line.va(), Access.WRITE, line.size());
                }
                default -> throw new AssertionError(line);
            }
        }
        for (TlbConfig c : List.of(TlbConfig.NEOVERSE_N1, TlbConfig.CORTEX_A72, TlbConfig.oneLevel(64, 4),
                TlbConfig.oneLevel(48, 48))) {
            for (Geometry g : List.of(Geometry.FOUR_K_48, Geometry.SIXTEEN_K_48, Geometry.SIXTY_FOUR_K_48)) {
                Replayer replayer = new Replayer(g, c, Replayer.Mapping.PAGES);
                // Batches of uneven length, as the readers hand them over.
                for (int i = 0; i < n; ) {
                    int count = Math.min(n - i, 1 + random.nextInt(5000));
                    replayer.accept(java.util.Arrays.copyOfRange(packed, i, i + count), count);
                    i += count;
                }
                ReplayResult got = replayer.result();
                long[] want = LackeyReplayTest.Reference.run(lines, c, g);
                assertThat(new long[]{got.accesses(), got.instructions(), got.translations(), got.l1iMisses(),
                        got.l1dMisses(), got.l2Misses(), got.walkReferences(), got.walkReferencesWithWalkCache(),
                        got.pageFaults(), got.footprintBytes()})
                        .as("%s at %s: accesses, instructions, translations, L1i, L1d, L2 misses, walk refs, with cache,"
                                + " faults, footprint", c.name(), g.label())
                        .containsExactly(want);
                assertThat(got.l2Misses()).as("the trace must make the L2 evict").isGreaterThan(c.l2().entries() * 4L);
            }
        }
    }
}
