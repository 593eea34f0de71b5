package dev.granule.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The statistics BENCHMARKS.md's paired-round ratios rest on, against values worked by hand. */
class InterleavedRoundsTest {

    @Test
    void medianOfOddCountIsTheMiddleValue() {
        assertEquals(3.0, InterleavedRounds.median(new double[] {5, 1, 3}));
    }

    @Test
    void medianOfEvenCountIsTheMeanOfTheTwoMiddleValues() {
        assertEquals(2.5, InterleavedRounds.median(new double[] {4, 1, 3, 2}));
    }

    @Test
    void medianLeavesItsInputInOrder() {
        double[] values = {3, 1, 2};
        InterleavedRounds.median(values);
        assertArrayEquals(new double[] {3, 1, 2}, values);
    }

    @Test
    void bootstrapIntervalOfIdenticalRatiosIsThatRatio() {
        double[] ci = InterleavedRounds.bootstrapMedianInterval(new double[] {0.97, 0.97, 0.97}, 1000, new SplittableRandom(7));
        assertArrayEquals(new double[] {0.97, 0.97}, ci);
    }

    @Test
    void bootstrapIntervalLiesWithinTheSampleAndAroundItsMedian() {
        double[] ratios = {0.90, 0.95, 0.98, 1.00, 1.01, 1.02, 1.05, 1.10, 1.20};
        double[] ci = InterleavedRounds.bootstrapMedianInterval(ratios, 10_000, new SplittableRandom(1));
        assertTrue(ci[0] >= 0.90 && ci[1] <= 1.20, "interval " + ci[0] + ".." + ci[1] + " leaves the sample");
        assertTrue(ci[0] <= 1.01 && 1.01 <= ci[1], "interval " + ci[0] + ".." + ci[1] + " misses the median 1.01");
        assertTrue(ci[0] < ci[1], "a spread sample gives a non-empty interval");
    }

    @Test
    void ratioIsTheMedianOfPerRoundRatiosNotTheRatioOfMedians() {
        // Per round 9/10, 30/20, 20/30 = 0.9, 1.5, 0.667: median 0.9; both variants' medians are 20 (ratio 1.0).
        double[][] score = {{10, 20, 30}, {9, 30, 20}};
        String report = InterleavedRounds.report(List.of("base", "other"), score);
        String line = report.lines().filter(l -> l.startsWith("other ")).findFirst().orElseThrow();
        String[] columns = line.trim().split("\\s+");
        assertEquals("20.00", columns[1], report);
        assertEquals("0.900", columns[2], report);
    }
}
