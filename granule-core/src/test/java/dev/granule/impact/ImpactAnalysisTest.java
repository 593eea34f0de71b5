package dev.granule.impact;

import dev.granule.geometry.Granule;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImpactAnalysisTest {

    static final String FIXTURE = """
            00400000-00401000 r-xp 00000000 08:01 1234                       /usr/bin/demo
            Size:                  4 kB
            Rss:                   4 kB
            Anonymous:             0 kB
            00401000-00403000 rw-p 00001000 08:01 1234                       /usr/bin/demo
            Rss:                   8 kB
            Anonymous:             4 kB
            7f0000000000-7f0000011000 rw-p 00000000 00:00 0 
            Rss:                  12 kB
            Anonymous:            12 kB
            VmFlags: rd wr mr mw me ac
            """;

    @Test
    void parsesHeadersAndTheFieldsItUses() {
        List<Vma> v = SmapsParser.parse("fixture", FIXTURE);
        assertThat(v).hasSize(3);
        assertThat(v.get(0)).isEqualTo(new Vma(0x400000, 0x401000, "r-xp", 1234, "/usr/bin/demo", 4096, 0));
        assertThat(v.get(2).fileBacked()).isFalse();
        assertThat(v.get(2).anonBytes()).isEqualTo(12 * 1024);
    }

    /*
     * Worked by hand.
     * 4K:  file VA [0x400000,0x403000) = 12K; anon 0x11000 = 68K. Resident: file 4K + (8K-4K) = 8K,
     *      anon 4K + 12K = 16K. Tables: PGD + (PUD, PMD, PTE) for 0x400000 + (PUD, PMD, PTE) for
     *      0x7f0000000000 (PGD index 254) = 7 x 4K = 28K; leaves 3 + 3 = 6.
     * 16K: file [0x400000,0x404000) = 16K; anon [0x7f0000000000,+0x14000) = 80K. Resident per
     *      mapping rounded up: the first two mappings share the page at 0x400000, resident once and
     *      anonymous (the second's 4K Anonymous rounds up to the whole page); the third 16K anon ->
     *      file 0, anon 32K. Tables: PGD (2 entries, both VAs index 0) + PUD + (PMD, PTE) x 2
     *      (PUD indexes 0 and 0x7f0) = 6 tables; the PGD is PTRS_PER_PGD (2) x 8 = 16 bytes from
     *      pgd_cache (arch/arm64/mm/pgd.c: a page only when PGD_SIZE == PAGE_SIZE), so
     *      5 x 16K + 16 = 81936 bytes; leaves 2.
     * 64K: file 64K; anon 0x20000 = 128K; resident: the shared page at 0x400000 (anonymous) and the
     *      third mapping's 64K -> file 0, anon 128K. Tables: PGD (64 entries; indexes 0 and 31) +
     *      (PMD, PTE) x 2; the PGD is 64 x 8 = 512 bytes from pgd_cache: 4 x 64K + 512 = 262656;
     *      leaves 2. (4K: PGD_SIZE = 512 x 8 = 4096 = PAGE_SIZE, a whole page.)
     */
    @Test
    void footprintTablesAndTlbEntriesPerPageSize() {
        List<PageSizeImpact> r = ImpactAnalysis.analyse(SmapsParser.parse("fixture", FIXTURE));
        assertThat(r).containsExactly(
                new PageSizeImpact(Granule.FOUR_K, 12 << 10, 68 << 10, 8 << 10, 16 << 10, 28 << 10, 6, 6),
                new PageSizeImpact(Granule.SIXTEEN_K, 16 << 10, 80 << 10, 0, 32 << 10, 5 * 16384 + 16, 2, 2),
                new PageSizeImpact(Granule.SIXTY_FOUR_K, 64 << 10, 128 << 10, 0, 128 << 10, 4 * 65536 + 512, 2, 2));
    }

    /*
     * The same mappings with pagemap residency, worked by hand: file pages 0x400000 and 0x402000,
     * anonymous pages 0x7f0000000000 and 0x7f0000010000 (the first and last: scattered).
     * 4K:  resident file 8K, anon 8K; tables as above 28K; leaves 4.
     * 16K: file [0x400000,0x404000) 16K; anon [+0,+0x4000) and [+0x10000,+0x14000) 32K; tables 5 x 16K + 16;
     *      leaves 3.
     * 64K: file 64K; anon [+0,+0x10000) and [+0x10000,+0x20000) 128K; tables 4 x 64K + 512; leaves 3.
     * (The Rss estimate says 16K anon at 4K: it cannot see which pages, only how many.)
     */
    @Test
    void exactResidencyRoundsEachResidentPageOutToThePageSize() {
        List<Vma> vmas = SmapsParser.parse("fixture", FIXTURE);
        List<long[]> runs = List.of(
                new long[]{0x400000, 0x401000},
                new long[]{0x402000, 0x403000},
                new long[]{0x7f0000000000L, 0x7f0000001000L, 0x7f0000010000L, 0x7f0000011000L});
        assertThat(ImpactAnalysis.analyseExact(vmas, runs)).containsExactly(
                new PageSizeImpact(Granule.FOUR_K, 12 << 10, 68 << 10, 8 << 10, 8 << 10, 28 << 10, 4, 4),
                new PageSizeImpact(Granule.SIXTEEN_K, 16 << 10, 80 << 10, 16 << 10, 32 << 10, 5 * 16384 + 16, 3, 3),
                new PageSizeImpact(Granule.SIXTY_FOUR_K, 64 << 10, 128 << 10, 64 << 10, 128 << 10, 4 * 65536 + 512, 3, 3));
    }

    /*
     * 4 MiB resident at 1 GiB, 2 MiB aligned. Pages: 1024 x 4K, 256 x 16K, 64 x 64K. Best case:
     * 4K: two 2M level-2 blocks (a Contiguous run of blocks would be 32M); 16K: two Contiguous runs
     * of 128 x 16K = 2M (a 16K block is 32M); 64K: two runs of 32 x 64K = 2M (a 64K block is 512M).
     */
    @Test
    void bestCaseTlbEntriesUseBlocksAndContiguousRuns() {
        Vma heap = new Vma(0x4000_0000L, 0x4040_0000L, "rw-p", 0, "[heap]", 4 << 20, 4 << 20);
        List<PageSizeImpact> r = ImpactAnalysis.analyseExact(List.of(heap), List.of(new long[]{0x4000_0000L, 0x4040_0000L}));
        assertThat(r).extracting(PageSizeImpact::tlbEntries).containsExactly(1024L, 256L, 64L);
        assertThat(r).extracting(PageSizeImpact::tlbEntriesBestCase).containsExactly(2L, 2L, 2L);
    }

    /*
     * 4 TiB resident in one anonymous mapping [2^40, 5 x 2^40), worked by hand:
     * 4K/48 (shifts 39, 30, 21): PUD tables = distinct VA >> 39 = 8, PMD tables VA >> 30 = 4096,
     *      PTE tables VA >> 21 = 2^21; 4K each, plus the 4K PGD. Leaves 2^30. Best case: 16G
     *      Contiguous runs of 1G blocks, 256.
     * 16K/48 (shifts 47, 36, 25): level-1 tables VA >> 47 = 1, level-2 VA >> 36 = 64, level-3
     *      VA >> 25 = 2^17; 16K each, plus a 16-byte PGD. Leaves 2^28. Best case: 1G Contiguous
     *      runs of 32M blocks, 4096.
     * 64K/48 (shifts 42, 29): level-2 tables VA >> 42 = 2 (2^40 and 4 x 2^40 straddle 2^42),
     *      level-3 VA >> 29 = 8192; 64K each, plus a 512-byte PGD. Leaves 2^26. Best case: 16G
     *      Contiguous runs of 512M blocks, 256.
     */
    @Test
    void aFourTebibyteProcessIsCountedByArithmetic() {
        Vma huge = new Vma(1L << 40, 5L << 40, "rw-p", 0, "", 4L << 40, 4L << 40);
        List<PageSizeImpact> r = ImpactAnalysis.analyse(List.of(huge));
        assertThat(r).extracting(PageSizeImpact::tableBytes).containsExactly(
                (8 + 4096 + (1L << 21)) * 4096 + 4096,
                (1 + 64 + (1L << 17)) * 16384 + 16,
                (2 + 8192L) * 65536 + 512);
        assertThat(r).extracting(PageSizeImpact::tlbEntries).containsExactly(1L << 30, 1L << 28, 1L << 26);
        assertThat(r).extracting(PageSizeImpact::tlbEntriesBestCase).containsExactly(256L, 4096L, 256L);
        assertThat(r).extracting(PageSizeImpact::residentAnon).containsOnly(4L << 40);
    }

    @Test
    void pgdIsAPageOnlyWhenItFillsOne() {
        // PGD_SIZE = PTRS_PER_PGD x 8: 4K/48 512 entries (a page), 16K/48 2 entries, 64K/48 64
        // entries, 16K/47 2048 entries (a page), 64K/42 8192 entries (a page), 64K/52 1024 entries.
        assertThat(ImpactAnalysis.pgdBytes(dev.granule.geometry.Geometry.FOUR_K_48)).isEqualTo(4096);
        assertThat(ImpactAnalysis.pgdBytes(dev.granule.geometry.Geometry.SIXTEEN_K_48)).isEqualTo(16);
        assertThat(ImpactAnalysis.pgdBytes(dev.granule.geometry.Geometry.SIXTY_FOUR_K_48)).isEqualTo(512);
        assertThat(ImpactAnalysis.pgdBytes(dev.granule.geometry.Geometry.SIXTEEN_K_47)).isEqualTo(16384);
        assertThat(ImpactAnalysis.pgdBytes(dev.granule.geometry.Geometry.SIXTY_FOUR_K_42)).isEqualTo(65536);
        assertThat(ImpactAnalysis.pgdBytes(dev.granule.geometry.Geometry.SIXTY_FOUR_K_52)).isEqualTo(8192);
    }

    @Test
    void endlessOrHugeSmapsIsRefusedNamingTheLimit() throws Exception {
        Path zero = Path.of("/dev/zero");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(zero), "no /dev/zero here");
        assertThatThrownBy(() -> SmapsParser.parse(zero)).isInstanceOf(InputLimitException.class)
                .hasMessageContaining("/dev/zero").hasMessageContaining("8 KiB");
        // An endless stream of well-formed lines ends at the byte limit, not in OutOfMemoryError.
        java.io.InputStream endless = new java.io.InputStream() {
            final byte[] text = "Rss: 4 kB\n".getBytes();
            long n;
            @Override public int read() { return text[(int) (n++ % text.length)]; }
            @Override public int read(byte[] b, int off, int len) {
                for (int i = 0; i < len; i++) b[off + i] = (byte) read();
                return len;
            }
        };
        String header = "00400000-00401000 r-xp 00000000 08:01 1 /x\n";
        var in = new BoundedLineReader(new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(header.getBytes()), endless),
                "fifo", SmapsParser.MAX_LINE, 1 << 20);
        assertThatThrownBy(() -> SmapsParser.parse(in)).isInstanceOf(InputLimitException.class)
                .hasMessage("fifo: longer than the limit of 1 MiB for this kind of file (an endless stream such as"
                        + " /dev/zero, or not the file meant?)");
    }

    @Test
    void malformedLinesNameTheLine() {
        assertThatThrownBy(() -> SmapsParser.parse("x", "00400000-00401000 r-xp 0 08:01\nRss: 4 kB\n"))
                .hasMessageContaining("x:1").hasMessageContaining("5 fields");
        assertThatThrownBy(() -> SmapsParser.parse("x", "00400000-00401000 r-xp 0 08:01 0\nRss: lots kB\n"))
                .hasMessageContaining("x:2").hasMessageContaining("size in kB");
        assertThatThrownBy(() -> SmapsParser.parse("x", "Rss: 4 kB\n")).hasMessageContaining("before the first mapping");
    }

    @Test
    void thisJvmsOwnMemoryMapObeysTheInvariants() throws Exception {
        Path smaps = Path.of("/proc/self/smaps");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(smaps), "no /proc/self/smaps on this system");
        List<PageSizeImpact> r = ImpactAnalysis.analyse(SmapsParser.parse(smaps));
        for (int i = 1; i < r.size(); i++) {
            assertThat(r.get(i).virtual()).isGreaterThanOrEqualTo(r.get(i - 1).virtual());
            assertThat(r.get(i).resident()).isGreaterThanOrEqualTo(r.get(i - 1).resident());
            assertThat(r.get(i).tlbEntries()).isLessThanOrEqualTo(r.get(i - 1).tlbEntries());
        }
        for (PageSizeImpact p : r) {
            long pgd = ImpactAnalysis.pgdBytes(dev.granule.geometry.Geometry.of(p.granule(), 48, 48));
            assertThat((p.tableBytes() - pgd) % p.granule().pageSize()).isZero();
            assertThat(p.resident()).isLessThanOrEqualTo(p.virtual() + p.granule().pageSize() * 4096);
            assertThat(p.resident()).isPositive();
        }
    }
}
