package dev.granule.bench;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The settings the walk, TLB, edit and dump benchmarks share, in one place: average time per
 * operation in nanoseconds, 3 x 1 s of warm-up and 5 x 1 s of measurement in one fork, state per
 * thread. JMH reads these annotations up the class hierarchy, nearest first, so a subclass that
 * needs another setting declares just that one ({@link EditBenchmark} warms up longer,
 * {@link DumpBenchmark} shares its dump between threads).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public abstract class NanosecondBenchmark {
}
