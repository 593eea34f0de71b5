package dev.granule.impact;

import dev.granule.geometry.Geometry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MachineCostTest {

    @TempDir
    Path dir;

    /*
     * 4 GiB of RAM, worked by hand (tables below the root; shifts as Geometry gives them):
     * 4K/48 (shifts 39, 30, 21), blocks: 1G blocks at level 1 -> one level-1 table = 4096.
     *       rodata=full: level-1 1, level-2 4G >> 30 = 4, level-3 4G >> 21 = 2048 -> 2053 x 4K.
     * 16K/48 (shifts 47, 36, 25; no level-1 blocks without a 52-bit VA/PA): 32M blocks at level 2
     *       -> level-1 1 + level-2 1 = 2 x 16K. rodata=full: + level-3 4G >> 25 = 128 -> 130 x 16K.
     * 64K/48 (shifts 42, 29; no 4T blocks without a 52-bit PA): 512M blocks at level 2 -> one
     *       level-2 table, 64K. rodata=full: + level-3 4G >> 29 = 8 -> 9 x 64K.
     * memmap: 4G / page x 64 bytes = 64M, 16M, 4M.
     */
    @Test
    void memmapAndLinearMapTablesForFourGibibytes() {
        long ram = 4L << 30;
        List<MachineCost> c = ImpactAnalysis.DEFAULT_GEOMETRIES.stream().map(g -> MachineCost.of(g, ram, 64, null)).toList();
        assertThat(c).extracting(MachineCost::memmapBytes).containsExactly(64L << 20, 16L << 20, 4L << 20);
        assertThat(c).extracting(MachineCost::linearMapBytes).containsExactly(4096L, 2 * 16384L, 65536L);
        assertThat(c).extracting(MachineCost::linearMapRodataFullBytes).containsExactly(2053 * 4096L, 130 * 16384L, 9 * 65536L);
        // 1.56% of RAM at 4K, 0.1% at 64K, as the issue says.
        assertThat(100.0 * c.get(0).memmapBytes() / ram).isCloseTo(1.5625, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(100.0 * c.get(2).memmapBytes() / ram).isCloseTo(0.09765625, org.assertj.core.data.Offset.offset(1e-9));
    }

    /* 4G + 6M at 4K: four 1G blocks, then three 2M blocks from one level-2 table (the 5th GiB): 1 + 1 tables. */
    @Test
    void ramNotAMultipleOfTheBlockUsesSmallerLeavesForTheRest() {
        assertThat(MachineCost.linearMapTables(Geometry.FOUR_K_48, (4L << 30) + (6L << 20), true)).isEqualTo(2 * 4096L);
        // + 5K: one more level-3 table for the page past the last 2M block (the 1K tail is not a page).
        assertThat(MachineCost.linearMapTables(Geometry.FOUR_K_48, (4L << 30) + (6L << 20) + 5 * 1024, true)).isEqualTo(3 * 4096L);
    }

    /* Files of 0, 1, 4096, 4097 and 20000 bytes: 4K pages 0+1+1+2+5 = 9; 16K pages 0+1+1+1+2 = 5; 64K pages 4. */
    @Test
    void pageCacheRoundsEachFileUpToWholePages() throws Exception {
        int[] sizes = {0, 1, 4096, 4097, 20000};
        for (int i = 0; i < sizes.length; i++) Files.write(Files.createDirectories(dir.resolve("d" + i)).resolve("f"), new byte[sizes[i]]);
        PageCacheScan.Result r = PageCacheScan.scan(List.of(dir));
        assertThat(r.files()).isEqualTo(5);
        assertThat(r.fileBytes()).isEqualTo(1 + 4096 + 4097 + 20000);
        assertThat(r.rounded(4096)).isEqualTo(9 * 4096L);
        assertThat(r.rounded(16384)).isEqualTo(5 * 16384L);
        assertThat(r.rounded(65536)).isEqualTo(4 * 65536L);
        MachineCost c = MachineCost.of(Geometry.SIXTEEN_K_48, 1L << 30, 64, r);
        assertThat(c.pageCacheBytes()).isEqualTo(5 * 16384L);
    }

    @Test
    void structPageSizeFromVmcoreinfo() throws Exception {
        Path info = dir.resolve("vmcoreinfo");
        Files.writeString(info, "OSRELEASE=6.1.0\nPAGESIZE=4096\nSIZE(page)=56\nOFFSET(page.flags)=0\n");
        assertThat(MachineCost.structPageFromVmcoreinfo(info)).isEqualTo(56);
        Files.writeString(info, "PAGESIZE=4096\n");
        assertThat(MachineCost.structPageFromVmcoreinfo(info)).isEqualTo(-1);
        Files.writeString(info, "SIZE(page)=lots\n");
        assertThatThrownBy(() -> MachineCost.structPageFromVmcoreinfo(info)).hasMessageContaining(info + ":1: SIZE(page)");
    }
}
