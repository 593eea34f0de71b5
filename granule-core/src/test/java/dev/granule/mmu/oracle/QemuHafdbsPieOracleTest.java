package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Granule;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Stage2Regime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

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
        QemuAt.Target target = QemuPieOracleTest.onQemu11(QemuAt.Target.AARCH64_HAFDBS, "QEMU hardware-update oracle under PIE");
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

        var departures = new Departures(oracle);
        for (Granule g1 : Granule.values()) {
            int[] done = {0};
            oracle.runBatches(() -> done[0] >= perGranule, (seed, memory) -> done[0] += QemuHafdbsOracleTest.runBatch(oracle,
                    words, new HafdbsCaseGenerator(seed, cpu, memory, true), cpu, memory, g1, perGranule - done[0],
                    departures));
        }

        oracle.finish("real loads/stores/fetches, TCR2_EL1.PIE, VTCR_EL2.S2PIE");
        var updates = oracle.tally(QemuHafdbsOracleTest.WORDS_AFTER);
        assertThat(updates.keySet()).as("the oracle saw the updates it is for")
                .anyMatch(k -> k.startsWith("stage-1") && k.contains("AF set"))
                .anyMatch(k -> k.startsWith("stage-2 page of data") && k.contains("AF set"))
                .anyMatch(k -> k.startsWith("stage-2 page of stage-1 tables") && k.contains("AF set"));
        assertThat(oracle.tally(QemuHafdbsOracleTest.OUTCOMES).keySet()).as("stage-1 updates that S2PIR refuses")
                .anyMatch(k -> k.contains("stage-2 (s1 walk) permission fault"));
    }

    /**
     * The accesses kept out, each by the narrowest rule that holds the departure, decided on the
     * descriptors as they are just before the access (the model's memory, equal to QEMU's so far):
     * <ul>
     * <li>stage 1 (QemuHafdbsPieDepartureTest): a store through a leaf whose nDirty (bit 7) is 1. The
     *     Arm ARM faults it without TCR_EL1.HA and HD and clears nDirty with them
     *     (AArch64.S1CheckPermissions, AArch64.S1Translate's descriptor update). QEMU 11.1 checks nDirty
     *     only when the store walks (a TLB entry a load left lets it through), and with HA and HD
     *     clears it only where bit 51 (PIIndex[1], DBM's place) is 1. So the store is asked where it
     *     walks on QEMU — no earlier access of the case through the leaf (the TLBs are empty at a
     *     case's start) — and QEMU's walk follows the Arm ARM: without HA and HD, or with bit 51;
     * <li>stage 2 (the same test): a write to a stage-2 leaf whose Dirty (bit 7) is 0. A store, which
     *     the Arm ARM faults without VTCR_EL2.HA and HD and which sets Dirty with them
     *     (AArch64.S2CheckPermissions, AArch64.S2Translate), where QEMU 11.1 behaves as at stage 1 and
     *     the store is asked as at stage 1; and the stage-1 walk's update of its
     *     leaf (AF = 0 under TCR_EL1.HA, or nDirty for a store asked above), which the Arm ARM faults
     *     without VTCR_EL2.HA and HD and which sets Dirty with them, where QEMU 11.1 writes the
     *     descriptor through the page without either;
     * <li>PAN (known from the AT oracle, QemuPieOracleTest): an EL1 load or store with PSTATE.PAN
     *     through a leaf whose PIRE0_EL1 value is reserved but not 0b0000, which
     *     AArch64.S1IndirectBasePermissions takes away and QEMU 11.1 lets through.
     * </ul>
     */
    private static final class Departures implements QemuHafdbsOracleTest.KeepOut {
        static final long DIRTY_BIT = 1L << 7, AF = 1L << 10, DBM_PLACE = 1L << 51;
        final OracleDriver.Count nDirtyStore, stage2DirtyStore, stage2DirtyUpdate, panReserved;
        /** The leaves (stage 1 and stage 2, by PA) that an access of the current case has gone through. */
        private final Set<Long> touched = new HashSet<>();
        private HafdbsCaseGenerator.Case current;

        Departures(OracleDriver oracle) {
            nDirtyStore = oracle.departure("stores through a stage-1 leaf whose nDirty is 1 (QemuHafdbsPieDepartureTest)");
            stage2DirtyStore = oracle.departure("stores to a stage-2 leaf whose Dirty is 0 (QemuHafdbsPieDepartureTest)");
            stage2DirtyUpdate = oracle.departure("accesses whose stage-1 AF/nDirty update writes to a stage-2 leaf whose Dirty is 0"
                    + " (QemuHafdbsPieDepartureTest)");
            panReserved = oracle.departure("EL1 loads/stores with PAN through a reserved non-zero PIRE0 value (QemuPieOracleTest)");
        }

        @Override
        public boolean keepsOut(HafdbsCaseGenerator.Case c, HafdbsCaseGenerator.Probe p, Mmu mmu, SparseMemory memory) {
            if (c != current) {
                current = c;
                touched.clear();
            }
            if (p.leafPa() < 0) return false; // a translation fault at stage 1: nothing to update
            long leaf = memory.readLong(p.leafPa());
            boolean store = p.access() == Access.WRITE;
            boolean ha = (c.registers().tcr() >>> 39 & 1) != 0, hd = (c.registers().tcr() >>> 40 & 1) != 0;
            // QEMU's walk applies the dirty state as the Arm ARM does without HA and HD (a fault) or where bit 51 is 1.
            boolean qemuWalksLikeTheArmArm = !touched.contains(p.leafPa()) && (!(ha && hd) || (leaf & DBM_PLACE) != 0);
            if (store && (leaf & DIRTY_BIT) != 0 && !qemuWalksLikeTheArmArm) {
                nDirtyStore.add();
                return true;
            }
            Stage2Regime s2 = mmu.stage2();
            long s2leaf = s2 == null ? -1 : QemuPieDepartures.stage2LeafAddress(memory, s2, p.ipa());
            long s2word = s2leaf < 0 ? 0 : memory.readLong(s2leaf);
            boolean s2haHd = (c.vtcr() >>> 21 & 3) == 3; // VTCR_EL2.HA [21], HD [22]
            boolean qemuStage2WalksLikeTheArmArm = !touched.contains(s2leaf) && (!s2haHd || (s2word & DBM_PLACE) != 0);
            if (s2leaf >= 0 && store && (s2word & DIRTY_BIT) == 0 && !qemuStage2WalksLikeTheArmArm) {
                stage2DirtyStore.add();
                return true;
            }
            // The stage-1 walk writes its leaf for AF (AF = 0 under HA) or for nDirty (a store asked above under HA and HD).
            boolean s1Update = (leaf & AF) == 0 && ha || store && (leaf & DIRTY_BIT) != 0 && ha && hd;
            if (s2 != null && s1Update && clean(memory, s2, p.leafIpa())) {
                stage2DirtyUpdate.add();
                return true;
            }
            if (p.el() == 1 && p.access() != Access.EXECUTE && c.registers().pan()) {
                // PIIndex by hand: UXN [54], PXN [53], DBM [51], AP[1] [6].
                int index = (int) ((leaf >>> 54 & 1) << 3 | (leaf >>> 53 & 1) << 2 | (leaf >>> 51 & 1) << 1 | (leaf >>> 6 & 1));
                int unprivileged = (int) (c.indirection().pire0() >>> 4 * index) & 0xF;
                // The reserved PIRE0 values other than 0b0000 (Arm ARM, PIRE0_EL1: 0b0100, 0b1011, 0b1101, 0b1111).
                if (unprivileged == 0b0100 || unprivileged == 0b1011 || unprivileged == 0b1101 || unprivileged == 0b1111) {
                    panReserved.add();
                    return true;
                }
            }
            touched.add(p.leafPa());
            if (s2leaf >= 0) touched.add(s2leaf);
            return false;
        }

        /** Whether {@code ipa}'s stage-2 leaf exists and its Dirty bit is 0. */
        private static boolean clean(SparseMemory memory, Stage2Regime s2, long ipa) {
            long at = QemuPieDepartures.stage2LeafAddress(memory, s2, ipa);
            return at >= 0 && (memory.readLong(at) & DIRTY_BIT) == 0;
        }
    }
}
