package dev.granule.impact.trace;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code perf script} lines whose kind comes from the data source, and lines without a data
 * address. The lines are written as perf's own printing code lays them out (tools/perf/builtin-script.c:
 * the event name and ':', the addr field, then data_src__fprintf's "%16x %s" of the data_src value
 * and perf_script__meminfo_scnprintf's "|OP STORE|LVL ...|BLK  N/A"; perf's default fields for a
 * hardware or synthesized event print no addr, only "IP SYMBOL+0xOFF (DSO)").
 */
class PerfDataSourceTest {

    private record Read(TraceStats stats, List<Long> accesses) {}

    private static Read read(String trace) throws Exception {
        List<Long> accesses = new ArrayList<>();
        TraceStats stats = TraceInput.of(new ByteArrayInputStream(trace.getBytes(StandardCharsets.US_ASCII)), "t.txt")
                .read(null, false, 16, (batch, n) -> {
                    for (int i = 0; i < n; i++) accesses.add(batch[i]);
                });
        return new Read(stats, accesses);
    }

    /*
     * Arm SPE and AMD IBS report loads and stores under one event ("memory", "ibs_op//"): the kind
     * is the data source's OP. x86's default fields for cpu/mem-loads (a raw event) print addr and
     * data_src before the weight and the IP tail, and the address is still the data address.
     */
    @Test
    void theDataSourceOperationGivesTheKind() throws Exception {
        String trace = """
                  ls  1234 [002] 10.000001:          1 memory:      ffff12340008         6a100142 |OP STORE|LVL L1 hit|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A
                  ls  1234 [002] 10.000002:          1 memory:      ffff12350010         6a100242 |OP LOAD|LVL L1 hit|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A
                  ls  1234 [002] 10.000003:          1 ibs_op//:      7ffd12360018          6a100442 |OP EXEC|LVL N/A|SNP N/A|TLB N/A|LCK N/A|BLK  N/A
                  ls  1234 [002] 10.000004:      30041 cpu/mem-stores/P:      7ffd12370020       1e05080021 |OP N/A|LVL N/A or N/A|SNP N/A|TLB N/A|LCK N/A|BLK  N/A
                  ls  1234 [002] 10.000005:      30041 cpu/mem-loads,ldlat=30/P:      7ffd12380028          5080144 |OP LOAD|LVL L1 hit|SNP None|TLB L1 or L2 hit|LCK No|BLK  N/A    35     7f3a37e4bb70 _start+0x0 (/usr/lib/ld.so)
                """;
        Read r = read(trace);
        assertThat(r.stats().format()).isEqualTo(TraceFormat.PERF);
        assertThat(r.stats().malformed()).isZero();
        assertThat(r.accesses()).extracting(Access::va)
                .containsExactly(0xffff12340008L, 0xffff12350010L, 0x7ffd12360018L, 0x7ffd12370020L, 0x7ffd12380028L);
        // STORE, LOAD, EXEC; OP N/A falls back to the event's name (a store event); LOAD.
        assertThat(r.accesses()).extracting(Access::kind)
                .containsExactly(Access.WRITE, Access.READ, Access.EXECUTE, Access.WRITE, Access.READ);
    }

    /* -F event,addr,ip,sym,symoff,dso: the address's symbol, then the IP's tail; the first number is the address. */
    @Test
    void aLineWithTheAddressAndTheIpReadsTheAddress() throws Exception {
        Read r = read("""
                page-faults:     55b372b395c0 __progname     7f3a37e4bb70 _start+0x0 (/usr/lib/ld.so)
                page-faults:     55b372b39600 [unknown]     ffffffff8177c8da elf_load+0x28a ([kernel.kallsyms])
                """);
        assertThat(r.stats().malformed()).isZero();
        assertThat(r.accesses()).extracting(Access::va).containsExactly(0x55b372b395c0L, 0x55b372b39600L);
    }

    @Test
    void aLineWithoutTheAddrFieldIsNotReadAsOne() throws Exception {
        String trace = """
                  ls 27014 12974.659550:          1 page-faults:      7f3a37e4bb70 _start+0x0 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)
                  ls 27014 12974.659551:          1 page-faults:      7f3a37e4bb80 __libc_start_main+0x1a (/usr/lib/libc.so.6)
                  ls 28848 13214.557593:          9 page-faults:      7fbad521477c [unknown] (/usr/lib/x86_64-linux-gnu/libselinux.so.1)
                  ls 28848 13214.557594:          9 page-faults:      7fbad5214800 operator new(unsigned long)+0x1c (/usr/lib/libstdc++.so.6)
                """;
        // Not one access: the read fails, giving the first line's reason.
        assertThatThrownBy(() -> read(trace)).isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith("t.txt: none of its 4 lines is a perf trace line (4 malformed, the first at line 1: "
                        + "the hex after the event is the sample's instruction address")
                .hasMessageContaining("perf script -F event,addr");
        // Among data lines, such a line is one malformed line.
        Read r = read(trace + "  ls 1 1.0:  1 memory:  ffff12340008\n");
        assertThat(r.accesses()).hasSize(1);
        assertThat(r.stats().malformed()).isEqualTo(4);
        assertThat(r.stats().firstMalformed()).isEqualTo(1);
        assertThat(r.stats().firstMalformedWhy()).startsWith("the hex after the event is the sample's instruction address");
    }
}
