package dev.granule.mmu;

import dev.granule.format.PermissionIndirection;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.IndirectPermissions.TCR2_E0POE;
import static dev.granule.mmu.IndirectPermissions.TCR2_PIE;
import static dev.granule.mmu.IndirectPermissions.TCR2_POE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Permission indirection and overlays against the Arm ARM, by hand. Every expected right below is
 * written out from the manual's tables (AArch64.S1IndirectBasePermissions' PIR encodings,
 * AArch64.S1OverlayPermissions' POR encodings, the WXN and PAN steps of
 * AArch64.S1ComputePermissions / S1IndirectBasePermissions), never read back from the evaluator.
 * Rights are written "RWX" strings, "-" for a right not granted, EL1 first then EL0.
 */
class IndirectPermissionsTest {

    /** PIR_ELx / PIRE0_ELx encodings 0b0000..0b1111 at their own level, no overlay, nothing else set. */
    static final String[] BASE = {
            "---", // 0000 no access (overlay applies)
            "R--", // 0001 read
            "--X", // 0010 execute
            "R-X", // 0011 read, execute
            "---", // 0100 reserved
            "RW-", // 0101 read, write
            "RW-", // 0110 read, write, execute with WXN: without an overlay the execute right is removed
            "RWX", // 0111 read, write, execute
            "R--", // 1000 read (no overlay)
            "R--", // 1001 read + GCS: ordinary accesses read only
            "R-X", // 1010 read, execute
            "---", // 1011 reserved
            "RW-", // 1100 read, write
            "---", // 1101 reserved
            "RWX", // 1110 read, write, execute
            "---", // 1111 reserved
    };

    /** POR_ELx encodings: bit 0 read, bit 1 execute, bit 2 write; 0b1xxx reserved (no access). */
    static final String[] OVERLAY = {
            "---", "R--", "--X", "R-X", "-W-", "RW-", "-WX", "RWX",
            "---", "---", "---", "---", "---", "---", "---", "---",
    };

    /** Rights as Tlb bits, from "EL1 rights", "EL0 rights". */
    static int rights(String el1, String el0) {
        return bits(el0) | bits(el1) << 3;
    }

    private static int bits(String rwx) {
        return (rwx.charAt(0) == 'R' ? 1 : 0) | (rwx.charAt(1) == 'W' ? 2 : 0) | (rwx.charAt(2) == 'X' ? 4 : 0);
    }

    static String describe(int perms) {
        return "EL1 " + rwx(perms >> 3) + " EL0 " + rwx(perms);
    }

    private static String rwx(int p) {
        return ((p & 1) != 0 ? "R" : "-") + ((p & 2) != 0 ? "W" : "-") + ((p & 4) != 0 ? "X" : "-");
    }

    /** The rights both strings grant. */
    static String intersect(String a, String b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 3; i++) s.append(a.charAt(i) == b.charAt(i) ? a.charAt(i) : '-');
        return s.toString();
    }

    static long field(int index, int value) {
        return (long) value << (4 * index);
    }

    static void check(IndirectPermissions p, int pi, int po, boolean pan, String el1, String el0) {
        assertThat(describe(p.permissions(pi, po, pan)))
                .as("PIIndex %d POIndex %d PAN %s under %s", pi, po, pan, p)
                .isEqualTo(describe(rights(el1, el0)));
    }

    @Test
    void everyPirEncodingAtEl1() {
        for (int v = 0; v < 16; v++) {
            // Index 5 holds the value; PIRE0_EL1 is 0 (EL0: no access), so no cross-level rule fires.
            IndirectPermissions p = IndirectPermissions.of(TCR2_PIE, field(5, v), 0, 0, 0);
            check(p, 5, 0, false, BASE[v], "---");
            check(p, 4, 0, false, "---", "---");
        }
    }

    @Test
    void everyPire0EncodingAtEl0() {
        for (int v = 0; v < 16; v++) {
            IndirectPermissions p = IndirectPermissions.of(TCR2_PIE, 0, field(12, v), 0, 0);
            check(p, 12, 0, false, "---", BASE[v]);
        }
    }

    @Test
    void executableAtEl1AndWritableAtEl0GrantsNothingAtEither() {
        // From the tables: values granting execute or GCS at EL1, and write or GCS at EL0.
        java.util.Set<Integer> el1ExecOrGcs = java.util.Set.of(0x2, 0x3, 0x6, 0x7, 0x9, 0xa, 0xe);
        java.util.Set<Integer> el0WriteOrGcs = java.util.Set.of(0x5, 0x6, 0x7, 0x9, 0xc, 0xe);
        for (int a = 0; a < 16; a++) {
            for (int b = 0; b < 16; b++) {
                IndirectPermissions p = IndirectPermissions.of(TCR2_PIE, field(3, a), field(3, b), 0, 0);
                boolean conflict = el1ExecOrGcs.contains(a) && el0WriteOrGcs.contains(b);
                check(p, 3, 0, false, conflict ? "---" : BASE[a], conflict ? "---" : BASE[b]);
            }
        }
    }

    @Test
    void overlaysIntersectOverlayableValuesWithEveryPorValue() {
        int[] overlayable = {0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x7};
        for (int base : overlayable) {
            for (int v = 0; v < 16; v++) {
                // POR_EL1 field 5 holds the value; field 4 is 0 (no access).
                IndirectPermissions el1 = IndirectPermissions.of(TCR2_PIE | TCR2_POE, field(2, base), 0, field(5, v), 0);
                check(el1, 2, 5, false, intersect(BASE[base], OVERLAY[v]), "---");
                check(el1, 2, 4, false, "---", "---");
                IndirectPermissions el0 = IndirectPermissions.of(TCR2_PIE | TCR2_E0POE, 0, field(2, base), 0, field(5, v));
                check(el0, 2, 5, false, "---", intersect(BASE[base], OVERLAY[v]));
            }
        }
    }

    @Test
    void valuesWithoutOverlayIgnorePor() {
        for (int base = 0x8; base < 16; base++) {
            IndirectPermissions p = IndirectPermissions.of(TCR2_PIE | TCR2_POE | TCR2_E0POE, field(1, base),
                    field(0, base), 0, 0);
            check(p, 1, 0, false, BASE[base], "---");
            check(p, 0, 0, false, "---", BASE[base]);
        }
    }

    @Test
    void overlaysAreOffUntilTcr2EnablesThemLevelByLevel() {
        // RWX_O (0b0111) with POR = 0 everywhere.
        check(IndirectPermissions.of(TCR2_PIE, field(0, 7), field(1, 7), 0, 0), 0, 0, false, "RWX", "---");
        check(IndirectPermissions.of(TCR2_PIE, field(0, 7), field(1, 7), 0, 0), 1, 0, false, "---", "RWX");
        // POE governs EL1 only, E0POE EL0 only.
        // (R_O at EL1 beside RWX_O at EL0: not executable at EL1, so the cross-level rule stays out.)
        check(IndirectPermissions.of(TCR2_PIE | TCR2_POE, field(1, 1), field(1, 7), 0, 0), 1, 0, false, "---", "RWX");
        check(IndirectPermissions.of(TCR2_PIE | TCR2_E0POE, field(1, 1), field(1, 7), 0, 0), 1, 0, false, "R--", "---");
    }

    @Test
    void wxnValueRemovesExecuteWithoutOverlayAndOverlayWriteWithOne() {
        // 0b0110 with an overlay (AArch64.S1ComputePermissions): if the overlay grants execute, the
        // overlay's write right goes; otherwise the base execute right goes. Worked by hand per POR value.
        String[] expected = {"---", "R--", "--X", "R-X", "-W-", "RW-", "--X", "R-X",
                "---", "---", "---", "---", "---", "---", "---", "---"};
        for (int v = 0; v < 16; v++) {
            check(IndirectPermissions.of(TCR2_PIE | TCR2_POE, field(6, 6), 0, field(3, v), 0), 6, 3, false,
                    expected[v], "---");
            check(IndirectPermissions.of(TCR2_PIE | TCR2_E0POE, 0, field(6, 6), 0, field(3, v)), 6, 3, false,
                    "---", expected[v]);
        }
        check(IndirectPermissions.of(TCR2_PIE, field(6, 6), field(7, 6), 0, 0), 6, 0, false, "RW-", "---");
        check(IndirectPermissions.of(TCR2_PIE, field(6, 6), field(7, 6), 0, 0), 7, 0, false, "---", "RW-");
        // 0b0111 is not WXN: an RWX overlay leaves it RWX.
        check(IndirectPermissions.of(TCR2_PIE | TCR2_POE, field(6, 7), 0, field(3, 7), 0), 6, 3, false, "RWX", "---");
    }

    @Test
    void panTakesPrivilegedDataAccessWheneverPire0IsNotZero() {
        // PIR RW (0b1100) with PIRE0: R (0b1000), execute-only (0b0010), nothing (0), reserved (0b0100).
        check(IndirectPermissions.of(TCR2_PIE, field(9, 0xc), field(9, 0x8), 0, 0), 9, 0, true, "---", "R--");
        check(IndirectPermissions.of(TCR2_PIE, field(9, 0xc), field(9, 0x8), 0, 0), 9, 0, false, "RW-", "R--");
        check(IndirectPermissions.of(TCR2_PIE, field(9, 0xc), field(9, 0x2), 0, 0), 9, 0, true, "---", "--X");
        check(IndirectPermissions.of(TCR2_PIE, field(9, 0xc), 0, 0, 0), 9, 0, true, "RW-", "---");
        // The pseudocode tests PIRE0's raw value: a reserved value that grants nothing still counts.
        check(IndirectPermissions.of(TCR2_PIE, field(9, 0xc), field(9, 0x4), 0, 0), 9, 0, true, "---", "---");
        // PAN is for data accesses: EL1's execute right stays.
        check(IndirectPermissions.of(TCR2_PIE, field(9, 0xa), field(9, 0x8), 0, 0), 9, 0, true, "--X", "R--");
        // PAN is decided on the base value, before POR_EL0 takes EL0's rights away.
        check(IndirectPermissions.of(TCR2_PIE | TCR2_E0POE, field(9, 0xc), field(9, 0x1), 0, 0), 9, 0, true,
                "---", "---");
    }

    @Test
    void theSharedPanCheckNeverContradictsTheFoldedOne() {
        // Permissions.permitted (the TLB-hit check) also applies classic PAN (EL0 R or W -> no EL1
        // data access); with PIE folded in first it must agree with the bits for every pair of values.
        for (int a = 0; a < 16; a++) {
            for (int b = 0; b < 16; b++) {
                int perms = IndirectPermissions.of(TCR2_PIE, field(0, a), field(0, b), 0, 0).permissions(0, 0, true);
                for (Access access : Access.values()) {
                    for (int el = 0; el < 2; el++) {
                        int bit = Tlb.R0 << (access.ordinal() + 3 * el);
                        assertThat(Permissions.permitted(perms, access, el, true))
                                .as("PIR %x PIRE0 %x %s at EL%d", a, b, access, el).isEqualTo((perms & bit) != 0);
                    }
                }
            }
        }
    }

    @Test
    void indicesFromDescriptorBits() {
        // VMSAv8-64: PIIndex = UXN(54):PXN(53):DBM(51):AP[1](6); POIndex = bits[62:60].
        assertThat(IndirectPermissions.piIndex64(1L << 54)).isEqualTo(0b1000);
        assertThat(IndirectPermissions.piIndex64(1L << 53)).isEqualTo(0b0100);
        assertThat(IndirectPermissions.piIndex64(1L << 51)).isEqualTo(0b0010);
        assertThat(IndirectPermissions.piIndex64(1L << 6)).isEqualTo(0b0001);
        assertThat(IndirectPermissions.piIndex64(1L << 7 | 1L << 52 | 1L << 55)).as("AP[2], Contiguous, bit 55").isZero();
        assertThat(IndirectPermissions.poIndex64(0b101L << 60)).isEqualTo(5);
        assertThat(IndirectPermissions.poIndex64(1L << 59 | 1L << 63)).isZero();
        // VMSAv9-128: PIIndex = descriptor[118:115], POIndex = descriptor[124:121] (high word bits 54:51, 60:57).
        long high = 0xAL << (115 - 64) | 0x9L << (121 - 64);
        assertThat(IndirectPermissions.piIndex128(high)).isEqualTo(0xA);
        assertThat(IndirectPermissions.poIndex128(high)).isEqualTo(0x9);
        IndirectPermissions p = IndirectPermissions.of(TCR2_PIE | TCR2_POE, field(0xA, 0x7), 0, field(9, 0x3), 0);
        assertThat(describe(p.ofVmsa128(high, false))).isEqualTo(describe(rights("R-X", "---")));
    }

    @Test
    void nDirtyTakesWriteAwayUnlessHardwareManagesDirtyState() {
        int rw = rights("RW-", "RW-");
        assertThat(IndirectPermissions.withDirtyState(rw, 1L << 7, false)).isEqualTo(rights("R--", "R--"));
        assertThat(IndirectPermissions.withDirtyState(rw, 1L << 7, true)).isEqualTo(rw);
        assertThat(IndirectPermissions.withDirtyState(rw, 0, false)).isEqualTo(rw);
    }

    @Test
    void tcr2FieldsAndTablePermissions() {
        assertThat(IndirectPermissions.of(0, 0, 0, 0, 0).enabled()).isFalse();
        assertThat(IndirectPermissions.of(1L << 1, 0, 0, 0, 0).enabled()).isTrue();
        assertThat(IndirectPermissions.of(1L << 5, 0, 0, 0, 0).enabled()).as("D128 implies PIE").isTrue();
        assertThat(IndirectPermissions.of(1L << 3, 0, 0, 0, 0).privilegedOverlays()).isTrue();
        assertThat(IndirectPermissions.of(1L << 2, 0, 0, 0, 0).unprivilegedOverlays()).isTrue();
        assertThat(IndirectPermissions.of(0, 0, 0, 0, 0).ignoresTablePermissions()).isFalse();
        assertThat(IndirectPermissions.of(1L << 1, 0, 0, 0, 0).ignoresTablePermissions()).isTrue();
        assertThat(IndirectPermissions.of(1L << 2, 0, 0, 0, 0).ignoresTablePermissions()).isTrue();
    }

    @Test
    void outOfRangeIndicesAreRejected() {
        IndirectPermissions p = IndirectPermissions.of(TCR2_PIE, 0, 0, 0, 0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> p.permissions(16, 0, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16");
    }

    @Test
    void registersRoundTrip() {
        IndirectPermissions p = IndirectPermissions.of(TCR2_PIE, 0x12, 0x34, 0x56, 0x78);
        assertThat(p.indirection()).isEqualTo(new PermissionIndirection(0x12, 0x34));
        assertThat(p.porEl1()).isEqualTo(0x56);
        assertThat(p.porEl0()).isEqualTo(0x78);
    }

    @Test
    void overlaysOnDirectPermissions() {
        // FEAT_S1POE without PIE: every direct value allows an overlay. AP=00 PXN=0 is EL1 RWX;
        // AP=01 UXN=0 is EL0 RWX (and EL1 RW, not executable: EL0 can write it).
        for (int v = 0; v < 16; v++) {
            IndirectPermissions el1 = IndirectPermissions.of(TCR2_POE, 0, 0, field(4, v), 0);
            assertThat(describe(el1.direct(0b00, true, false, false, false, 4, false)))
                    .as("POR_EL1 %x", v).isEqualTo(describe(rights(OVERLAY[v], "---")));
            IndirectPermissions el0 = IndirectPermissions.of(TCR2_E0POE, 0, 0, 0, field(4, v));
            assertThat(describe(el0.direct(0b01, false, true, false, false, 4, false)))
                    .as("POR_EL0 %x", v).isEqualTo(describe(rights("RW-", OVERLAY[v])));
        }
        // SCTLR.WXN on EL1 RWX: with an RWX overlay the overlay's write goes (R-X); with RW the execute goes.
        assertThat(describe(IndirectPermissions.of(TCR2_POE, 0, 0, field(0, 7), 0).direct(0, true, false, true, false, 0, false)))
                .isEqualTo(describe(rights("R-X", "---")));
        assertThat(describe(IndirectPermissions.of(TCR2_POE, 0, 0, field(0, 5), 0).direct(0, true, false, true, false, 0, false)))
                .isEqualTo(describe(rights("RW-", "---")));
        // PAN is decided before POR_EL0 takes EL0's rights away; with EPAN, execute-only user memory counts.
        assertThat(describe(IndirectPermissions.of(TCR2_E0POE, 0, 0, 0, 0).direct(0b01, true, true, false, false, 0, true)))
                .isEqualTo(describe(rights("---", "---")));
        assertThat(describe(IndirectPermissions.of(0, 0, 0, 0, 0).direct(0b00, false, true, false, true, 0, true)))
                .isEqualTo(describe(rights("---", "--X")));
        assertThat(describe(IndirectPermissions.of(0, 0, 0, 0, 0).direct(0b00, false, true, false, false, 0, true)))
                .isEqualTo(describe(rights("RW-", "--X")));
    }

    @Test
    void architecturalInvariantsHoldForRandomRegisters() {
        // Properties the manual states outright, over random register values (fixed seed):
        // overlays and PAN only take rights away; PAN takes only EL1 read/write; nothing ends up
        // both writable at EL0 and executable at EL1.
        java.util.Random random = new java.util.Random(17);
        for (int i = 0; i < 2000; i++) {
            long pir = random.nextLong(), pire0 = random.nextLong(), por1 = random.nextLong(), por0 = random.nextLong();
            IndirectPermissions plain = IndirectPermissions.of(TCR2_PIE, pir, pire0, por1, por0);
            IndirectPermissions overlaid = IndirectPermissions.of(TCR2_PIE | TCR2_POE | TCR2_E0POE, pir, pire0, por1, por0);
            for (int pi = 0; pi < 16; pi++) {
                for (int po = 0; po < 16; po++) {
                    int base = plain.permissions(pi, po, false);
                    int withOverlay = overlaid.permissions(pi, po, false);
                    int withPan = plain.permissions(pi, po, true);
                    boolean wxnValue = ((pir >>> (4 * pi)) & 0xF) == 0b0110 || ((pire0 >>> (4 * pi)) & 0xF) == 0b0110;
                    // (0b0110 is the exception: an overlay may trade its lost execute for write.)
                    boolean ok = (wxnValue || (withOverlay & ~base) == 0)
                            && (withPan & ~base) == 0
                            && ((base & ~withPan) & ~(Tlb.R1 | Tlb.W1)) == 0;
                    for (int p : new int[] {base, withOverlay, withPan}) ok &= (p & Tlb.W0) == 0 || (p & Tlb.X1) == 0;
                    if (!ok) {
                        assertThat(describe(base) + " / overlaid " + describe(withOverlay) + " / PAN " + describe(withPan))
                                .as("PIR %x PIRE0 %x POR %x/%x pi %d po %d", pir, pire0, por1, por0, pi, po).isEmpty();
                    }
                }
            }
        }
    }

    @Test
    void publicHelpersReadTheLayout() {
        int perms = rights("RW-", "R-X");
        assertThat(IndirectPermissions.describe(perms)).isEqualTo("EL1 RW- EL0 R-X");
        assertThat(IndirectPermissions.allows(perms, Access.WRITE, 1)).isTrue();
        assertThat(IndirectPermissions.allows(perms, Access.EXECUTE, 1)).isFalse();
        assertThat(IndirectPermissions.allows(perms, Access.EXECUTE, 0)).isTrue();
        assertThat(IndirectPermissions.allows(perms, Access.WRITE, 0)).isFalse();
    }
}
