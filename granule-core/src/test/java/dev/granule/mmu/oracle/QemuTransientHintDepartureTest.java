package dev.granule.mmu.oracle;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.TranslationRegime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * QEMU 11.1 drops stage 1's transient hint where a Write-Back transient stage-1 attribute meets a
 * Write-Through stage 2, which {@link QemuPieOracleTest} keeps out (counted) once TCR2_EL1.AIE over
 * stage 2 brings MAIR2_EL1's transient values in; pinned here with one hand-built AT S12E1R.
 *
 * <p>Stage 1: 4K granule, 39-bit VA, VA 0x7000_0000 a page with AttrIndx 0, MAIR_EL1 attribute 0x77
 * (Normal, inner and outer Write-Back Transient, read- and write-allocate). Stage 2: 4K, 39-bit IPA,
 * IPA 0x7000_0000 a 2 MiB block with MemAttr 0b1010 (Normal, outer and inner Write-Through), the
 * tables' 2 MiB to themselves Write-Back. S2CombineS1MemAttrs takes
 * the weaker cacheability (Write-Through) and S2CombineS1AttrHints takes the allocation hints and the
 * transient hint from stage 1 ("stage 2 does not assign any allocation hints"): Write-Through
 * Transient with read- and write-allocate, 0b0011 in each half, PAR_EL1.ATTR 0x33. QEMU 11.1 reports
 * Write-Through non-transient, 0xbb (its combine_cacheattr_nibble returns the Write-Through type
 * without stage 1's transient bit).
 */
@Tag("qemu")
class QemuTransientHintDepartureTest {

    static final long T = QemuAt.TABLES_BASE, DATA = 0x7000_0000L;
    static final long AF = 1L << 10, SH_INNER = 3L << 8, S2AP_RW = 3L << 6;
    static final long TCR = 25 | 1L << 8 | 1L << 10 | 3L << 12 | 16L << 16 | 1L << 23 | 5L << 32;
    static final long VTCR = TwoStageCaseGenerator.VTCR_RES1 | 25 | 1L << 6 | 1L << 8 | 1L << 10 | 3L << 12 | 5L << 16;
    static final long MAIR = 0x77, SCTLR = HafdbsCaseGenerator.SCTLR;
    static final int AT_S12E1R = 8;

    @TempDir
    Path work;

    @Test
    void aWriteThroughStage2KeepsStage1sTransientHintInTheArmArmButNotOnQemu() throws Exception {
        var target = QemuPieOracleTest.onQemu11(QemuAt.Target.AARCH64, "QEMU 11 transient-hint departure");
        QemuAt qemu = new QemuAt(target, work);
        var cpu = qemu.identify().cpu();

        try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
            memory.writeLong(T + 8, (T + 0x1000) | 3);                         // stage 1 L1[1]: VA 1..2 GiB
            memory.writeLong(T + 0x1000 + 0x180 * 8, (T + 0x2000) | 3);         // L2: VA 0x7000_0000
            memory.writeLong(T + 0x2000, DATA | AF | SH_INNER | 1L << 6 | 3);   // the page: AttrIndx 0, AP 0b01
            memory.writeLong(T + 0x3000 + 8, (T + 0x4000) | 3);                // stage 2 L1[1]: IPA 1..2 GiB
            long tables = T & ~0x1F_FFFFL;
            memory.writeLong(T + 0x4000 + (tables - 0x4000_0000L >>> 21) * 8, tables | AF | SH_INNER | S2AP_RW | 0xFL << 2 | 1);
            memory.writeLong(T + 0x4000 + 0x180 * 8, DATA | AF | SH_INNER | S2AP_RW | 0b1010L << 2 | 1); // Write-Through
            byte[] image = new byte[0x5000];
            memory.read(T, image, 0, image.length);

            long hcr = QemuAt.HCR_RW | HafdbsCaseGenerator.HCR_VM, vttbr = (T + 0x3000) | 1L << 48;
            // PA 0x7000_0000, ATTR 0x33 (Write-Through Transient, RW-allocate, both halves), SH 0b11.
            long armArm = DATA | 0x33L << 56 | 3L << 7, qemuSays = DATA | 0xBBL << 56 | 3L << 7;
            var mmu = new Mmu(new TranslationRegime(new Registers(TCR, T, 0, MAIR, SCTLR, false), cpu),
                    new Stage2Regime(hcr, VTCR, vttbr, cpu), memory, new Tlb(16, 4));
            assertThat(Par.expected(mmu.translate(DATA, Access.READ, 1))).as("the model follows the Arm ARM").isEqualTo(armArm);

            ByteBuffer job = QemuAt.le(8 + 9 * 8 + 16);
            job.putLong(1).putLong(TCR).putLong(T).putLong(0).putLong(MAIR).putLong(SCTLR).putLong(hcr).putLong(VTCR)
                    .putLong(vttbr).putLong(1).putLong(DATA).putLong(AT_S12E1R);
            QemuAt.Answers answers = qemu.ask(job.array(), image, 1);
            assertThat(answers.exception()[0]).isFalse();
            assertThat(Par.compared(answers.par()[0])).as("QEMU 11.1: %s", Par.describe(answers.par()[0])).isEqualTo(qemuSays);
            assertThat(QemuPieDepartures.transientHintDropped(mmu.translate(DATA, Access.READ, 1)))
                    .as("QemuPieOracleTest's rule names exactly this answer").isEqualTo(qemuSays);
        }
    }
}
