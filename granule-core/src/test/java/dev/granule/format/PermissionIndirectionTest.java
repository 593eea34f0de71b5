package dev.granule.format;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Permission indirection: the index a typed value occupies (AArch64.S1ApplyOutputPerms reads
 * UXN:PXN:DBM:AP[1] from a VMSAv8-64 descriptor with PIE=1; Linux's pte_pi_index() computes the same)
 * and Linux's PIR_EL1 / PIRE0_EL1, assembled here by hand from arch/arm64/include/asm/pgtable-prot.h
 * and the PIE_* encodings of asm/sysreg.h.
 */
class PermissionIndirectionTest {

    @Test
    void indicesOfLinuxsPageProtections() {
        // The kernel's comment table: c PAGE_KERNEL_RO (UXN|PXN), e PAGE_KERNEL (UXN|PXN|WRITE),
        // 8 PAGE_KERNEL_ROX (UXN), d PAGE_READONLY (UXN|PXN|USER), 5 PAGE_READONLY_EXEC (PXN|USER).
        assertThat(Attributes.kernelReadOnly().permissionIndex()).isEqualTo(0xc);
        assertThat(Attributes.kernelData().withDirtyBitModifier(true).permissionIndex()).isEqualTo(0xe);
        assertThat(Attributes.kernelText().permissionIndex()).isEqualTo(0x8);
        assertThat(Attributes.userData().withPermission(AccessPermission.READ_ONLY).permissionIndex()).isEqualTo(0xd);
        assertThat(Attributes.userText().permissionIndex()).isEqualTo(0x5);
    }

    @Test
    void linuxRegisterValues() {
        // PIR_EL1 nibbles (index: value): 5:R(8) 7:RW(c) 8:RX(a) a:RWX(e) c:R(8) d:R(8) e:RW(c) f:RW(c),
        // 4, 9, b: NONE_O(0) -> 0xcc88_0e0a_c080_0000.
        assertThat(PermissionIndirection.LINUX.pir()).isEqualTo(0xcc88_0e0a_c080_0000L);
        // PIRE0_EL1: 4:X_O(2) 5:RX_O(3) 7:RWX_O(7) 9:R(8) b:GCS(9) d:R_O(1) f:RW_O(5) -> 0x5010_9080_7032_0000.
        assertThat(PermissionIndirection.LINUX.pire0()).isEqualTo(0x5010_9080_7032_0000L);
        assertThat(PermissionIndirection.LINUX.privileged(0xe)).isEqualTo(0xc);
        assertThat(PermissionIndirection.LINUX.unprivileged(0xb)).isEqualTo(0x9);
    }

    @Test
    void accessOfEachValue() {
        // AArch64.S1IndirectBasePermissions: 0b1xxx without overlay, 0b0xxx with; 0b0110 is RWX with WXN.
        assertThat(PermissionIndirection.Access.of(0xc))
                .isEqualTo(new PermissionIndirection.Access(true, true, false, false, false, false));
        assertThat(PermissionIndirection.Access.of(0x9))
                .isEqualTo(new PermissionIndirection.Access(true, false, false, true, false, false));
        assertThat(PermissionIndirection.Access.of(0x6))
                .isEqualTo(new PermissionIndirection.Access(true, true, true, false, true, true));
        assertThat(PermissionIndirection.Access.of(0x2))
                .isEqualTo(new PermissionIndirection.Access(false, false, true, false, true, false));
        assertThat(PermissionIndirection.Access.of(0xf))
                .isEqualTo(new PermissionIndirection.Access(false, false, false, false, false, false));
        assertThat(PermissionIndirection.Access.of(0x4))
                .isEqualTo(new PermissionIndirection.Access(false, false, false, false, true, false));
    }
}
