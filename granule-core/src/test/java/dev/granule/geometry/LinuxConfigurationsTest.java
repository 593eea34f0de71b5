package dev.granule.geometry;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The real Linux arm64 configurations. Every expected value below was computed by hand from the
 * kernel's definitions in arch/arm64/include/asm/pgtable-hwdef.h and the asm-generic folding
 * headers, not from granule's output:
 * <pre>
 *   ARM64_HW_PGTABLE_LEVELS(va)     = (va - 4) / (PAGE_SHIFT - 3)
 *   ARM64_HW_PGTABLE_LEVEL_SHIFT(n) = (PAGE_SHIFT - 3) * (4 - n) + 3
 *   PGDIR_SHIFT  = LEVEL_SHIFT(4 - CONFIG_PGTABLE_LEVELS),  PTRS_PER_PGD = 1 << (VA_BITS - PGDIR_SHIFT)
 *   PUD_SHIFT    = LEVEL_SHIFT(1) if levels > 3, else PGDIR_SHIFT (pgtable-nopud.h), PTRS_PER_PUD 1
 *   PMD_SHIFT    = LEVEL_SHIFT(2) if levels > 2, else PGDIR_SHIFT (pgtable-nopmd.h), PTRS_PER_PMD 1
 *   CONT_PTE_SHIFT = 4 / 7 / 5 + PAGE_SHIFT  and  CONT_PMD_SHIFT = 4 / 5 / 5 + PMD_SHIFT  for 4K / 16K / 64K
 * </pre>
 * The start level is the Arm ARM's level numbering: 4 - levels (level -1 for 4K with LPA2).
 */
class LinuxConfigurationsTest {

    @ParameterizedTest(name = "{0}K pages, {1}-bit VA")
    @CsvSource({
            // page KiB, VA, PA, levels, start, PGDIR_SHIFT, PTRS_PER_PGD, PUD_SHIFT, PTRS_PER_PUD, PMD_SHIFT, PTRS_PER_PMD, PTRS_PER_PTE
            " 4, 39, 48, 3,  1, 30,   512, 30,    1, 21,  512,  512",
            " 4, 48, 48, 4,  0, 39,   512, 30,  512, 21,  512,  512",
            " 4, 52, 52, 5, -1, 48,    16, 30,  512, 21,  512,  512",
            "16, 36, 48, 2,  2, 25,  2048, 25,    1, 25,    1, 2048",
            "16, 47, 48, 3,  1, 36,  2048, 36,    1, 25, 2048, 2048",
            "16, 48, 48, 4,  0, 47,     2, 36, 2048, 25, 2048, 2048",
            "16, 52, 52, 4,  0, 47,    32, 36, 2048, 25, 2048, 2048",
            "64, 42, 48, 2,  2, 29,  8192, 29,    1, 29,    1, 8192",
            "64, 48, 48, 3,  1, 42,    64, 42,    1, 29, 8192, 8192",
            "64, 52, 52, 3,  1, 42,  1024, 42,    1, 29, 8192, 8192",
    })
    void matchesTheKernelsDefinitions(int pageKiB, int va, int pa, int levels, int start, int pgdirShift, int ptrsPerPgd,
                                      int pudShift, int ptrsPerPud, int pmdShift, int ptrsPerPmd, int ptrsPerPte) {
        Geometry g = Geometry.of(Granule.ofPageSize(pageKiB * 1024L), va, pa);
        assertEquals(levels, g.pgtableLevels(), "CONFIG_PGTABLE_LEVELS");
        assertEquals(start, g.startLevel(), "start level");
        assertEquals(pgdirShift, g.pgdirShift(), "PGDIR_SHIFT");
        assertEquals(ptrsPerPgd, g.ptrsPerPgd(), "PTRS_PER_PGD");
        assertEquals(pudShift, g.pudShift(), "PUD_SHIFT");
        assertEquals(ptrsPerPud, g.ptrsPerPud(), "PTRS_PER_PUD");
        assertEquals(pmdShift, g.pmdShift(), "PMD_SHIFT");
        assertEquals(ptrsPerPmd, g.ptrsPerPmd(), "PTRS_PER_PMD");
        assertEquals(ptrsPerPte, g.ptrsPerPte(), "PTRS_PER_PTE");
        assertEquals(pageKiB * 1024L, g.pageSize(), "PAGE_SIZE");
        assertEquals(-(pageKiB * 1024L), g.pageMask(), "PAGE_MASK");
        assertEquals(va == 52 && pageKiB != 64, g.lpa2(), "FEAT_LPA2 (TCR.DS)");
        assertEquals(8, g.descriptorBytes());
    }

    @ParameterizedTest(name = "{0}K pages")
    @CsvSource({
            // page KiB, VA, CONT_PTES, CONT_PTE_SIZE, CONT_PMDS, CONT_PMD_SIZE
            " 4, 48,  16,    65536, 16,    33554432",
            "16, 47, 128,  2097152, 32,  1073741824",
            "64, 48,  32,  2097152, 32, 17179869184",
    })
    void contiguousRangesMatchTheKernel(int pageKiB, int va, int contPtes, long contPteSize, int contPmds, long contPmdSize) {
        Geometry g = Geometry.of(Granule.ofPageSize(pageKiB * 1024L), va, 48);
        assertEquals(contPtes, g.contPtes(), "CONT_PTES");
        assertEquals(contPteSize, g.contPteSize(), "CONT_PTE_SIZE");
        assertEquals(contPmds, g.contPmds(), "CONT_PMDS");
        assertEquals(contPmdSize, g.contPmdSize(), "CONT_PMD_SIZE");
    }

    /**
     * Block sizes per level from the Arm ARM (VMSAv8-64 translation, "Block descriptor" rules and
     * AArch64.BlockDescSupported): 4K: 1G at L1, 2M at L2, 512G at L0 only with DS=1; 16K: 32M at L2,
     * 64G at L1 only with DS=1; 64K: 512M at L2, 4T at L1 only with 52-bit PA (FEAT_LPA).
     */
    @ParameterizedTest(name = "{0}K pages, {1}-bit VA, {2}-bit PA")
    @CsvSource({
            " 4, 48, 48, '1073741824 2097152 4096'",
            " 4, 52, 52, '549755813888 1073741824 2097152 4096'",
            " 4, 39, 48, '1073741824 2097152 4096'",
            "16, 48, 48, '33554432 16384'",
            "16, 52, 52, '68719476736 33554432 16384'",
            "64, 48, 48, '536870912 65536'",
            "64, 52, 52, '4398046511104 536870912 65536'",
            "64, 42, 48, '536870912 65536'",
    })
    void leafSizesFollowTheArchitecture(int pageKiB, int va, int pa, String sizes) {
        Geometry g = Geometry.of(Granule.ofPageSize(pageKiB * 1024L), va, pa);
        long[] expected = java.util.Arrays.stream(sizes.split(" ")).mapToLong(Long::parseLong).toArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, g.leafSizes());
    }

    /** TCR_EL1 encodings from the Arm ARM register description: TG0 and TG1 differ by design. */
    @ParameterizedTest
    @CsvSource({"4, 0, 2", "16, 2, 1", "64, 1, 3"})
    void tcrGranuleEncodings(int pageKiB, int tg0, int tg1) {
        Geometry g = Geometry.of(Granule.ofPageSize(pageKiB * 1024L), 48, 48);
        assertEquals(tg0, g.tg0());
        assertEquals(tg1, g.tg1());
        assertEquals(16, g.txsz());
        assertEquals(0b101, g.ips());
    }
}
