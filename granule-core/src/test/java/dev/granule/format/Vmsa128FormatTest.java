package dev.granule.format;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * VMSAv9-128 descriptor words assembled in the test from the Arm ARM's field positions (D8.3.2,
 * Table D8-56 "Stage 1 VMSAv9-128 Table descriptor fields" and Table D8-58 "Stage 1 VMSAv9-128
 * Block and Page descriptor fields"), and the descriptor types of Table D8-49 / the pseudocode
 * AArch64.DecodeDescriptorType. Never from the format's own constants.
 */
class Vmsa128FormatTest {

    // Bits of the low word, descriptor[63:0].
    private static final long VALID = 1L;                  // [0]
    private static long attrIndx(long v) { return v << 2; } // [5:2]
    private static final long NT = 1L << 6;                // [6] (SKL != 0)
    private static final long NDIRTY = 1L << 7;            // [7]
    private static long sh(long v) { return v << 8; }      // [9:8]
    private static final long AF = 1L << 10;               // [10]
    private static final long NG = 1L << 11;               // [11]

    // Bits of the high word: descriptor bit n is bit n - 64 of hi().
    private static long hiField(int lsb, long v) { return v << (lsb - 64); }
    private static long software(long v) { return hiField(91, v); }   // [100:91]
    private static long skl(long v) { return hiField(109, v); }       // [110:109]
    private static final long CONT = hiField(111, 1);                 // [111]
    private static final long GP = hiField(113, 1);                   // [113]
    private static final long PROTECTED = hiField(114, 1);            // [114]
    private static long piIndex(long v) { return hiField(115, v); }   // [118:115]
    private static long poIndex(long v) { return hiField(121, v); }   // [124:121]
    private static final long NS = hiField(127, 1);                   // [127]

    private static DescriptorFormat format(Granule g, int va, int pa) {
        return DescriptorFormat.of(Geometry.of(g, TranslationFormat.D128, va, pa));
    }

    @Test
    void fourKPageOfKernelData() {
        // Attributes.kernelData(): AttrIndx 0, AP[2:1]=00, SH=0b11, AF, PXN, UXN. With permission
        // indirection PIIndex = UXN:PXN:DBM:AP[1] = 0b1100 and nDirty = AP[2] = 0; a page has SKL 0.
        Descriptor d = new Descriptor();
        format(Granule.FOUR_K, 48, 48).encodeLeaf(d, 0x8000_1000L, 3, Attributes.kernelData(), false);
        assertThat(d.lo()).isEqualTo(0x8000_1000L | VALID | sh(0b11) | AF);
        assertThat(d.hi()).isEqualTo(piIndex(0b1100));
        assertThat(d.hi()).isEqualTo(0x0060_0000_0000_0000L);
    }

    @Test
    void everyLeafFieldLandsOnItsBit() {
        // A 1 MiB level 2 block (4K granule: 1 << (12 + 8)) with a 56-bit output address.
        Attributes all = new Attributes(5, AccessPermission.READ_ONLY, Shareability.OUTER_SHAREABLE, true, true, true,
                true, true, true, true, 0b1010);
        long pa = 0x00F0_0000_0010_0000L;
        Descriptor d = new Descriptor();
        format(Granule.FOUR_K, 48, 56).encodeLeaf(d, pa, 2, all, true);
        // AP[2:1]=0b11: nDirty = AP[2] = 1, PIIndex = UXN:PXN:DBM:AP[1] = 0b1111.
        assertThat(d.lo()).isEqualTo(pa | VALID | attrIndx(5) | NDIRTY | sh(0b10) | AF | NG);
        assertThat(d.hi()).isEqualTo(software(0b1010) | skl(1) | CONT | GP | piIndex(0b1111) | NS);
    }

    @Test
    void decodesWhatItEncodes() {
        DescriptorFormat f = format(Granule.SIXTEEN_K, 48, 52);
        Attributes a = Attributes.userText().withSoftware(3).withDirtyBitModifier(true).withNonSecure(true);
        Descriptor d = new Descriptor();
        f.encodeLeaf(d, 0x000F_0000_0400_0000L, 2, a, true); // 16 MiB block of the 16K granule
        assertThat(f.attributes(d)).isEqualTo(a);
        assertThat(f.contiguous(d, 2)).isTrue();
        assertThat(f.outputAddress(d, 2)).isEqualTo(0x000F_0000_0400_0000L);
        assertThat(f.kind(d, 2)).isEqualTo(DescriptorKind.BLOCK);
    }

    @Test
    void tableDescriptorsHoldAFiftySixBitAddressAndOnlyNsTable() {
        DescriptorFormat f = format(Granule.FOUR_K, 48, 56);
        Descriptor d = new Descriptor();
        f.encodeTable(d, 0x00FF_0000_0000_1000L, new TableAttributes(0, false, false, true));
        assertThat(d.lo()).isEqualTo(0x00FF_0000_0000_1000L | VALID);
        assertThat(d.hi()).isEqualTo(NS);
        assertThat(f.tableAddress(d)).isEqualTo(0x00FF_0000_0000_1000L);
        assertThat(f.tableAttributes(d)).isEqualTo(new TableAttributes(0, false, false, true));
        // Table D8-56: bits [126:123] are RES0 or IGNORED, there is no APTable/UXNTable/PXNTable.
        assertThatThrownBy(() -> f.encodeTable(d, 0x1000, new TableAttributes(0b10, false, false, false)))
                .isInstanceOf(DescriptorEncodingException.class).hasMessageContaining("permission indirection");
    }

    @Test
    void descriptorTypeIsLevelPlusSkipLevel() {
        // Table D8-49: level + SKL < 3 is a table, == 3 a block or page, > 3 invalid; SKL 3 is
        // invalid for the 16K and 64K granules. Bit 1 plays no part.
        DescriptorFormat f4 = format(Granule.FOUR_K, 56, 56);
        assertThat(f4.kind(new Descriptor(VALID, skl(0)), -2)).isEqualTo(DescriptorKind.TABLE);
        assertThat(f4.kind(new Descriptor(VALID, skl(3)), -1)).isEqualTo(DescriptorKind.TABLE);
        assertThat(f4.kind(new Descriptor(VALID, skl(3)), 0)).as("64 GiB block").isEqualTo(DescriptorKind.BLOCK);
        assertThat(f4.kind(new Descriptor(VALID, skl(1)), 1)).as("table skipping level 2").isEqualTo(DescriptorKind.TABLE);
        assertThat(f4.kind(new Descriptor(VALID, skl(2)), 1)).as("256 MiB block").isEqualTo(DescriptorKind.BLOCK);
        assertThat(f4.kind(new Descriptor(VALID | 2, skl(0)), 2)).isEqualTo(DescriptorKind.TABLE);
        assertThat(f4.kind(new Descriptor(VALID, skl(1)), 2)).as("1 MiB block").isEqualTo(DescriptorKind.BLOCK);
        assertThat(f4.kind(new Descriptor(VALID, skl(2)), 2)).isEqualTo(DescriptorKind.RESERVED);
        assertThat(f4.kind(new Descriptor(VALID, skl(0)), 3)).isEqualTo(DescriptorKind.PAGE);
        assertThat(f4.kind(new Descriptor(VALID, skl(1)), 3)).isEqualTo(DescriptorKind.RESERVED);
        assertThat(f4.kind(new Descriptor(2, skl(1)), 2)).isEqualTo(DescriptorKind.INVALID);
        assertThat(f4.skippedLevels(new Descriptor(VALID, skl(1)), 1)).isEqualTo(1);
        DescriptorFormat f16 = format(Granule.SIXTEEN_K, 56, 56);
        assertThat(f16.kind(new Descriptor(VALID, skl(3)), 0)).isEqualTo(DescriptorKind.RESERVED);
        assertThat(f16.kind(new Descriptor(VALID, skl(2)), 1)).as("16 GiB block").isEqualTo(DescriptorKind.BLOCK);
        DescriptorFormat f64 = format(Granule.SIXTY_FOUR_K, 56, 56);
        assertThat(f64.kind(new Descriptor(VALID, skl(3)), 0)).isEqualTo(DescriptorKind.RESERVED);
        assertThat(f64.kind(new Descriptor(VALID, skl(2)), 1)).as("1 TiB block").isEqualTo(DescriptorKind.BLOCK);
        assertThat(f64.kind(new Descriptor(VALID, skl(2)), 0)).as("skips level 1 and 2").isEqualTo(DescriptorKind.TABLE);
    }

    @Test
    void blockSizesAreTableD8_46() {
        // 4K: 64G / 256M / 1M blocks at levels 0 / 1 / 2; the output address is OAB[55:size].
        DescriptorFormat f = format(Granule.FOUR_K, 48, 56);
        Descriptor d = new Descriptor();
        f.encodeLeaf(d, 0x0000_0010_0000_0000L, 0, Attributes.kernelData(), false);
        assertThat(d.lo()).isEqualTo(0x0000_0010_0000_0000L | VALID | sh(0b11) | AF);
        assertThat(d.hi()).isEqualTo(skl(3) | piIndex(0b1100));
        assertThat(f.translate(d, 0, 0x0000_0001_2345_6789L)).isEqualTo(0x0000_0011_2345_6789L);
        assertThatThrownBy(() -> f.encodeLeaf(d, 0x0800_0000L, 0, Attributes.kernelData(), false))
                .hasMessageContaining("not aligned to 0x1000000000");
        // The Contiguous bit is RES0 in the 4K level 0 block (Arm ARM D8.7.1), so it reads as 0.
        assertThatThrownBy(() -> f.encodeLeaf(d, 0, 0, Attributes.kernelData(), true)).hasMessageContaining("RES0");
        assertThat(f.contiguous(new Descriptor(VALID, skl(3) | CONT), 0)).isFalse();
        assertThat(f.contiguous(new Descriptor(VALID, skl(2) | CONT), 1)).isTrue();
    }

    @Test
    void splittingKeepsBitsTheTypedModelDoesNotHave() {
        // POIndex, Protected, AttrIndx[3] (bit 5) survive; nT (bit 6) is RES0 once SKL is 0.
        DescriptorFormat f = format(Granule.FOUR_K, 48, 48);
        Descriptor block = new Descriptor(0x4010_0000L | VALID | (1L << 5) | NT | AF | sh(3),
                skl(1) | CONT | poIndex(0b1001) | PROTECTED | piIndex(0b0101));
        Descriptor page = new Descriptor();
        f.encodeLeafLike(page, block, 2, 0x4010_3000L, 3, false);
        assertThat(page.lo()).isEqualTo(0x4010_3000L | VALID | (1L << 5) | AF | sh(3));
        assertThat(page.hi()).isEqualTo(poIndex(0b1001) | PROTECTED | piIndex(0b0101));
        assertThat(f.sameLeafAttributes(block, page, 3)).isFalse(); // SKL differs
    }

    @Test
    void rejectsWhatTheFormatCannotHold() {
        DescriptorFormat f = format(Granule.FOUR_K, 48, 48);
        Descriptor d = new Descriptor();
        assertThatThrownBy(() -> f.encodeLeaf(d, 1L << 48, 3, Attributes.kernelData(), false))
                .isInstanceOf(DescriptorEncodingException.class).hasMessageContaining("48-bit PA");
        assertThatThrownBy(() -> f.encodeLeaf(d, 0, 3, Attributes.kernelData().withDomain(2), false))
                .hasMessageContaining("no domains");
        assertThatThrownBy(() -> format(Granule.SIXTEEN_K, 48, 48).encodeLeaf(d, 0, 0, Attributes.kernelData(), false))
                .hasMessageContaining("no block descriptor is allowed at level 0");
    }
}
