package dev.granule.format;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Armv7 short-descriptor words assembled from the Arm ARM's layouts (B3.5.1, Figures B3-4 "first-
 * level descriptor formats" and B3-5 "second-level descriptor formats"; the same positions as
 * Linux's pgtable-2level-hwdef.h, PMD_SECT_* and PTE_EXT_*), under SCTLR.TRE=1 (TEX[0]:C:B is the
 * memory-attribute index, B3.8.3) and SCTLR.AFE=1 (AP[0] is the Access flag, B3.7.3).
 */
class ShortFormatTest {

    private static final Geometry SHORT = Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 32, 40);

    // First level.
    private static final long PAGE_TABLE = 0b01;
    private static final long SECTION = 0b10;
    private static final long PXN = 1;                          // section bit 0 (type 0b11)
    private static final long PXN_TABLE = 1L << 2;              // page table bit 2
    private static final long NS_TABLE = 1L << 3;
    private static long domain(long d) { return d << 5; }       // [8:5]
    private static final long B = 1L << 2;
    private static final long C = 1L << 3;
    private static final long XN_SECTION = 1L << 4;
    private static long apSection(long ap10) { return ap10 << 10; } // AP[1:0] at [11:10]
    private static long texSection(long tex) { return tex << 12; }
    private static final long APX_SECTION = 1L << 15;           // AP[2]
    private static final long S_SECTION = 1L << 16;
    private static final long NG_SECTION = 1L << 17;
    private static final long SUPER = 1L << 18;
    private static final long NS_SECTION = 1L << 19;

    // Second level.
    private static final long LARGE = 0b01;
    private static final long SMALL = 0b10;
    private static final long XN_SMALL = 1;                     // bit 0
    private static long apPage(long ap10) { return ap10 << 4; } // AP[1:0] at [5:4]
    private static long texSmall(long tex) { return tex << 6; }
    private static final long APX_PAGE = 1L << 9;
    private static final long S_PAGE = 1L << 10;
    private static final long NG_PAGE = 1L << 11;
    private static long texLarge(long tex) { return tex << 12; }
    private static final long XN_LARGE = 1L << 15;

    private static final DescriptorFormat F = DescriptorFormat.of(SHORT);

    private static long leaf(long pa, int level, Attributes a, boolean replicated) {
        Descriptor d = new Descriptor();
        F.encodeLeaf(d, pa, level, a, replicated);
        assertThat(d.hi()).isZero();
        assertThat(d.lo() >>> 32).as("a 32-bit descriptor").isZero();
        return d.lo();
    }

    @Test
    void sectionOfKernelData() {
        // kernelData: PL1 RW (AP[2:1]=00), AF -> AP[0]=1, Normal index 0 (TEX[0]=C=B=0), S=1, and
        // never executable (UXN and PXN): XN=1.
        long expected = 0x8010_0000L | SECTION | XN_SECTION | apSection(0b01) | S_SECTION;
        assertThat(expected).isEqualTo(0x8011_0412L);
        assertThat(leaf(0x8010_0000L, 2, Attributes.kernelData(), false)).isEqualTo(expected);
    }

    @Test
    void sectionFieldsIncludingDomainPxnAndNs() {
        // PL0 read-only, executable at PL0 only: XN=0, PXN=1 (type 0b11); index 6 = TEX[0]=1, C=1, B=0;
        // software 2 in TEX[2:1]; domain 9; not global; Non-secure.
        Attributes a = Attributes.userText().withAttrIndex(6).withSoftware(2).withDomain(9).withNonSecure(true);
        long expected = 0xFFF0_0000L | SECTION | PXN | C | domain(9) | apSection(0b11) | texSection(0b101)
                | APX_SECTION | S_SECTION | NG_SECTION | NS_SECTION;
        long lo = leaf(0xFFF0_0000L, 2, a, false);
        assertThat(lo).isEqualTo(expected);
        assertThat(F.attributes(Descriptor.of64(lo), 2)).isEqualTo(a);
        assertThat(F.kind(Descriptor.of64(lo), 2)).isEqualTo(DescriptorKind.BLOCK);
    }

    @Test
    void supersectionCarriesFortyBitsInItsExtendedBase() {
        // PA[39:36] in [8:5], PA[35:32] in [23:20], PA[31:24] in [31:24]; userData: PL0 RW, nG, XN.
        long pa = 0xAB_C500_0000L;
        long expected = 0xC500_0000L | (0xBL << 20) | (0xAL << 5) | SUPER | SECTION | XN_SECTION | apSection(0b11)
                | S_SECTION | NG_SECTION;
        // Every one of the 16 entries carries the same word: encoding the address of entry 5 gives it too.
        assertThat(leaf(pa, 2, Attributes.userData(), true)).isEqualTo(expected);
        assertThat(leaf(pa + 5 * (1L << 20), 2, Attributes.userData(), true)).isEqualTo(expected);
        Descriptor d = Descriptor.of64(expected);
        assertThat(F.outputAddress(d, 2)).isEqualTo(pa);
        assertThat(F.contiguous(d, 2)).isTrue();
        assertThat(F.translate(d, 2, 0x0123_4567L)).as("VA[23:0] below the 16 MiB base").isEqualTo(0xAB_C523_4567L);
        assertThat(F.attributes(d, 2)).isEqualTo(Attributes.userData());
    }

    @Test
    void smallAndLargePages() {
        // Small page, PL0 read-only and executable everywhere (no PXN in a page), software 3.
        Attributes text = Attributes.userText().withPrivilegedExecuteNever(false).withSoftware(3);
        assertThat(leaf(0x1234_5000L, 3, text, false)).isEqualTo(0x1234_5000L | SMALL | apPage(0b11) | texSmall(0b110)
                | APX_PAGE | S_PAGE | NG_PAGE);
        // Large page, index 7 (TEX[0]=C=B=1), kernel data (XN at bit 15): TEX moves to [14:12].
        Attributes data = Attributes.kernelData().withAttrIndex(7);
        long large = 0x1235_0000L | LARGE | B | C | apPage(0b01) | S_PAGE | texLarge(0b001) | XN_LARGE;
        assertThat(leaf(0x1235_0000L, 3, data, true)).isEqualTo(large);
        assertThat(leaf(0x1235_F000L, 3, data, true)).as("entry 15 of the large page").isEqualTo(large);
        assertThat(F.translate(Descriptor.of64(large), 3, 0x7777_ABCDL)).isEqualTo(0x1235_ABCDL);
        assertThat(F.attributes(Descriptor.of64(large), 3)).isEqualTo(data);
    }

    @Test
    void pageTableEntryHoldsPxnNsAndDomain() {
        Descriptor d = new Descriptor();
        F.encodeTable(d, 0x8000_0400L, new TableAttributes(0, false, true, true, 5));
        assertThat(d.lo()).isEqualTo(0x8000_0400L | PAGE_TABLE | PXN_TABLE | NS_TABLE | domain(5));
        assertThat(F.tableAddress(d)).isEqualTo(0x8000_0400L);
        assertThat(F.tableAttributes(d)).isEqualTo(new TableAttributes(0, false, true, true, 5));
        assertThatThrownBy(() -> F.encodeTable(d, 0x8000_0200L, TableAttributes.NONE)).hasMessageContaining("1 KiB");
        assertThatThrownBy(() -> F.encodeTable(d, 1L << 32, TableAttributes.NONE)).hasMessageContaining("32-bit");
    }

    @Test
    void kindsPerLevel() {
        assertThat(F.kind(Descriptor.of64(0b00), 2)).isEqualTo(DescriptorKind.INVALID);
        assertThat(F.kind(Descriptor.of64(0b01), 2)).isEqualTo(DescriptorKind.TABLE);
        assertThat(F.kind(Descriptor.of64(0b10), 2)).isEqualTo(DescriptorKind.BLOCK);
        assertThat(F.kind(Descriptor.of64(0b11), 2)).as("section with PXN").isEqualTo(DescriptorKind.BLOCK);
        assertThat(F.kind(Descriptor.of64(0b01), 3)).as("large page").isEqualTo(DescriptorKind.PAGE);
        assertThat(F.kind(Descriptor.of64(0b11), 3)).as("small page with XN").isEqualTo(DescriptorKind.PAGE);
        assertThat(F.kind(Descriptor.of64(0b00), 3)).isEqualTo(DescriptorKind.INVALID);
    }

    @Test
    void convertsBetweenSmallAndLargeAndBetweenSectionAndSupersection() {
        Descriptor d = new Descriptor();
        Attributes a = Attributes.kernelText().withAttrIndex(5);
        F.encodeLeaf(d, 0x4003_0000L, 3, a, false);
        F.setContiguous(d, true, 3);
        assertThat(d.lo()).isEqualTo(0x4003_0000L | LARGE | B | apPage(0b01) | APX_PAGE | S_PAGE | texLarge(1));
        F.setContiguous(d, false, 3);
        F.setOutputAddress(d, 0x4003_7000L, 3);
        assertThat(d.lo()).isEqualTo(0x4003_7000L | SMALL | B | apPage(0b01) | APX_PAGE | S_PAGE | texSmall(1));
        F.encodeLeaf(d, 0x4350_0000L, 2, Attributes.kernelData(), false);
        F.setContiguous(d, true, 2);
        assertThat(d.lo()).isEqualTo(0x4300_0000L | SUPER | SECTION | XN_SECTION | apSection(0b01) | S_SECTION);
        F.encodeLeaf(d, 0x1_0000_0000L, 2, Attributes.kernelData(), true);
        assertThatThrownBy(() -> F.setContiguous(d, false, 2)).isInstanceOf(DescriptorEncodingException.class)
                .hasMessageContaining("supersections reach");
    }

    @Test
    void refusesWhatShortDescriptorsCannotExpress() {
        Descriptor d = new Descriptor();
        assertThatThrownBy(() -> F.encodeLeaf(d, 0x1000, 3, Attributes.userText(), false))
                .isInstanceOf(DescriptorEncodingException.class).hasMessageContaining("no PXN");
        assertThatThrownBy(() -> F.encodeLeaf(d, 0x1000, 3, Attributes.kernelData().withDomain(1), false))
                .hasMessageContaining("domain");
        assertThatThrownBy(() -> F.encodeLeaf(d, 0x100_0000L, 2, Attributes.kernelData().withDomain(1), true))
                .hasMessageContaining("supersection has no domain");
        assertThatThrownBy(() -> F.encodeLeaf(d, 0x1000, 3, Attributes.userData().withUnprivilegedExecuteNever(true)
                .withPrivilegedExecuteNever(false), false)).hasMessageContaining("executable at PL1 but not at PL0");
        assertThatThrownBy(() -> F.encodeLeaf(d, 0x1000, 3, Attributes.kernelText().withUnprivilegedExecuteNever(false),
                false)).hasMessageContaining("cannot read");
        assertThatThrownBy(() -> F.encodeLeaf(d, 0x1000, 3, Attributes.kernelData().withSoftware(4), false))
                .hasMessageContaining("two software bits");
        assertThatThrownBy(() -> F.encodeLeaf(d, 0x1000, 3, Attributes.kernelData().withDirtyBitModifier(true), false))
                .hasMessageContaining("no DBM");
        assertThatThrownBy(() -> F.encodeLeaf(d, 0, 3, Attributes.device(), false))
                .hasMessageContaining("OSH cannot be encoded");
        assertThatThrownBy(() -> F.encodeLeaf(d, 0x1_0010_0000L, 2, Attributes.kernelData(), false))
                .hasMessageContaining("32-bit addresses");
        assertThatThrownBy(() -> F.attributes(d)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void geometryIsTheHardwaresTwoLevelsAndLinuxsDoubledPgd() {
        // Hardware (Arm ARM B3.5): a 16 KiB first-level table of 4096 entries (VA[31:20]), 1 KiB
        // second-level tables of 256 entries (VA[19:12]); TTBCR.N halves the first level per step.
        assertThat(SHORT.levels()).isEqualTo(2);
        assertThat(SHORT.startLevel()).isEqualTo(2);
        assertThat(SHORT.entries(2)).isEqualTo(4096);
        assertThat(SHORT.tableBytes(2)).isEqualTo(16384);
        assertThat(SHORT.entries(3)).isEqualTo(256);
        assertThat(SHORT.tableBytes(3)).isEqualTo(1024);
        assertThat(SHORT.fullTableBytes()).isEqualTo(1024);
        assertThat(SHORT.entrySpan(2)).isEqualTo(1L << 20);
        assertThat(SHORT.contiguousEntries(2)).as("a supersection is 16 sections").isEqualTo(16);
        assertThat(SHORT.contiguousEntries(3)).as("a large page is 16 small pages").isEqualTo(16);
        assertThat(SHORT.blockAllowed(2)).isTrue();
        assertThat(SHORT.architecturalLevelName(2)).isEqualTo("first level");
        assertThat(SHORT.architecturalLevel(3)).isEqualTo(2);
        Geometry n2 = Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 30, 32);
        assertThat(n2.txsz()).as("TTBCR.N").isEqualTo(2);
        assertThat(n2.tableBytes(2)).isEqualTo(4096);
        // Linux (arch/arm/include/asm/pgtable-2level.h): PGDIR_SHIFT 21, PTRS_PER_PGD 2048,
        // PTRS_PER_PTE 512, PTRS_PER_PMD 1, SECTION_SHIFT 20, SUPERSECTION_SHIFT 24.
        assertThat(SHORT.linuxDefines()).containsEntry("PGDIR_SHIFT", 21L).containsEntry("PTRS_PER_PGD", 2048L)
                .containsEntry("PTRS_PER_PTE", 512L).containsEntry("PTRS_PER_PMD", 1L)
                .containsEntry("SECTION_SHIFT", 20L).containsEntry("SUPERSECTION_SHIFT", 24L);
    }
}
