package dev.granule.impact;

import dev.granule.geometry.Granule;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TraceReplayTest {

    /*
     * Worked by hand: two passes of 32 reads stepping 4K over [0x10000, 0x30000).
     * 4K:  32 pages: 32 first touches (each a page fault and then a TLB refill); the second pass
     *      hits (32 pages over 16 sets x 4 ways fit).           misses 32 of 64.
     * 16K: 8 pages [0x10000, 0x30000): 8 faults, 8 misses.      misses 8 of 64.
     * 64K: 2 pages (0x10000, 0x20000): 2 faults, 2 misses.     misses 2 of 64.
     */
    @Test
    void missesAndFaultsPerPageSize() throws IOException {
        StringBuilder trace = new StringBuilder("# two passes\n");
        for (int pass = 0; pass < 2; pass++) {
            for (long va = 0x10000; va < 0x30000; va += 0x1000) trace.append(pass == 0 ? "w " : "").append("0x").append(Long.toHexString(va + 8)).append('\n');
        }
        List<TraceReplay.Result> r = TraceReplay.replay(new BufferedReader(new StringReader(trace.toString())), "t", 64, 4);
        assertThat(r).extracting(TraceReplay.Result::granule).containsExactly(Granule.FOUR_K, Granule.SIXTEEN_K, Granule.SIXTY_FOUR_K);
        assertThat(r).extracting(TraceReplay.Result::accesses).containsOnly(64L);
        assertThat(r).extracting(TraceReplay.Result::pageFaults).containsExactly(32L, 8L, 2L);
        assertThat(r).extracting(TraceReplay.Result::tlbMisses).containsExactly(32L, 8L, 2L);
        assertThat(r.get(2).missRate()).isEqualTo(2.0 / 64);
        assertThat(r.get(1).reach()).isEqualTo(64 * 16384L);
    }

    @Test
    void aSmallTlbThrashes() throws IOException {
        // 8 pages round-robin through a 4-entry, 4-way TLB (one set, LRU): every access misses at 4K.
        StringBuilder trace = new StringBuilder();
        for (int i = 0; i < 80; i++) trace.append(Long.toHexString(0x100000 + (i % 8) * 0x1000L)).append('\n');
        TraceReplay.Result fourK = TraceReplay.replay(new BufferedReader(new StringReader(trace.toString())), "t", 4, 4).getFirst();
        assertThat(fourK.tlbMisses()).isEqualTo(80);
        assertThat(fourK.pageFaults()).isEqualTo(8);
    }

    @Test
    void badLinesNameTheLine() {
        assertThatThrownBy(() -> TraceReplay.replay(new BufferedReader(new StringReader("0x1000\nq 0x2000\n")), "trace.txt", 64, 4))
                .hasMessageContaining("trace.txt:2").hasMessageContaining("r, w or x");
        assertThatThrownBy(() -> TraceReplay.replay(new BufferedReader(new StringReader("0xffff000000000000\n")), "trace.txt", 64, 4))
                .hasMessageContaining("trace.txt:1").hasMessageContaining("below 2^48");
        assertThatThrownBy(() -> TraceReplay.replay(new BufferedReader(new StringReader("zz\n")), "trace.txt", 64, 4))
                .hasMessageContaining("not a hex address");
    }
}
