package dev.granule.mmu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stage 2 permission indirection and overlays against the Arm ARM's tables, by hand
 * (AArch64.S2IndirectBasePermissions, AArch64.S2OverlayPermissions, AArch64.S2CheckPermissions'
 * dirty-state check). Rights are written "R W p u m": read, write, privileged execute,
 * unprivileged execute, and write by the stage 1 walk's hardware updates.
 */
class Stage2IndirectPermissionsTest {

    static final String[] TABLE = {
            "-----", // 0000 no access
            "-----", // 0001 reserved
            "R---m", // 0010 MRO: read, the walk may write
            "R---m", // 0011 MRO-TL1
            "-W---", // 0100 write only
            "-----", // 0101 reserved
            "R---m", // 0110 MRO-TL0
            "R---m", // 0111 MRO-TL01
            "R----", // 1000 read only
            "R--u-", // 1001 read, unprivileged execute
            "R-p--", // 1010 read, privileged execute
            "R-pu-", // 1011 read, execute at both
            "RW--m", // 1100 read, write
            "RW-um", // 1101
            "RWp-m", // 1110
            "RWpum", // 1111
    };

    static String describe(Stage2IndirectPermissions p, int pi, int po) {
        int perms = p.permissions(pi, po);
        assertThat((perms & Tlb.R0) != 0).as("R is one right for both levels").isEqualTo((perms & Tlb.R1) != 0);
        assertThat((perms & Tlb.W0) != 0).as("W is one right for both levels").isEqualTo((perms & Tlb.W1) != 0);
        assertThat(p.walkReadable(pi, po)).isEqualTo((perms & Tlb.R1) != 0);
        return ((perms & Tlb.R1) != 0 ? "R" : "-") + ((perms & Tlb.W1) != 0 ? "W" : "-")
                + ((perms & Tlb.X1) != 0 ? "p" : "-") + ((perms & Tlb.X0) != 0 ? "u" : "-")
                + (p.walkWritable(pi, po) ? "m" : "-");
    }

    static String intersect(String a, String b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < a.length(); i++) s.append(a.charAt(i) == b.charAt(i) ? a.charAt(i) : '-');
        return s.toString();
    }

    @Test
    void everyS2pirEncoding() {
        for (int v = 0; v < 16; v++) {
            Stage2IndirectPermissions p = Stage2IndirectPermissions.of((long) v << 44, 0, false);
            assertThat(describe(p, 11, 0)).as("S2PIR value %x", v).isEqualTo(TABLE[v]);
            assertThat(describe(p, 10, 0)).isEqualTo("-----");
        }
    }

    @Test
    void overlaysIntersectWithEveryS2porValue() {
        for (int base = 0; base < 16; base++) {
            for (int v = 0; v < 16; v++) {
                Stage2IndirectPermissions p = Stage2IndirectPermissions.of((long) base << 8, (long) v << 52, true);
                assertThat(describe(p, 2, 13)).as("S2PIR %x S2POR %x", base, v).isEqualTo(intersect(TABLE[base], TABLE[v]));
                assertThat(describe(p, 2, 12)).as("S2POR field 12 is 0").isEqualTo("-----");
            }
            Stage2IndirectPermissions off = Stage2IndirectPermissions.of((long) base << 8, 0, false);
            assertThat(describe(off, 2, 12)).as("S2POE off").isEqualTo(TABLE[base]);
        }
    }

    @Test
    void indicesAndDirtyState() {
        assertThat(Stage2IndirectPermissions.poIndex64(0b1011L << 59)).isEqualTo(0b1011);
        assertThat(Stage2IndirectPermissions.piIndex64(1L << 54 | 1L << 6)).isEqualTo(0b1001);
        int rw = Tlb.R0 | Tlb.R1 | Tlb.W0 | Tlb.W1;
        // Stage 2's bit 7 is Dirty (1 = written), the opposite sense of stage 1's nDirty.
        assertThat(Stage2IndirectPermissions.withDirtyState(rw, 0, false)).isEqualTo(Tlb.R0 | Tlb.R1);
        assertThat(Stage2IndirectPermissions.withDirtyState(rw, 1L << 7, false)).isEqualTo(rw);
        assertThat(Stage2IndirectPermissions.withDirtyState(rw, 0, true)).isEqualTo(rw);
    }
}
