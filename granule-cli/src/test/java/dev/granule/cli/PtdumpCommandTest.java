package dev.granule.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static dev.granule.cli.BootCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

class PtdumpCommandTest {

    @Test
    void listsTheLinearMapAndKernelSegmentsWithBlocks() {
        var r = run("ptdump", "arm64.pagesize=4k", "--rodata", "on", "--dram", "4G");
        assertThat(r.exit()).isZero();
        // 4 GiB of DRAM at 1 GiB: four 1 GiB level-1 blocks, merged into one line.
        assertThat(r.out()).contains("0xffff000000000000-0xffff000100000000        4G PUD BLK")
                // KIMAGE_VADDR for 48-bit VA: _PAGE_END(48) + 2 GiB of modules.
                .contains("0xffff800080000000-0xffff800081200000       18M PMD BLK")
                .contains("RO/-- x   UXN").contains("---[ Kernel rodata ]---");
    }

    @Test
    void rodataFullMapsTheLinearMapWithPagesOnly() throws Exception {
        var r = run("boot", "--json", "--kernel-tables", "--dram", "1G", "arm64.pagesize=64k");
        assertThat(r.exit()).isZero();
        JsonNode t = new ObjectMapper().readTree(r.out()).get("kernelTables");
        // 1 GiB / 64 KiB = 16384 pages, in 16384 / 8192 = 2 PTE tables; plus the kernel image.
        assertThat(t.get("leavesBySize").get("65536").asLong()).isGreaterThanOrEqualTo(16384);
        assertThat(t.get("rodata").asText()).isEqualTo("full");
    }

    @Test
    void badSizesAreUserErrors() {
        var r = run("ptdump", "--dram", "lots");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("'lots' is not a size");
    }

    @Test
    void theKernelLayoutIsArm64OnlySoAArch32FormatsAreRefusedByName() {
        for (String format : new String[]{"short", "lpae"}) {
            var r = run("ptdump", "granule.format=" + format);
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).startsWith("granule: error: cannot build kernel tables: the kernel layout models arm64"
                    + " Linux").contains("(arch/arm)");
        }
    }

    @Test
    void d128KernelTablesUseTheSameEngine() {
        var r = run("ptdump", "granule.format=d128", "--rodata", "on", "--dram", "1G");
        assertThat(r.exit()).isZero();
        // 1 GiB of DRAM at 1 GiB is four 256 MiB level 1 blocks (Table D8-46), one line.
        assertThat(r.out()).contains("4K/48-bit VA/48-bit PA/d128")
                .contains("0xffff000000000000-0xffff000040000000        1G PUD BLK");
    }
}
