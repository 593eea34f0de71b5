package dev.granule.format;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Descriptor words built from the Arm ARM's VMSAv8-64 layouts (D8.3): each expected value is
 * assembled in the test from the manual's field positions, never from the format's constants.
 */
class Vmsa64FormatTest {

    // Field positions straight from the manual, spelled out once here.
    private static final long VALID = 1L << 0;
    private static final long TABLE_OR_PAGE = 1L << 1;
    private static long attrIndx(long v) { return v << 2; }
    private static final long NS = 1L << 5;
    private static long ap(long v) { return v << 6; }
    private static long sh(long v) { return v << 8; }
    private static final long AF = 1L << 10;
    private static final long NG = 1L << 11;
    private static final long GP = 1L << 50;
    private static final long DBM = 1L << 51;
    private static final long CONT = 1L << 52;
    private static final long PXN = 1L << 53;
    private static final long UXN = 1L << 54;
    private static final long PXN_TABLE = 1L << 59;
    private static final long UXN_TABLE = 1L << 60;
    private static long apTable(long v) { return v << 61; }
    private static final long NS_TABLE = 1L << 63;

    private static DescriptorFormat format(Granule g, int va, int pa) {
        return DescriptorFormat.of(Geometry.of(g, va, pa));
    }

    private static long leaf(DescriptorFormat f, long pa, int level, Attributes a, boolean cont) {
        Descriptor d = new Descriptor();
        f.encodeLeaf(d, pa, level, a, cont);
        assertThat(d.hi()).as("64-bit format keeps the high word zero").isZero();
        return d.lo();
    }

    @Test
    void fourKPageOfKernelData() {
        // Linux PAGE_KERNEL without DBM: AF | SH=Inner(0b11) | AttrIndx 0 | PXN | UXN, page type 0b11.
        long expected = 0x0000_0000_8000_1000L | VALID | TABLE_OR_PAGE | sh(0b11) | AF | PXN | UXN;
        assertThat(expected).isEqualTo(0x0060_0000_8000_1703L);
        assertThat(leaf(format(Granule.FOUR_K, 48, 48), 0x8000_1000L, 3, Attributes.kernelData(), false))
                .isEqualTo(expected);
    }

    @Test
    void everyLeafFieldLandsOnItsBit() {
        Attributes all = new Attributes(5, AccessPermission.READ_ONLY, Shareability.OUTER_SHAREABLE, true, true, true,
                true, true, true, true, 0b1010);
        long expected = 0x40_0000L | VALID /* block */ | attrIndx(5) | NS | ap(0b11) | sh(0b10) | AF | NG | GP | DBM
                | CONT | PXN | UXN | (0b1010L << 55);
        assertThat(leaf(format(Granule.FOUR_K, 48, 48), 0x40_0000L, 2, all, true)).isEqualTo(expected);
    }

    @Test
    void tableDescriptorAttributes() {
        DescriptorFormat f = format(Granule.SIXTEEN_K, 47, 48);
        Descriptor d = new Descriptor();
        f.encodeTable(d, 0x1_2345_C000L, new TableAttributes(0b10, true, true, true));
        assertThat(d.lo()).isEqualTo(0x1_2345_C000L | VALID | TABLE_OR_PAGE | apTable(0b10) | UXN_TABLE | PXN_TABLE
                | NS_TABLE);
        assertThat(f.tableAddress(d)).isEqualTo(0x1_2345_C000L);
        assertThat(f.tableAttributes(d)).isEqualTo(new TableAttributes(0b10, true, true, true));
    }

    @Test
    void sixtyFourKLpaPutsOutputAddressBits51To48InBits15To12() {
        // 64K granule, FEAT_LPA: OA[51:48] -> descriptor[15:12]; OA[47:16] stays in place.
        long pa = 0x000F_1234_5678_0000L;
        long expected = 0x0000_1234_5678_0000L | (0xFL << 12) | VALID | TABLE_OR_PAGE | sh(0b11) | AF | PXN | UXN;
        DescriptorFormat f = format(Granule.SIXTY_FOUR_K, 52, 52);
        long lo = leaf(f, pa, 3, Attributes.kernelData(), false);
        assertThat(lo).isEqualTo(expected);
        assertThat(f.outputAddress(Descriptor.of64(lo), 3)).isEqualTo(pa);
        // Table descriptors use the same split for the next-level table address.
        Descriptor t = new Descriptor();
        f.encodeTable(t, 0x000A_0000_0001_0000L, TableAttributes.NONE);
        assertThat(t.lo()).isEqualTo(0x0000_0000_0001_0000L | (0xAL << 12) | VALID | TABLE_OR_PAGE);
    }

    @Test
    void fourKLpa2PutsOutputAddressBits51To50InBits9To8AndDropsShareability() {
        // 4K granule, TCR.DS=1: OA[49:12] in place, OA[51:50] -> descriptor[9:8]; no SH field.
        long pa = 0x000C_0000_4000_0000L; // bits 51 and 50 set, and bit 30
        DescriptorFormat f = format(Granule.FOUR_K, 52, 52);
        long lo = leaf(f, pa, 1, Attributes.kernelData(), false);
        long expected = (1L << 30) | (0b11L << 8) | VALID /* block */ | AF | PXN | UXN;
        assertThat(lo).isEqualTo(expected);
        assertThat(f.outputAddress(Descriptor.of64(lo), 1)).isEqualTo(pa);
        // A level 0 block exists only with LPA2 (512 GiB).
        long l0 = leaf(f, 0x0003_8000_0000_0000L, 0, Attributes.kernelData(), false);
        assertThat(l0).isEqualTo((0x3L << 48) | (1L << 47) | VALID | AF | PXN | UXN);
    }

    @Test
    void sixteenKLpa2UsesBits49To48InPlace() {
        long pa = 0x0007_0000_0000_4000L; // OA[50:48] = 0b111: bit 50 -> desc[8], bits 49:48 in place
        DescriptorFormat f = format(Granule.SIXTEEN_K, 52, 52);
        long lo = leaf(f, pa, 3, Attributes.kernelData(), false);
        assertThat(lo).isEqualTo((0x3L << 48) | 0x4000L | (0b01L << 8) | VALID | TABLE_OR_PAGE | AF | PXN | UXN);
    }

    @Test
    void kindDependsOnLevelAndGranule() {
        DescriptorFormat f4 = format(Granule.FOUR_K, 48, 48);
        assertThat(f4.kind(Descriptor.of64(0b01), 1)).isEqualTo(DescriptorKind.BLOCK);
        assertThat(f4.kind(Descriptor.of64(0b01), 0)).as("no 512 GiB block without LPA2").isEqualTo(DescriptorKind.RESERVED);
        assertThat(f4.kind(Descriptor.of64(0b01), 3)).as("type 0b01 at level 3 is reserved").isEqualTo(DescriptorKind.RESERVED);
        assertThat(f4.kind(Descriptor.of64(0b11), 3)).isEqualTo(DescriptorKind.PAGE);
        assertThat(f4.kind(Descriptor.of64(0b11), 2)).isEqualTo(DescriptorKind.TABLE);
        assertThat(f4.kind(Descriptor.of64(0b10), 2)).isEqualTo(DescriptorKind.INVALID);
        DescriptorFormat f16 = format(Granule.SIXTEEN_K, 48, 48);
        assertThat(f16.kind(Descriptor.of64(0b01), 1)).as("no 64 GiB block without LPA2").isEqualTo(DescriptorKind.RESERVED);
        DescriptorFormat f64 = format(Granule.SIXTY_FOUR_K, 48, 48);
        assertThat(f64.kind(Descriptor.of64(0b01), 1)).as("4 TiB blocks need a 52-bit PA").isEqualTo(DescriptorKind.RESERVED);
        assertThat(format(Granule.SIXTY_FOUR_K, 52, 52).kind(Descriptor.of64(0b01), 1)).isEqualTo(DescriptorKind.BLOCK);
    }

    @Test
    void splittingKeepsBitsTheTypedModelDoesNotHave() {
        DescriptorFormat f = format(Granule.FOUR_K, 48, 48);
        long pbha = 0b1011L << 59;
        Descriptor block = Descriptor.of64(0x4000_0000L | VALID | AF | sh(3) | pbha | CONT);
        Descriptor page = new Descriptor();
        f.encodeLeafLike(page, block, 1, 0x4000_3000L, 3, false);
        assertThat(page.lo()).isEqualTo(0x4000_3000L | VALID | TABLE_OR_PAGE | AF | sh(3) | pbha);
        assertThat(f.sameLeafAttributes(block, page, 3)).isFalse(); // type bits differ
    }

    @Test
    void rejectsMisalignedAndTooWideAddresses() {
        DescriptorFormat f = format(Granule.FOUR_K, 48, 48);
        Descriptor d = new Descriptor();
        assertThatThrownBy(() -> f.encodeLeaf(d, 0x1000, 2, Attributes.kernelData(), false))
                .hasMessageContaining("not aligned to 0x200000");
        assertThatThrownBy(() -> f.encodeLeaf(d, 1L << 48, 3, Attributes.kernelData(), false))
                .hasMessageContaining("48-bit PA");
        assertThatThrownBy(() -> f.encodeLeaf(d, 0, 0, Attributes.kernelData(), false))
                .hasMessageContaining("no block descriptor is allowed at level 0");
    }

    @Test
    void decodesWhatItEncodes() {
        DescriptorFormat f = format(Granule.SIXTEEN_K, 48, 48);
        Attributes a = Attributes.userText().withSoftware(3).withDirtyBitModifier(true);
        Descriptor d = new Descriptor();
        f.encodeLeaf(d, 0x2_0000_0000L, 2, a, true);
        assertThat(f.attributes(d)).isEqualTo(a);
        assertThat(f.contiguous(d)).isTrue();
        assertThat(f.outputAddress(d, 2)).isEqualTo(0x2_0000_0000L);
    }
}
