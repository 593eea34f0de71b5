package dev.granule.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.impact.InputLimitException;
import dev.granule.impact.trace.Access;
import dev.granule.impact.trace.TraceFormat;
import dev.granule.impact.trace.TraceFormatException;
import dev.granule.impact.trace.TraceInput;
import dev.granule.impact.trace.TraceStats;

import java.io.ByteArrayInputStream;
import java.io.IOException;

/**
 * Any bytes as an address trace (`granule impact --trace`, `granule trace convert`): gzip or zstd
 * compressed or not, detected or read as each format, strict or counting. The read ends, or fails
 * with a {@link TraceFormatException} or an {@link InputLimitException} naming the input; every
 * access it delivers is a valid one (address below 2^56, a kind, 1..64 bytes), the counts agree
 * with what was delivered, and a strict read delivers no malformed line.
 */
class TraceFuzzTest {

    private static final TraceFormat[] FORMATS = {null, TraceFormat.LACKEY, TraceFormat.PERF, TraceFormat.PLAIN, TraceFormat.BINARY};

    @FuzzTest(maxDuration = "30s")
    void anyBytesReadAsATraceOrFailNamingTheInput(FuzzedDataProvider data) throws IOException, InterruptedException {
        TraceFormat format = FORMATS[data.consumeInt(0, FORMATS.length - 1)];
        boolean strict = data.consumeBoolean();
        int batch = data.consumeInt(1, 64);
        byte[] bytes = data.consumeRemainingAsBytes();
        long[] delivered = {0};
        TraceStats stats;
        try {
            stats = TraceInput.of(new ByteArrayInputStream(bytes), "fuzz").read(format, strict, batch, (accesses, n) -> {
                if (n < 1 || n > batch) throw new AssertionError("a batch of " + n + " (at most " + batch + ")");
                for (int i = 0; i < n; i++) {
                    long a = accesses[i];
                    if (!Access.valid(a) || Access.size(a) > Access.MAX_SIZE || Access.va(a) != (a & Access.ADDRESS_MASK)) {
                        throw new AssertionError("invalid access " + Long.toHexString(a));
                    }
                }
                delivered[0] += n;
            });
        } catch (TraceFormatException | InputLimitException e) {
            if (!e.getMessage().startsWith("fuzz")) throw new AssertionError("the input is not named: " + e.getMessage(), e);
            return;
        }
        if (stats.accesses() != delivered[0]) {
            throw new AssertionError(stats.accesses() + " accesses counted, " + delivered[0] + " delivered");
        }
        if (stats.malformed() < 0 || stats.malformed() > stats.records()) throw new AssertionError("malformed count " + stats);
        if ((stats.malformed() == 0) != (stats.firstMalformed() == 0)) throw new AssertionError("first malformed " + stats);
        if (strict && stats.malformed() != 0) throw new AssertionError("a strict read went past a malformed line " + stats);
        if (format != null && stats.format() != format) throw new AssertionError("read as " + stats.format() + ", asked " + format);
    }
}
