package dev.granule.mmu.oracle;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A block larger than the PA size: a 64K level-1 block maps 4 TiB (2^42 bytes), so under TCR.IPS
 * of 32, 36 or 40 bits an offset inside it reaches past the PA size although the block's base
 * (OA[47:42]) is 0. The Arm ARM (AArch64.S1Walk, v9.4 pseudocode) checks the whole output address
 * — {@code StageOA} (the base with the VA's low bits) then {@code AArch64.OAOutOfRange} — so such
 * an offset is an address size fault at level 1 (the model's answer, PaSizeRulesTest). QEMU 10.0.2
 * checks only the descriptor's address and translates to a PA beyond its own PA size: a departure,
 * pinned here (the offsets inside the PA size must agree, those beyond must show the departure), and
 * kept out of the random oracles ({@link QemuLargeBlockDeparture}, {@link QemuPieDepartures#largeBlock}).
 */
@Tag("qemu")
class QemuLargeBlockOaTest {

    @TempDir
    Path work;

    @Test
    void aBlockBiggerThanThePaSizeAnswersAsQemu10DoesForOffsetsBeyondIt() throws Exception {
        String missing = QemuAt.unavailableReason(QemuAt.Target.AARCH64);
        assumeTrue(missing == null, () -> "QEMU large-block oracle skipped: " + missing);
        QemuAt qemu = new QemuAt(QemuAt.Target.AARCH64, work);
        QemuAt.Answers id = qemu.identify();
        assumeTrue(id.cpu().paBits() == 52, "the 64K level-1 block needs a 52-bit PARange (AArch64.BlockDescSupported)");

        long root = QemuAt.TABLES_BASE;
        // TCR: T0SZ 16, TG0 64K (0b01), EPD1; IPS per case. Root at level 1 (VA[47:42]); index 0 a block at OA 0.
        long block = 0x701; // AF, SH = Inner, block
        long[] ips = {0b000, 0b001, 0b010, 0b101};
        long[] vas = {0x1234, 0xFFFF_F000L, 0x1_0000_0000L, 0xF_FFFF_F000L, 0x10_0000_0000L, 0xFE_0000_0000L,
                0x100_0000_0000L, 0x3FF_FFFF_F000L};
        ByteBuffer job = QemuAt.le(8 + ips.length * (72 + vas.length * 16));
        job.putLong(ips.length);
        for (long p : ips) {
            long tcr = 16 | 1L << 14 | 1L << 23 | p << 32;
            job.putLong(tcr).putLong(root).putLong(0).putLong(0xFF).putLong(1).putLong(QemuAt.HCR_RW)
                    .putLong(0).putLong(0).putLong(vas.length);
            for (long va : vas) job.putLong(va).putLong(AtOp.S1E1R.ordinal());
        }
        byte[] tables = new byte[64 * 1024];
        ByteBuffer.wrap(tables).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, block);
        QemuAt.Answers answers = qemu.ask(job.array(), tables, ips.length * vas.length);

        List<String> mismatches = new ArrayList<>();
        int n = 0, departures = 0;
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
            memory.writeLong(root, block);
            for (long p : ips) {
                long tcr = 16 | 1L << 14 | 1L << 23 | p << 32;
                var mmu = new Mmu(new TranslationRegime(new Registers(tcr, root, 0, 0xFF, 1, false), id.cpu()), memory, new Tlb(16, 4));
                for (long va : vas) {
                    mmu.tlb().invalidateAll();
                    Translation t = mmu.translate(va, Access.READ, 1);
                    long par = answers.par()[n++];
                    String line = String.format("IPS %d VA 0x%x: QEMU %s, model %s", p, va, Par.describe(par), t);
                    int paBits = mmu.regime().paBits();
                    if (va >>> paBits == 0) {
                        // Inside the PA size both answer the same.
                        if (answers.exception()[n - 1] || Par.compared(par) != Par.expected(t)) mismatches.add(line);
                    } else {
                        // Beyond it: the model follows the Arm ARM (address size fault, level 1); QEMU
                        // 10.0.2 departs and translates to a PA beyond its own PA size. If QEMU changes,
                        // this says so (and the oracles' departure filter can go).
                        departures++;
                        boolean modelFaults = t instanceof Translation.Fault f && f.type() == dev.granule.mmu.FaultType.ADDRESS_SIZE && f.level() == 1;
                        boolean qemuTranslates = (par & 1) == 0 && (par & Par.PA_MASK) == (va & Par.PA_MASK);
                        if (!modelFaults || !qemuTranslates) mismatches.add("departure changed: " + line);
                    }
                }
            }
        }
        System.out.printf("QEMU large-block OA probe (%s): %d probes, %d beyond the PA size (QEMU 10.0.2 translates them,"
                + " the Arm ARM faults), %d unexpected%n", qemu.version(), n, departures, mismatches.size());
        assertThat(departures).as("offsets beyond the PA size were asked").isPositive();
        assertThat(mismatches).as("model vs QEMU 10").isEmpty();
    }
}
