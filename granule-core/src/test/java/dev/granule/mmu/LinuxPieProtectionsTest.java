package dev.granule.mmu;

import dev.granule.format.PermissionIndirection;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.IndirectPermissionsTest.describe;
import static dev.granule.mmu.IndirectPermissionsTest.field;
import static dev.granule.mmu.IndirectPermissionsTest.rights;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Linux's page protections under its own PIR_EL1 / PIRE0_EL1 (PIE_E1 / PIE_E0, whose values
 * {@code PermissionIndirectionTest} pins to a hand assembly of arch/arm64/include/asm/pgtable-prot.h).
 * Each protection's descriptor is built here from the kernel's #defines (PTE_USER = AP[1] bit 6,
 * PTE_RDONLY = AP[2] bit 7, PTE_WRITE = DBM bit 51, PTE_PXN bit 53, PTE_UXN bit 54), and the
 * rights expected are what the names and the index table comment of pgtable-prot.h say Linux means.
 */
class LinuxPieProtectionsTest {

    static final long PTE_USER = 1L << 6, PTE_RDONLY = 1L << 7, PTE_WRITE = 1L << 51, PTE_PXN = 1L << 53,
            PTE_UXN = 1L << 54, PTE_NG = 1L << 11;
    // _PAGE_DEFAULT: PTE_TYPE_PAGE | PTE_AF | PTE_SHARED | PTE_ATTRINDX(MT_NORMAL = 0).
    static final long PAGE_DEFAULT = 0b11 | 1L << 10 | 0b11L << 8;
    static final long PROT_NORMAL = PAGE_DEFAULT | PTE_PXN | PTE_UXN | PTE_WRITE;

    static final long PAGE_KERNEL = PROT_NORMAL;
    static final long PAGE_KERNEL_RO = (PROT_NORMAL & ~PTE_WRITE) | PTE_RDONLY;
    static final long PAGE_KERNEL_ROX = (PROT_NORMAL & ~(PTE_WRITE | PTE_PXN)) | PTE_RDONLY;
    static final long PAGE_KERNEL_EXEC = PROT_NORMAL & ~PTE_PXN;
    static final long PAGE_SHARED = PAGE_DEFAULT | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN | PTE_WRITE;
    static final long PAGE_SHARED_EXEC = PAGE_DEFAULT | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_WRITE;
    static final long PAGE_READONLY = PAGE_DEFAULT | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN;
    static final long PAGE_READONLY_EXEC = PAGE_DEFAULT | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN;
    static final long PAGE_EXECONLY = PAGE_DEFAULT | PTE_RDONLY | PTE_NG | PTE_PXN;
    static final long PAGE_GCS = PAGE_DEFAULT | PTE_NG | PTE_UXN | PTE_WRITE | PTE_USER;
    static final long PAGE_GCS_RO = PAGE_DEFAULT | PTE_NG | PTE_UXN | PTE_USER;

    final PermissionIndirection linux = PermissionIndirection.LINUX;
    final IndirectPermissions pie = IndirectPermissions.of(IndirectPermissions.TCR2_PIE, linux.pir(), linux.pire0(), 0, 0);

    void expect(String name, long pte, int index, String el1, String el0, String el1WithPan) {
        assertThat(IndirectPermissions.piIndex64(pte)).as("%s: pte_pi_index", name).isEqualTo(index);
        assertThat(describe(pie.ofVmsa64(pte, false))).as(name).isEqualTo(describe(rights(el1, el0)));
        assertThat(describe(pie.ofVmsa64(pte, true))).as(name + " with PAN").isEqualTo(describe(rights(el1WithPan, el0)));
    }

    @Test
    void kernelMappingsAreKernelOnly() {
        expect("PAGE_KERNEL", PAGE_KERNEL, 0xe, "RW-", "---", "RW-");
        expect("PAGE_KERNEL_RO", PAGE_KERNEL_RO, 0xc, "R--", "---", "R--");
        expect("PAGE_KERNEL_ROX", PAGE_KERNEL_ROX, 0x8, "R-X", "---", "R-X");
        expect("PAGE_KERNEL_EXEC", PAGE_KERNEL_EXEC, 0xa, "RWX", "---", "RWX");
    }

    @Test
    void userMappingsAreUserRightsAndPanProtected() {
        // The kernel reaches user memory without PAN (uaccess with PAN toggled) for data, never to execute.
        expect("PAGE_SHARED", PAGE_SHARED, 0xf, "RW-", "RW-", "---");
        expect("PAGE_SHARED_EXEC", PAGE_SHARED_EXEC, 0x7, "RW-", "RWX", "---");
        expect("PAGE_READONLY", PAGE_READONLY, 0xd, "R--", "R--", "---");
        expect("PAGE_READONLY_EXEC", PAGE_READONLY_EXEC, 0x5, "R--", "R-X", "---");
        // Execute-only: the kernel has no access at all (PIE_NONE_O), EL0 may only fetch.
        expect("PAGE_EXECONLY", PAGE_EXECONLY, 0x4, "---", "--X", "---");
        // Shadow stacks: ordinary loads read them, stores do not; the kernel has no access.
        expect("PAGE_GCS", PAGE_GCS, 0xb, "---", "R--", "---");
        expect("PAGE_GCS_RO", PAGE_GCS_RO, 0x9, "---", "R--", "---");
    }

    @Test
    void cleanSharedPagesNeedTheHardwareDirtyUpdateToBeWritten() {
        // PAGE_SHARED is "clean by default, hence PTE_RDONLY|PTE_WRITE": PTE_RDONLY is nDirty under PIE.
        int perms = pie.ofVmsa64(PAGE_SHARED, false);
        assertThat(describe(IndirectPermissions.withDirtyState(perms, PAGE_SHARED, false)))
                .isEqualTo(describe(rights("R--", "R--")));
        assertThat(describe(IndirectPermissions.withDirtyState(perms, PAGE_SHARED, true)))
                .isEqualTo(describe(rights("RW-", "RW-")));
        assertThat(describe(IndirectPermissions.withDirtyState(perms, PAGE_SHARED & ~PTE_RDONLY, false)))
                .as("pte_mkdirty clears PTE_RDONLY").isEqualTo(describe(rights("RW-", "RW-")));
    }

    @Test
    void protectionKeysOverlayUserMappings() {
        // Linux's user values are the _O (overlay) forms: with E0POE, POR_EL0 holds one field per pkey.
        // pkey 1 write-disabled (POR R, 0b0001), pkey 2 access-disabled (0), pkey 0 all (0b0111).
        long porEl0 = field(0, 0b0111) | field(1, 0b0001) | field(2, 0b0000);
        IndirectPermissions keys = IndirectPermissions.of(IndirectPermissions.TCR2_PIE | IndirectPermissions.TCR2_E0POE,
                linux.pir(), linux.pire0(), 0, porEl0);
        assertThat(describe(keys.ofVmsa64(PAGE_SHARED, false))).isEqualTo(describe(rights("RW-", "RW-")));
        assertThat(describe(keys.ofVmsa64(PAGE_SHARED | 1L << 60, false))).isEqualTo(describe(rights("RW-", "R--")));
        assertThat(describe(keys.ofVmsa64(PAGE_SHARED_EXEC | 2L << 60, false))).isEqualTo(describe(rights("RW-", "---")));
        // The kernel's own rights are not overlaid by POR_EL0, and its mappings' PIE_E1 values do not allow one.
        assertThat(describe(keys.ofVmsa64(PAGE_KERNEL | 2L << 60, false))).isEqualTo(describe(rights("RW-", "---")));
        // GCS (0b1001, no overlay) ignores the pkey.
        assertThat(describe(keys.ofVmsa64(PAGE_GCS | 2L << 60, false))).isEqualTo(describe(rights("---", "R--")));
    }
}
