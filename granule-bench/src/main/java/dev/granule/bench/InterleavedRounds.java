package dev.granule.bench;

import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Compares benchmark variants in paired rounds: each round runs one JMH fork of every variant, in
 * a rotated order, and the comparison is the ratio of each variant to the first <em>within a
 * round</em>.
 *
 * <p>Why not {@code -f 10}: JMH runs all forks of one benchmark, then all of the next, so a slow
 * spell of this shared 2-core machine (a neighbour, DAMON reclaiming, a host with a busier hour)
 * lands on whichever variant ran in it. That made a "constant is faster" conclusion out of three
 * runs and a "constant is slower" one out of the fourth. Rounds of ~30 s put every variant in the
 * same spell, and the median of the per-round ratios ignores the forks that fell on a slow spell.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar
 * dev.granule.bench.InterleavedRounds ROUNDS BASELINE VARIANT...}, each a benchmark's full or
 * simple name ({@code GeometryFoldingBenchmark.mapConstant}), with its parameters after a colon where
 * it has any ({@code D128TlbBenchmark.tlbHit:granule=4K,format=d128}); optional system properties
 * {@code -Drounds.warmup=5 -Drounds.iterations=3} (1 s each).
 */
public final class InterleavedRounds {

    private InterleavedRounds() { }

    public static void main(String[] args) throws RunnerException {
        if (args.length < 3) {
            System.err.println("usage: InterleavedRounds ROUNDS BASELINE VARIANT... "
                    + "(e.g. 10 GeometryFoldingBenchmark.mapConstant GeometryFoldingBenchmark.mapRuntime)");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        List<String> variants = List.of(Arrays.copyOfRange(args, 1, args.length));
        int warmup = Integer.getInteger("rounds.warmup", 5);
        int iterations = Integer.getInteger("rounds.iterations", 3);

        double[][] score = new double[variants.size()][rounds];
        for (int round = 0; round < rounds; round++) {
            // Rotate the order so that no variant always runs first (straight after the previous round's last).
            for (int k = 0; k < variants.size(); k++) {
                int v = (round + k) % variants.size();
                score[v][round] = forkMedian(variants.get(v), warmup, iterations);
            }
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "round %2d:", round + 1));
            for (int v = 0; v < variants.size(); v++) {
                line.append(String.format(Locale.ROOT, "  %s %.2f", simpleName(variants.get(v)), score[v][round]));
            }
            System.out.println(line);
        }
        System.out.println();
        System.out.println(report(variants, score));
    }

    /** Runs one fork of {@code benchmark} and returns the median of its measurement iterations. */
    private static double forkMedian(String variant, int warmup, int iterations) throws RunnerException {
        int colon = variant.indexOf(':');
        String benchmark = colon < 0 ? variant : variant.substring(0, colon);
        OptionsBuilder options = new OptionsBuilder();
        if (colon >= 0) {
            // name=value pairs: one value each, so that the fork is one benchmark (runSingle).
            for (String pair : variant.substring(colon + 1).split(",")) {
                String[] kv = pair.split("=", 2);
                if (kv.length != 2) throw new IllegalArgumentException("parameter " + pair + " of " + variant + " is not name=value");
                options.param(kv[0], kv[1]);
            }
        }
        RunResult result = new Runner(options
                .include("\\." + benchmark.replace(".", "\\.") + "$")
                .forks(1)
                .warmupIterations(warmup).warmupTime(TimeValue.seconds(1))
                .measurementIterations(iterations).measurementTime(TimeValue.seconds(1))
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT)
                .build()).runSingle();
        List<Double> values = new ArrayList<>();
        for (BenchmarkResult fork : result.getBenchmarkResults()) {
            for (IterationResult it : fork.getIterationResults()) values.add(it.getPrimaryResult().getScore());
        }
        return median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    static String report(List<String> variants, double[][] score) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-40s %10s %10s %28s%n", "variant", "median", "ratio", "ratio 95% CI (bootstrap)"));
        for (int v = 0; v < variants.size(); v++) {
            double[] ratios = new double[score[v].length];
            for (int r = 0; r < ratios.length; r++) ratios[r] = score[v][r] / score[0][r];
            double[] ci = bootstrapMedianInterval(ratios, 10_000, new SplittableRandom(1));
            out.append(String.format(Locale.ROOT, "%-40s %10.2f %10.3f %13.3f .. %.3f%n", variants.get(v),
                    median(score[v]), median(ratios), ci[0], ci[1]));
        }
        out.append("(score: median over rounds of each fork's median; ratio: median over rounds of variant / ")
                .append(variants.getFirst()).append(" in the same round)");
        return out.toString();
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Percentile bootstrap of the median: resample the rounds with replacement. */
    static double[] bootstrapMedianInterval(double[] values, int resamples, SplittableRandom random) {
        double[] medians = new double[resamples];
        double[] sample = new double[values.length];
        for (int i = 0; i < resamples; i++) {
            for (int j = 0; j < sample.length; j++) sample[j] = values[random.nextInt(values.length)];
            medians[i] = median(sample);
        }
        Arrays.sort(medians);
        return new double[] {medians[(int) (resamples * 0.025)], medians[(int) (resamples * 0.975) - 1]};
    }

    private static String simpleName(String variant) {
        int colon = variant.indexOf(':');
        String benchmark = colon < 0 ? variant : variant.substring(0, colon);
        return benchmark.substring(benchmark.lastIndexOf('.') + 1) + (colon < 0 ? "" : variant.substring(colon));
    }
}
