package dev.granule.dump;

import dev.granule.geometry.Granule;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * VMCOREINFO as the kernel prints it. The sample follows the format strings of
 * kernel/vmcore_info.c (PAGESIZE=%ld, SYMBOL(%s)=%lx, NUMBER(%s)=%ld, OFFSET(%s.%s)=%lu ...) and
 * arch/arm64/kernel/vmcore_info.c (NUMBER(kimage_voffset)=0x%llx, NUMBER(PHYS_OFFSET)=0x%llx,
 * NUMBER(TCR_EL1_T1SZ)=0x%llx, KERNELOFFSET=%lx), with values of a 4K/48-bit KASLR kernel.
 */
class VmcoreInfoTest {

    static final String ARM64_4K_48 = """
            OSRELEASE=6.1.0-56-arm64
            BUILD-ID=0ed29847cba3cbd9114b826b3a1ad39dd624ffa0
            PAGESIZE=4096
            SYMBOL(init_uts_ns)=ffffa6b70291c030
            OFFSET(uts_namespace.name)=0
            SYMBOL(swapper_pg_dir)=ffffa6b702058000
            SYMBOL(_stext)=ffffa6b700a10000
            SIZE(page)=64
            NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129
            LENGTH(mem_section)=16384
            NUMBER(MAX_PHYSMEM_BITS)=48
            NUMBER(VA_BITS)=48
            NUMBER(MODULES_VADDR)=0xffff800000000000
            NUMBER(kimage_voffset)=0xffffa6b6c0800000
            NUMBER(PHYS_OFFSET)=0x40000000
            NUMBER(TCR_EL1_T1SZ)=0x10
            KERNELOFFSET=26b6f8a00000
            NUMBER(KERNELPACMASK)=0xffff000000000000
            """;

    @Test
    void readsEachKindOfEntryInTheKernelsOwnFormat() {
        VmcoreInfo v = VmcoreInfo.parse(ARM64_4K_48 + "\0\0\0garbage after the NUL padding");
        assertThat(v.osRelease()).contains("6.1.0-56-arm64");
        assertThat(v.pageSize()).hasValue(4096);
        assertThat(v.symbol("swapper_pg_dir")).hasValue(0xffffa6b702058000L);
        assertThat(v.number("PAGE_BUDDY_MAPCOUNT_VALUE")).hasValue(-129);
        assertThat(v.number("MODULES_VADDR")).hasValue(0xffff800000000000L);
        assertThat(v.kimageVoffset()).hasValue(0xffffa6b6c0800000L);
        assertThat(v.physOffset()).hasValue(0x40000000L);
        assertThat(v.tcrEl1T1sz()).hasValue(16);
        assertThat(v.vaBits()).hasValue(48);
        assertThat(v.kernelOffset()).hasValue(0x26b6f8a00000L);
        assertThat(v.size("page")).hasValue(64);
        assertThat(v.offset("uts_namespace.name")).hasValue(0);
        assertThat(v.length("mem_section")).hasValue(16384);
        assertThat(v.symbols()).containsOnlyKeys("init_uts_ns", "swapper_pg_dir", "_stext");
        assertThat(v.entries()).doesNotContainKey("garbage after the NUL padding");
        assertThat(v.warnings()).isEmpty();
        assertThat(v.symbol("missing")).isEmpty();
    }

    @Test
    void aRepeatedKeyKeepsItsLastValueAndStrayLinesBecomeWarnings() {
        VmcoreInfo v = VmcoreInfo.parse("PAGESIZE=4096\nnot an entry\nCRASHTIME=1\nCRASHTIME=2\r\n=x\n");
        assertThat(v.get("CRASHTIME")).contains("2");
        assertThat(v.warnings()).hasSize(2).first().asString().contains("line 2").contains("not an entry");
    }

    @Test
    void malformedValuesNameTheKeyAndTheText() {
        VmcoreInfo v = VmcoreInfo.parse("PAGESIZE=4k\nSYMBOL(swapper_pg_dir)=xyz\nNUMBER(VA_BITS)=0x\n"
                + "SYMBOL(big)=1ffffffffffffffff\nNUMBER(kimage_voffset)=zz\n");
        assertThatThrownBy(v::pageSize).isInstanceOf(VmcoreInfoException.class).hasMessageContaining("PAGESIZE=4k");
        assertThatThrownBy(() -> v.symbol("swapper_pg_dir")).hasMessageContaining("SYMBOL(swapper_pg_dir)=xyz").hasMessageContaining("hexadecimal");
        assertThatThrownBy(v::vaBits).hasMessageContaining("NUMBER(VA_BITS)=0x");
        assertThatThrownBy(() -> v.symbol("big")).hasMessageContaining("16 hexadecimal digits");
        assertThatThrownBy(v::kimageVoffset).hasMessageContaining("kimage_voffset");
        assertThat(v.symbols()).isEmpty();
    }

    @Test
    void moreThanAPageIsRefused() {
        assertThatThrownBy(() -> VmcoreInfo.parse("A=1\n".repeat(20_000))).isInstanceOf(VmcoreInfoException.class)
                .hasMessageContaining("at most 65536");
    }

    // ---- geometry ---------------------------------------------------------------------------

    @Test
    void a4kKernelWithA48BitVa() {
        KernelTables t = VmcoreInfoGeometry.detect(VmcoreInfo.parse(ARM64_4K_48));
        assertThat(t.geometry().granule()).isEqualTo(Granule.FOUR_K);
        assertThat(t.geometry().vaBits()).isEqualTo(48);
        assertThat(t.geometry().paBits()).isEqualTo(48);
        assertThat(t.geometry().levels()).isEqualTo(4);
        // 0xffffa6b702058000 - 0xffffa6b6c0800000 = 0x41858000
        assertThat(t.rootPa()).isEqualTo(0x4185_8000L);
        assertThat(t.evidence()).anyMatch(e -> e.contains("TCR_EL1_T1SZ"));
    }

    @Test
    void a16kKernelWithLpa2Runs52BitVaAndPa() {
        String text = ARM64_4K_48.replace("PAGESIZE=4096", "PAGESIZE=16384").replace("NUMBER(VA_BITS)=48", "NUMBER(VA_BITS)=52")
                .replace("NUMBER(TCR_EL1_T1SZ)=0x10", "NUMBER(TCR_EL1_T1SZ)=0xc").replace("MAX_PHYSMEM_BITS)=48", "MAX_PHYSMEM_BITS)=52");
        KernelTables t = VmcoreInfoGeometry.detect(VmcoreInfo.parse(text));
        assertThat(t.geometry().granule()).isEqualTo(Granule.SIXTEEN_K);
        assertThat(t.geometry().vaBits()).isEqualTo(52);
        assertThat(t.geometry().paBits()).isEqualTo(52);
        assertThat(t.geometry().lpa2()).isTrue();
        // 16K, 52 bits: ceil((52 - 14) / 11) = 4 levels, the top one resolving 52 - 47 = 5 bits.
        assertThat(t.geometry().levels()).isEqualTo(4);
        assertThat(t.geometry().ptrsPerPgd()).isEqualTo(32);
        assertThat(t.rootPa()).isEqualTo(0x4185_8000L);
    }

    @Test
    void the16kKernelOnACpuWithoutLpa2FoldsALevelAndKeepsTheRoot() {
        // CONFIG 52-bit, but T1SZ 17: a 47-bit walk of 3 levels, starting at swapper_pg_dir itself.
        String text = ARM64_4K_48.replace("PAGESIZE=4096", "PAGESIZE=16384").replace("NUMBER(VA_BITS)=48", "NUMBER(VA_BITS)=52")
                .replace("NUMBER(TCR_EL1_T1SZ)=0x10", "NUMBER(TCR_EL1_T1SZ)=0x11").replace("MAX_PHYSMEM_BITS)=48", "MAX_PHYSMEM_BITS)=52");
        KernelTables t = VmcoreInfoGeometry.detect(VmcoreInfo.parse(text));
        assertThat(t.geometry().vaBits()).isEqualTo(47);
        assertThat(t.geometry().paBits()).isEqualTo(48);
        assertThat(t.geometry().levels()).isEqualTo(3);
        assertThat(t.rootPa()).isEqualTo(0x4185_8000L);
    }

    @Test
    void a64kKernelBuiltFor52BitsOnA48BitCpuPointsTtbr1AtTheTopOfItsPgd() {
        // 64K, 52-bit PGD: 1024 entries at level 1; a 48-bit walk reads 64 of them, so TTBR1 is
        // swapper_pg_dir + (1024 - 64) * 8 = + 0x1e00 (the kernel's TTBR1_BADDR_4852_OFFSET).
        String text = ARM64_4K_48.replace("PAGESIZE=4096", "PAGESIZE=65536").replace("NUMBER(VA_BITS)=48", "NUMBER(VA_BITS)=52")
                .replace("MAX_PHYSMEM_BITS)=48", "MAX_PHYSMEM_BITS)=52");
        KernelTables t = VmcoreInfoGeometry.detect(VmcoreInfo.parse(text));
        assertThat(t.geometry().granule()).isEqualTo(Granule.SIXTY_FOUR_K);
        assertThat(t.geometry().vaBits()).isEqualTo(48);
        assertThat(t.geometry().paBits()).isEqualTo(52);
        assertThat(t.rootPa()).isEqualTo(0x4185_8000L + 0x1e00);
    }

    @Test
    void withoutT1szTheConfiguredVaSizeIsUsedAndSaidToBe() {
        String text = ARM64_4K_48.replace("NUMBER(TCR_EL1_T1SZ)=0x10\n", "").replace("NUMBER(VA_BITS)=48", "NUMBER(VA_BITS)=39");
        KernelTables t = VmcoreInfoGeometry.detect(VmcoreInfo.parse(text));
        assertThat(t.geometry().vaBits()).isEqualTo(39);
        assertThat(t.evidence()).anyMatch(e -> e.contains("configured size"));
    }

    @Test
    void missingOrImpossibleEntriesSayWhichOptionToGive() {
        assertThatThrownBy(() -> VmcoreInfoGeometry.detect(VmcoreInfo.parse(ARM64_4K_48.replace("PAGESIZE=4096\n", ""))))
                .isInstanceOf(VmcoreInfoException.class).hasMessageContaining("no PAGESIZE");
        assertThatThrownBy(() -> VmcoreInfoGeometry.detect(VmcoreInfo.parse(ARM64_4K_48.replace("PAGESIZE=4096", "PAGESIZE=8192"))))
                .hasMessageContaining("PAGESIZE=8192 is not an arm64 page size");
        assertThatThrownBy(() -> VmcoreInfoGeometry.detect(VmcoreInfo.parse(ARM64_4K_48.replace("TCR_EL1_T1SZ)=0x10", "TCR_EL1_T1SZ)=0x40"))))
                .hasMessageContaining("T1SZ 12..39");
        assertThatThrownBy(() -> VmcoreInfoGeometry.detect(VmcoreInfo.parse(ARM64_4K_48.replace("SYMBOL(swapper_pg_dir)=ffffa6b702058000\n", ""))))
                .hasMessageContaining("--root");
        assertThatThrownBy(() -> VmcoreInfoGeometry.detect(VmcoreInfo.parse(ARM64_4K_48.replace("NUMBER(kimage_voffset)=0xffffa6b6c0800000\n", ""))))
                .hasMessageContaining("kimage_voffset");
    }

    @Test
    void ttbrBaddrDecodingFollowsThe52BitForm() {
        var g48 = dev.granule.geometry.Geometry.FOUR_K_48;
        // ASID in [63:48] and CnP in bit 0 are not part of the address.
        assertThat(KernelTables.rootFromTtbr(g48, 0x00AB_0000_4185_8001L)).isEqualTo(0x4185_8000L);
        var g52 = dev.granule.geometry.Geometry.SIXTY_FOUR_K_52;
        // BADDR[51:48] = 0b1010 in TTBR[5:2] = 0x28
        assertThat(KernelTables.rootFromTtbr(g52, 0x0000_0000_4185_0028L)).isEqualTo(0xA_0000_4185_0000L);
    }
}
