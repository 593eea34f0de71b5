package dev.granule.impact.trace;

/** Where a trace reader puts its accesses, a batch of packed {@link Access} values at a time. */
@FunctionalInterface
public interface AccessSink {
    /** {@code accesses[0..count)} are the next accesses; the array is the sink's from now on. */
    void accept(long[] accesses, int count) throws InterruptedException;
}
