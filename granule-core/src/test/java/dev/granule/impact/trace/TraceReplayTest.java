package dev.granule.impact.trace;

import dev.granule.geometry.Geometry;
import dev.granule.impact.InputLimitException;
import io.airlift.compress.zstd.ZstdOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TraceReplayTest {

    static final List<Geometry> PAGE_SIZES = List.of(Geometry.FOUR_K_48, Geometry.SIXTEEN_K_48, Geometry.SIXTY_FOUR_K_48);

    @TempDir
    Path dir;

    Path file(String text) throws IOException {
        Path p = dir.resolve("trace" + System.nanoTime());
        Files.writeString(p, text, StandardCharsets.ISO_8859_1);
        return p;
    }

    static StreamingReplay.Outcome replay(Path trace, TlbConfig config) throws Exception {
        return replay(trace, config, Replayer.Mapping.PAGES, null, false);
    }

    static StreamingReplay.Outcome replay(Path trace, TlbConfig config, Replayer.Mapping mapping, TraceFormat format,
                                          boolean strict) throws Exception {
        return StreamingReplay.run(new TraceInput(trace.toString()), format, strict,
                new StreamingReplay.Plan(PAGE_SIZES, List.of(config), mapping), n -> {});
    }

    /*
     * Worked by hand: two passes of 32 reads stepping 4K over [0x10000, 0x30000), one 64-entry
     * 4-way TLB (16 sets).
     * 4K:  32 pages: 32 first touches (each a page fault and a miss that walks); the second pass
     *      hits (32 pages over 16 sets x 4 ways fit): 32 misses of 64.
     * 16K: 8 pages: 8 faults, 8 misses.   64K: 2 pages (0x10000, 0x20000): 2 faults, 2 misses.
     */
    @Test
    void missesAndFaultsPerPageSize() throws Exception {
        StringBuilder trace = new StringBuilder("# two passes\n");
        for (int pass = 0; pass < 2; pass++) {
            for (long va = 0x10000; va < 0x30000; va += 0x1000) trace.append(pass == 0 ? "w " : "").append("0x").append(Long.toHexString(va + 8)).append('\n');
        }
        var out = replay(file(trace.toString()), TlbConfig.oneLevel(64, 4));
        assertThat(out.stats().format()).isEqualTo(TraceFormat.PLAIN);
        assertThat(out.results()).extracting(ReplayResult::pageSize).containsExactly("4K", "16K", "64K");
        assertThat(out.results()).extracting(ReplayResult::accesses).containsOnly(64L);
        assertThat(out.results()).extracting(ReplayResult::pageFaults).containsExactly(32L, 8L, 2L);
        assertThat(out.results()).extracting(ReplayResult::l2Misses).containsExactly(32L, 8L, 2L);
        assertThat(out.results().get(2).l2MissesPerKiloAccess()).isEqualTo(1000.0 * 2 / 64);
        assertThat(out.results().get(1).l2ReachBytes()).isEqualTo(64 * 16384L);
        assertThat(out.results()).extracting(ReplayResult::footprintBytes).containsExactly(32 * 4096L, 8 * 16384L, 2 * 65536L);
        // Levels for a 48-bit VA: 4K and 16K walk 4 (16K starts at level 0 with 2 entries), 64K walks 3.
        assertThat(out.results()).extracting(ReplayResult::walkReferences).containsExactly(32 * 4L, 8 * 4L, 2 * 3L);
    }

    @Test
    void aSmallTlbThrashes() throws Exception {
        // 8 pages round-robin through a 4-entry, 4-way TLB (one set, LRU): every access misses at 4K.
        StringBuilder trace = new StringBuilder();
        for (int i = 0; i < 80; i++) trace.append(Long.toHexString(0x100000 + (i % 8) * 0x1000L)).append('\n');
        ReplayResult fourK = replay(file(trace.toString()), TlbConfig.oneLevel(4, 4)).results().getFirst();
        assertThat(fourK.l2Misses()).isEqualTo(80);
        assertThat(fourK.pageFaults()).isEqualTo(8);
    }

    /*
     * Worked by hand, 4K/48: pages A, B, C (one 2M region) read A B C A B C through a 2-entry L1d
     * and a 4-entry L2, both fully associative. Pass 1: three faults, three L1 and L2 misses, each
     * walking 4 levels (12 references); the walk cache misses for A (4) and holds the level-2
     * descriptor for B and C (1 each): 6. Pass 2: A was evicted from the L1 by C (LRU), B by A,
     * C by B: three more L1 misses, all L2 hits.
     */
    @Test
    void l1MissesThatHitTheL2DoNotWalk() throws Exception {
        TlbConfig small = new TlbConfig("small", TlbLevel.fullyAssociative(2), TlbLevel.fullyAssociative(2),
                TlbLevel.fullyAssociative(4), TlbLevel.fullyAssociative(4), "test");
        String trace = "r 0x200000\nr 0x201000\nr 0x202000\nr 0x200008\nr 0x201008\nr 0x202008\n";
        ReplayResult r = replay(file(trace), small).results().getFirst();
        assertThat(r.l1dMisses()).isEqualTo(6);
        assertThat(r.l1iMisses()).isZero();
        assertThat(r.l2Misses()).isEqualTo(3);
        assertThat(r.pageFaults()).isEqualTo(3);
        assertThat(r.walkReferences()).isEqualTo(12);
        assertThat(r.walkReferencesWithWalkCache()).isEqualTo(6);
        assertThat(r.l1dReachBytes()).isEqualTo(2 * 4096);
    }

    /*
     * Lackey: "I" fetches use the L1i, "M" is a load and a store (two accesses), and a 4-byte load
     * at 0xffe crosses from page 0 into page 1 at 4K (two translations) but not at 16K or 64K.
     */
    @Test
    void lackeyLinesInstructionsModifiesAndPageCrossings() throws Exception {
        String trace = """
                ==123== Lackey, an example Valgrind tool
                I  00400000,4
                 L 00000ffe,4
                 M 00005000,8
                 S 00005008,8
                ==123== Counted 1 call to main()
                """;
        var out = replay(file(trace), TlbConfig.CORTEX_A76);
        assertThat(out.stats().format()).isEqualTo(TraceFormat.LACKEY);
        assertThat(out.stats().malformed()).isZero();
        ReplayResult fourK = out.results().get(0), sixteenK = out.results().get(1);
        assertThat(fourK.accesses()).isEqualTo(5);
        assertThat(fourK.instructions()).isEqualTo(1);
        assertThat(fourK.translations()).isEqualTo(6);
        assertThat(sixteenK.translations()).isEqualTo(5);
        // 4K pages touched: 0x400000, 0x0, 0x1000, 0x5000 -> 4 faults; L1i misses once, L1d three times
        // (0x0, 0x1000, 0x5000; the M's store and the S hit 0x5000).
        assertThat(fourK.pageFaults()).isEqualTo(4);
        // 4 L2 misses (every first touch) per 1 instruction: MPKI 4000; per 5 accesses: 800.
        assertThat(fourK.l2MissesPerKiloInstruction()).isEqualTo(4000.0);
        assertThat(fourK.l2MissesPerKiloAccess()).isEqualTo(800.0);
        assertThat(fourK.l1iMisses()).isEqualTo(1);
        assertThat(fourK.l1dMisses()).isEqualTo(3);
        // 16K: 0x400000, 0x0 (both 0xffe and 0x1001 in it), 0x4000 -> 3.
        assertThat(sixteenK.pageFaults()).isEqualTo(3);
    }

    @Test
    void perfScriptLinesGiveTheDataAddressAndStoresAreWrites() throws Exception {
        String trace = """
                            ls  1234 [002] 10.000001:   cpu/mem-loads,ldlat=30/P:      7ffd12340008
                            ls  1234 [002] 10.000002:   cpu/mem-stores/P:      7ffd12341010
                            ls  1234 [002] 10.000003:   cpu/mem-loads,ldlat=30/P:      not-an-address
                """;
        var out = replay(file(trace), TlbConfig.oneLevel(64, 4));
        assertThat(out.stats().format()).isEqualTo(TraceFormat.PERF);
        assertThat(out.stats().malformed()).isEqualTo(1);
        assertThat(out.stats().firstMalformed()).isEqualTo(3);
        assertThat(out.stats().firstMalformedWhy()).startsWith("not a hex address");
        assertThat(out.results().getFirst().pageFaults()).isEqualTo(2);
    }

    @Test
    void malformedLinesAreCountedOrFatalWithStrict() throws Exception {
        Path t = file("0x1000\nq 0x2000\n0x3000\nzz\n0xffff000000000000\n");
        var out = replay(t, TlbConfig.oneLevel(64, 4));
        assertThat(out.stats().malformed()).isEqualTo(3);
        assertThat(out.stats().firstMalformed()).isEqualTo(2);
        assertThat(out.stats().firstMalformedWhy()).isEqualTo("access kind must be r, w or x: 'q 0x2000'");
        assertThat(out.results().getFirst().accesses()).isEqualTo(2);
        assertThatThrownBy(() -> replay(t, TlbConfig.oneLevel(64, 4), Replayer.Mapping.PAGES, null, true))
                .isInstanceOf(TraceFormatException.class).hasMessage(t + ":2: access kind must be r, w or x (plain trace): 'q 0x2000'");
        Path big = file("0xffff000000000000\n");
        assertThatThrownBy(() -> replay(big, TlbConfig.oneLevel(64, 4), Replayer.Mapping.PAGES, null, true))
                .hasMessageContaining(":1: address not below 2^56");
    }

    @Test
    void endlessLinesAndGarbageAreRefused() throws Exception {
        Path zero = Path.of("/dev/zero");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(zero), "no /dev/zero here");
        assertThatThrownBy(() -> replay(zero, TlbConfig.oneLevel(64, 4))).isInstanceOf(InputLimitException.class)
                .hasMessage("/dev/zero: line 1 is longer than the limit of 4096 bytes (not a text trace?)");
        Path garbage = file("hello world\n".repeat(20_000));
        assertThatThrownBy(() -> replay(garbage, TlbConfig.oneLevel(64, 4))).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("10000 of the first 10000 lines are not plain trace lines (first at line 1");
    }

    /** The same accesses from text, binary, gzip'd binary and zstd'd text give the same counts. */
    @Test
    void binaryGzipAndZstdReadTheSameAccesses() throws Exception {
        StringBuilder text = new StringBuilder();
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 50_000; i++) {
            text.append(i % 3 == 0 ? " S " : " L ").append(Long.toHexString(0x10_0000 + random.nextInt(1 << 24))).append(",8\n");
        }
        Path lackey = file(text.toString());
        Path binary = dir.resolve("t.bin"), gz = dir.resolve("t.bin.gz"), zst = dir.resolve("t.txt.zst");
        try (OutputStream o = Files.newOutputStream(binary)) {
            BinaryTrace.Writer w = new BinaryTrace.Writer(o);
            new TraceInput(lackey.toString()).read(null, true, 1000, w);
            w.finish();
            assertThat(w.written()).isEqualTo(50_000);
        }
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(Files.readAllBytes(binary));
        }
        try (OutputStream o = new ZstdOutputStream(Files.newOutputStream(zst))) {
            o.write(Files.readAllBytes(lackey));
        }
        var expected = replay(lackey, TlbConfig.NEOVERSE_N1).results();
        for (Path p : List.of(binary, gz, zst)) {
            var out = replay(p, TlbConfig.NEOVERSE_N1);
            assertThat(out.results()).as(p.toString()).isEqualTo(expected);
        }
        assertThat(replay(binary, TlbConfig.NEOVERSE_N1).stats().format()).isEqualTo(TraceFormat.BINARY);
        assertThat(replay(zst, TlbConfig.NEOVERSE_N1).stats().format()).isEqualTo(TraceFormat.LACKEY);
        // A truncated final record is one malformed record, named by its offset.
        byte[] b = Files.readAllBytes(binary);
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, java.util.Arrays.copyOf(b, b.length - 3));
        var out = replay(cut, TlbConfig.NEOVERSE_N1);
        assertThat(out.stats().malformed()).isEqualTo(1);
        assertThat(out.stats().accesses()).isEqualTo(49_999);
        assertThat(out.stats().records()).as("the partial record counts as one").isEqualTo(50_000);
        assertThat(out.stats().firstMalformedWhy()).isEqualTo("truncated record: 5 bytes at the end (byte offset " + (8 + 49_999 * 8) + ")");
        // Streamed (gzip) the same: TraceFuzzTest found a stream's count of records leaving the partial one out.
        Path cutGz = dir.resolve("cut.bin.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(cutGz))) {
            o.write(java.util.Arrays.copyOf(b, b.length - 3));
        }
        TraceStats streamed = replay(cutGz, TlbConfig.NEOVERSE_N1).stats();
        assertThat(List.of(streamed.records(), streamed.accesses(), streamed.malformed(), streamed.firstMalformed()))
                .isEqualTo(List.of(50_000L, 49_999L, 1L, out.stats().firstMalformed()));
        assertThat(streamed.firstMalformedWhy()).isEqualTo(out.stats().firstMalformedWhy());
        // A record of kind 3 (no such kind) is malformed, read from the file or streamed (gzip), named by its index.
        byte[] badKind = b.clone();
        badKind[8 + 10 * 8 + 7] |= 0x03; // record 11's bits [57:56]
        Path badBin = dir.resolve("bad.bin"), badGz = dir.resolve("bad.bin.gz");
        Files.write(badBin, badKind);
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(badGz))) {
            o.write(badKind);
        }
        for (Path p : List.of(badBin, badGz)) {
            var r = replay(p, TlbConfig.NEOVERSE_N1);
            assertThat(r.stats().malformed()).as(p.toString()).isEqualTo(1);
            assertThat(r.stats().firstMalformed()).isEqualTo(11);
            assertThat(r.stats().accesses()).isEqualTo(49_999);
            assertThat(r.stats().firstMalformedWhy()).isEqualTo("access kind 3 is not r, w or x (byte offset " + (8 + 10 * 8) + ")");
        }
        // A trace of which nothing reads is refused with the first reason, not replayed as zeros.
        byte[] onlyBad = new byte[8 + 8];   // the magic and record 11, of kind 3
        System.arraycopy(badKind, 0, onlyBad, 0, 8);
        System.arraycopy(badKind, 8 + 10 * 8, onlyBad, 8, 8);
        Path oneBad = dir.resolve("one-bad.bin");
        Files.write(oneBad, onlyBad);
        assertThatThrownBy(() -> replay(oneBad, TlbConfig.NEOVERSE_N1)).isInstanceOf(TraceFormatException.class)
                .hasMessage(oneBad + ": none of its 1 records is a binary trace record (1 malformed, the first at record 1: "
                        + "access kind 3 is not r, w or x (byte offset 8))");
        // A broken compressed stream is one line naming the file and its codec: cut in half, cut in
        // the gzip header (the decoder reads it when made), and a zstd file cut short (aircompressor's
        // bare IOException "Not enough input bytes", once passed on as it was: TraceFuzzTest's finding).
        byte[] z = Files.readAllBytes(gz), zs = Files.readAllBytes(zst);
        Path brokenGz = dir.resolve("broken.gz"), headerGz = dir.resolve("header.gz"), brokenZst = dir.resolve("broken.zst");
        Files.write(brokenGz, java.util.Arrays.copyOf(z, z.length / 2));
        Files.write(headerGz, java.util.Arrays.copyOf(z, 5));
        Files.write(brokenZst, java.util.Arrays.copyOf(zs, zs.length / 2));
        assertThatThrownBy(() -> replay(brokenGz, TlbConfig.NEOVERSE_N1)).isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith(brokenGz + ": broken gzip stream after ");
        assertThatThrownBy(() -> replay(headerGz, TlbConfig.NEOVERSE_N1)).isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith(headerGz + ": broken gzip stream after ");
        assertThatThrownBy(() -> replay(brokenZst, TlbConfig.NEOVERSE_N1)).isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith(brokenZst + ": broken zstd stream after ").hasMessageContaining("truncated or corrupt");
    }

    /*
     * --thp: a fault maps the PMD block (2M at 4K, 32M at 16K, 512M at 64K) and a walk stops at
     * level 2; --contpte: a fault maps a CONT_PTES run (16 x 4K = 64K, 128 x 16K = 2M, 32 x 64K = 2M).
     * 64 reads 64K apart over [0, 4M): 4K/thp 2 blocks; 4K/contpte 64 runs; 16K/contpte 2 runs.
     */
    @Test
    void blocksAndContiguousRunsWidenEntriesAndShortenWalks() throws Exception {
        StringBuilder t = new StringBuilder();
        for (long va = 0; va < 4 << 20; va += 0x10000) t.append(Long.toHexString(va)).append('\n');
        Path p = file(t.toString());
        var thp = replay(p, TlbConfig.NEOVERSE_N1, Replayer.Mapping.THP, null, false).results();
        assertThat(thp).extracting(ReplayResult::pageFaults).containsExactly(2L, 1L, 1L);
        assertThat(thp).extracting(ReplayResult::entryBytes).containsExactly(2L << 20, 32L << 20, 512L << 20);
        assertThat(thp).extracting(ReplayResult::walkLevels).containsExactly(3, 3, 2);
        var cont = replay(p, TlbConfig.NEOVERSE_N1, Replayer.Mapping.CONTPTE, null, false).results();
        assertThat(cont).extracting(ReplayResult::pageFaults).containsExactly(64L, 2L, 2L);
        assertThat(cont).extracting(ReplayResult::walkLevels).containsExactly(4, 4, 3);
    }
}
