package dev.granule.impact.trace;

import dev.granule.geometry.Geometry;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;

/**
 * One pass over a trace for every geometry and every TLB configuration: the caller's thread parses
 * the input into packed batches and hands each batch to one consumer thread per geometry, which
 * replays it through that geometry's {@link Replayer}s (one per TLB configuration). Each consumer's
 * queue holds at most {@link #QUEUE} batches, so memory is bounded by the batches in flight and the
 * replayers' TLBs and page bitmaps, whatever the trace's length; a slow consumer slows the parser.
 */
public final class StreamingReplay {

    static final int QUEUE = 8;
    private static final long[] END = new long[0];

    /** What to replay: the geometries (page sizes), the TLB configurations, how pages are mapped. */
    public record Plan(List<Geometry> geometries, List<TlbConfig> configs, Replayer.Mapping mapping) {
        public Plan {
            geometries = List.copyOf(geometries);
            configs = List.copyOf(configs);
            if (geometries.isEmpty() || configs.isEmpty()) throw new IllegalArgumentException("nothing to replay");
        }
    }

    /** The input's stats and one result per configuration and geometry: each configuration's page sizes together. */
    public record Outcome(TraceStats stats, List<ReplayResult> results) {}

    private StreamingReplay() {}

    /**
     * @param progress called on the parser thread after each batch with the accesses read so far
     */
    public static Outcome run(TraceInput input, TraceFormat format, boolean strict, Plan plan, LongConsumer progress)
            throws IOException, InterruptedException {
        List<List<Replayer>> groups = new ArrayList<>();
        for (Geometry g : plan.geometries()) {
            List<Replayer> group = new ArrayList<>();
            for (TlbConfig c : plan.configs()) group.add(new Replayer(g, c, plan.mapping()));
            groups.add(group);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<BlockingQueue<long[]>> queues = new ArrayList<>();
        List<Thread> consumers = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            BlockingQueue<long[]> queue = new ArrayBlockingQueue<>(QUEUE);
            List<Replayer> group = groups.get(i);
            queues.add(queue);
            consumers.add(Thread.ofPlatform().name("replay-" + plan.geometries().get(i).granule().label()).start(() -> {
                while (true) {
                    long[] batch;
                    try {
                        batch = queue.take();
                    } catch (InterruptedException e) {
                        failure.compareAndSet(null, e);
                        return;
                    }
                    if (batch == END) return;
                    if (failure.get() != null) continue; // drain, so that the parser never blocks
                    try {
                        for (Replayer r : group) r.accept(batch, batch.length);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }
            }));
        }
        long[] total = {0};
        TraceStats stats;
        try {
            stats = input.read(format, strict, TraceInput.BATCH, (accesses, count) -> {
                long[] batch = count == accesses.length ? accesses : Arrays.copyOf(accesses, count);
                for (BlockingQueue<long[]> q : queues) q.put(batch);
                total[0] += count;
                progress.accept(total[0]);
            });
        } finally {
            for (BlockingQueue<long[]> q : queues) q.put(END);
            for (Thread t : consumers) t.join();
        }
        if (failure.get() != null) throw new IllegalStateException("replay failed: " + failure.get(), failure.get());
        List<ReplayResult> results = new ArrayList<>();
        for (int c = 0; c < plan.configs().size(); c++) for (List<Replayer> group : groups) results.add(group.get(c).result());
        return new Outcome(stats, results);
    }
}
