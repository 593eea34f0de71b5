package dev.granule.impact.trace;

import dev.granule.geometry.Geometry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real {@code perf script} output: {@code perf record -e page-faults -d} of /bin/ls (a software
 * event that records data addresses on any machine, where {@code perf mem record} needs PEBS or
 * SPE), printed with {@code -F comm,tid,time,event,addr}. Every line must read as one access, and
 * the first touches at 4K must be the distinct 4K pages of the addresses, counted here with a HashSet.
 * The same recording printed with its data source, and with perf script's default fields (no data
 * address at all), checks the two other shapes a user's file may have.
 */
class PerfScriptReplayTest {

    @TempDir
    Path dir;

    /** perf script's output of a page-fault recording of /bin/ls with {@code fields} (null: perf's defaults). */
    private List<String> recording(String fields) throws Exception {
        Path perf = Path.of("/usr/bin/perf");
        assumeTrue(Files.isExecutable(perf), "perf is not installed (apt-get install linux-perf)");
        Path data = dir.resolve("perf.data"), script = dir.resolve("perf.txt");
        if (!Files.exists(data)) {
            Process record = new ProcessBuilder(perf.toString(), "record", "-q", "-e", "page-faults", "-d", "-o", data.toString(),
                    "--", "/bin/ls", "/").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            assumeTrue(record.waitFor(60, TimeUnit.SECONDS) && record.exitValue() == 0 && Files.exists(data),
                    "perf record is not allowed here (perf_event_paranoid?)");
        }
        List<String> command = new java.util.ArrayList<>(List.of(perf.toString(), "script", "-i", data.toString()));
        if (fields != null) command.addAll(List.of("-F", fields));
        Process print = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).redirectOutput(script.toFile()).start();
        assumeTrue(print.waitFor(60, TimeUnit.SECONDS) && print.exitValue() == 0, "perf script failed");
        List<String> lines = Files.readAllLines(script).stream().filter(l -> !l.isBlank()).toList();
        assumeTrue(lines.size() > 10, "perf recorded almost nothing: " + lines.size() + " samples");
        return lines;
    }

    private Path file(List<String> lines) throws Exception {
        return Files.write(Files.createTempFile(dir, "perf", ".txt"), lines);
    }

    @Test
    void perfScriptOfARealRecordingReadsLineForLine() throws Exception {
        List<String> lines = recording("comm,tid,time,event,addr");
        Set<Long> pages = new HashSet<>();
        for (String l : lines) {
            String[] f = l.trim().split("\\s+");
            pages.add(Long.parseUnsignedLong(f[f.length - 1], 16) >>> 12);
        }
        var out = StreamingReplay.run(new TraceInput(file(lines).toString()), null, true,
                new StreamingReplay.Plan(List.of(Geometry.FOUR_K_48), List.of(TlbConfig.oneLevel(64, 4)), Replayer.Mapping.PAGES),
                n -> {});
        assertThat(out.stats().format()).isEqualTo(TraceFormat.PERF);
        assertThat(out.stats().malformed()).isZero();
        assertThat(out.stats().accesses()).isEqualTo(lines.size());
        assertThat(out.results().getFirst().pageFaults()).isEqualTo(pages.size());
    }

    /*
     * With data_src printed (a page fault's is "|OP N/A|..."), the address is still the field after
     * the event; with perf's default fields the only hex number is the IP, and no line may pass as
     * a data address.
     */
    @Test
    void theDataSourceFieldAndTheDefaultFields() throws Exception {
        List<String> withSource = recording("comm,tid,time,event,addr,data_src");
        assertThat(withSource).allMatch(l -> l.contains("|OP "));
        var out = StreamingReplay.run(new TraceInput(file(withSource).toString()), null, false,
                new StreamingReplay.Plan(List.of(Geometry.FOUR_K_48), List.of(TlbConfig.oneLevel(64, 4)), Replayer.Mapping.PAGES),
                n -> {});
        assertThat(out.stats().malformed()).isZero();
        assertThat(out.stats().accesses()).isEqualTo(withSource.size());

        List<String> defaults = recording(null);
        Path ip = file(defaults);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> StreamingReplay.run(new TraceInput(ip.toString()), null, false,
                        new StreamingReplay.Plan(List.of(Geometry.FOUR_K_48), List.of(TlbConfig.oneLevel(64, 4)), Replayer.Mapping.PAGES),
                        n -> {}))
                .isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith(ip + ": none of its " + defaults.size() + " lines is a perf trace line (" + defaults.size()
                        + " malformed, the first at line 1: the hex after the event is the sample's instruction address");
    }
}
