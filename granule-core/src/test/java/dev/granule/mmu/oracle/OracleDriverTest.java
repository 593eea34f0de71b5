package dev.granule.mmu.oracle;

import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The QEMU oracles rest on their shared driver: a driver that let a mismatch pass, or stopped
 * before the test had its probes, would make every oracle green. Checked here without QEMU.
 */
class OracleDriverTest {

    private static OracleDriver driver() {
        return new OracleDriver("test oracle", 100, null, "max", "no QEMU", "probes", "per granule");
    }

    @Test
    void aSingleMismatchFailsTheRunWithItsDetails() {
        OracleDriver d = driver();
        d.asked(1, 3);
        d.mismatch("S1E1R: model translated, QEMU fault", () -> "VA 0x1000: the details");
        assertThatThrownBy(() -> d.finish(""))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("VA 0x1000: the details")
                .hasMessageContaining("seed 100");
    }

    @Test
    void aRunWithoutMismatchesPassesWhateverItCountedApart() {
        OracleDriver d = driver();
        d.asked(2, 800);
        d.departure("probes QEMU answers against the Arm ARM").add(5);
        d.count("walks ended in an external abort").add();
        d.tally("model outcomes", "translated");
        d.finish("");
    }

    @Test
    void everyMismatchIsCountedThoughOnlyTheFirstAreKept() {
        OracleDriver d = driver();
        int n = OracleDriver.MISMATCHES_KEPT + 50;
        List<Integer> detailed = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            d.mismatch(null, () -> {
                detailed.add(k);
                return "mismatch " + k;
            });
        }
        assertThat(detailed).hasSize(OracleDriver.MISMATCHES_KEPT);
        assertThatThrownBy(() -> d.finish("")).hasMessageContaining(String.valueOf(n))
                .hasMessageContaining("mismatch 0");
    }

    @Test
    void batchesRunUntilEveryDeclaredKeyHasEnoughEachWithTheNextSeedAndItsOwnMemory() throws Exception {
        OracleDriver d = driver();
        d.spreadOver(List.of("4K", "16K", "64K"));
        List<Long> seeds = new ArrayList<>();
        List<SparseMemory> memories = new ArrayList<>();
        // 64K gets probes only from the third batch on: the run must wait for it, not stop at 4K and 16K.
        d.runBatches(() -> d.fewest() >= 300, (seed, memory) -> {
            seeds.add(seed);
            memories.add(memory);
            memory.writeLong(QemuAt.TABLES_BASE, seed);
            d.spread("4K", 200);
            d.spread("16K", 200);
            if (seeds.size() >= 3) d.spread("64K", 150);
        });
        assertThat(seeds).containsExactly(100L, 101L, 102L, 103L);
        assertThat(d.batches()).isEqualTo(4);
        assertThat(d.spread()).containsEntry("64K", 300).containsEntry("4K", 800);
        assertThat(memories).doesNotHaveDuplicates();
    }
}
