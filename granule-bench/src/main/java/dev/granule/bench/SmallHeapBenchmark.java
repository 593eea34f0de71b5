package dev.granule.bench;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The settings of the benchmarks that also prove a memory bound: one timed run per iteration over
 * input built once per fork, in a fork whose heap is 256 MiB, so an analysis or replay that needed
 * more memory than it claims fails here instead of running slowly. Subclasses give their time
 * unit and iteration counts.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "--enable-native-access=ALL-UNNAMED"})
public abstract class SmallHeapBenchmark {
}
