package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Granule;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Hardware updates of the Access flag and dirty state under permission indirection, checked by REAL
 * accesses as {@link QemuHafdbsOracleTest} checks them without it (its batches, {@link
 * QemuHafdbsOracleTest#runBatch}): on QEMU 11.1's {@code -cpu max} (FEAT_TCR2, S1PIE, S2PIE, HAFDBS),
 * every case with TCR2_EL1.PIE and random PIR_EL1/PIRE0_EL1 (Linux's PIE_E1/PIE_E0 in a third), and
 * every stage 2 with VTCR_EL2.S2PIE and a random S2PIR_EL2 ({@link HafdbsCaseGenerator} with
 * indirection). Bit 7 is then nDirty at stage 1 and Dirty at stage 2: a permitted write to an nDirty
 * leaf faults without TCR_EL1.HA and HD and clears nDirty with them (AArch64.S1CheckPermissions,
 * AArch64.SetDirtyState), and likewise at stage 2 for a Dirty = 0 leaf, where a stage-1 hardware
 * update's write needs the S2PIR value's MMU write right and then Dirty or VTCR_EL2.HA and HD.
 *
 * <p>QEMU 11 is Debian's trixie-backports build that {@code scripts/qemu-trixie.sh} unpacks into the
 * cache (as for {@link QemuPieOracleTest}, {@code -Dgranule.qemu.pie=PATH} names another); without it
 * the test skips and says why. {@code -Dgranule.oracle.hafdbs.pie=N} sets the accesses per stage-1
 * granule (4,000 by default), half of them over a stage 2; {@code -Dgranule.oracle.seed=S} the seed.
 */
@Tag("qemu")
class QemuHafdbsPieOracleTest {

    @TempDir
    Path work;

    @Test
    void hardwareUpdatesUnderPermissionIndirectionEqualQemusAfterRealAccesses() throws Exception {
        Path launcher = QemuPieOracleTest.launcher();
        String absent = "QEMU hardware-update oracle under PIE skipped: no QEMU 11 at " + launcher
                + " (scripts/qemu-trixie.sh fetches Debian trixie-backports' QEMU there)";
        if (!Files.isExecutable(launcher)) System.out.println("SKIPPED: " + absent);
        assumeTrue(Files.isExecutable(launcher), absent);
        QemuAt.Target target = new QemuAt.Target(launcher.toString(), "max", QemuAt.Target.AARCH64_HAFDBS.as(),
                QemuAt.Target.AARCH64_HAFDBS.ld(), QemuAt.Target.AARCH64_HAFDBS.march(),
                QemuAt.Target.AARCH64_HAFDBS.resource(), false);
        OracleDriver oracle = OracleDriver.start("QEMU hardware-update oracle under PIE", target, work, "accesses",
                "per stage-1 granule and stage 2");
        int perGranule = Integer.getInteger("granule.oracle.hafdbs.pie", 4_000);

        QemuAt.Answers id = QemuHafdbsOracleTest.identify(oracle.qemu.output(new byte[32], null));
        assertThat(id.currentEl()).as("the probe must run at EL2").isEqualTo(2);
        long mmfr1 = id.id()[1], mmfr3 = id.mmfr3();
        // The fields, read by hand from the Arm ARM's ID_AA64MMFR1_EL1 and ID_AA64MMFR3_EL1: HAFDBS [3:0]
        // (2: Access flag and dirty state), TCRX [3:0], S1PIE [11:8], S2PIE [15:12] (1: implemented).
        assertThat(mmfr1 & 0xF).as("ID_AA64MMFR1_EL1.HAFDBS of %s", oracle.qemu.version()).isGreaterThanOrEqualTo(2);
        assertThat(mmfr3 & 0xF).as("ID_AA64MMFR3_EL1.TCRX (0x%x)", mmfr3).isEqualTo(1);
        assertThat(mmfr3 >>> 8 & 0xF).as("ID_AA64MMFR3_EL1.S1PIE (0x%x)", mmfr3).isEqualTo(1);
        assertThat(mmfr3 >>> 12 & 0xF).as("ID_AA64MMFR3_EL1.S2PIE (0x%x)", mmfr3).isEqualTo(1);
        CpuFeatures cpu = new CpuFeatures(id.id()[0], id.id()[2], mmfr3, mmfr1, 0);
        OracleDriver.Count words = oracle.count("descriptor words compared");

        for (Granule g1 : Granule.values()) {
            int[] done = {0};
            oracle.runBatches(() -> done[0] >= perGranule, (seed, memory) -> done[0] += QemuHafdbsOracleTest.runBatch(oracle,
                    words, new HafdbsCaseGenerator(seed, cpu, memory, true), cpu, memory, g1, perGranule - done[0],
                    QemuHafdbsOracleTest.KEEP_NONE));
        }

        oracle.finish("real loads/stores/fetches, TCR2_EL1.PIE, VTCR_EL2.S2PIE");
    }
}
