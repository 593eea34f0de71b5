package dev.granule.format;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Armv7-A long descriptors (Arm ARM B3.6, "Long-descriptor translation table format"): the same
 * field positions as VMSAv8-64 for what they share, output addresses of 40 bits in [39:12], no
 * DBM or GP. Geometry values from Linux's arch/arm/include/asm/pgtable-3level.h.
 */
class LpaeFormatTest {

    private static final Geometry LPAE = Geometry.of(Granule.FOUR_K, TranslationFormat.LPAE, 32, 40);

    @Test
    void geometryIsLinuxsThreeLevelArmLayout() {
        // pgtable-3level.h: PGDIR_SHIFT 30, PTRS_PER_PGD 4, PMD_SHIFT 21, PTRS_PER_PMD 512, PTRS_PER_PTE 512.
        assertThat(LPAE.levels()).isEqualTo(3);
        assertThat(LPAE.startLevel()).isEqualTo(1);
        assertThat(LPAE.pgdirShift()).isEqualTo(30);
        assertThat(LPAE.ptrsPerPgd()).isEqualTo(4);
        assertThat(LPAE.pmdShift()).isEqualTo(21);
        assertThat(LPAE.ptrsPerPmd()).isEqualTo(512);
        assertThat(LPAE.ptrsPerPte()).isEqualTo(512);
        assertThat(LPAE.txsz()).as("TTBCR.T0SZ for a 4 GiB TTBR0 range").isZero();
        // TTBCR.T0SZ = 2..7 starts the walk at level 2 (Arm ARM B3.6.6).
        assertThat(Geometry.of(Granule.FOUR_K, TranslationFormat.LPAE, 30, 40).startLevel()).isEqualTo(2);
        assertThat(Geometry.of(Granule.FOUR_K, TranslationFormat.LPAE, 31, 40).startLevel()).isEqualTo(1);
    }

    @Test
    void fortyBitBlockAndPageWords() {
        DescriptorFormat f = DescriptorFormat.of(LPAE);
        Descriptor d = new Descriptor();
        // Level 2 block (2 MiB) at the top of the 40-bit space: OA[39:21] in place, type 0b01,
        // AttrIndx 0, AP[2:1]=00, SH=0b11 (bits 9:8), AF (bit 10), PXN (53), XN (54).
        f.encodeLeaf(d, 0xFF_FFE0_0000L, 2, Attributes.kernelData(), false);
        assertThat(d.lo()).isEqualTo(0xFF_FFE0_0000L | 0b01 | (0b11L << 8) | (1L << 10) | (1L << 53) | (1L << 54));
        // Level 3 page, EL0 read-only (AP[2:1] = 0b11 at bits 7:6), nG (bit 11), executable.
        f.encodeLeaf(d, 0x12_3456_7000L, 3, Attributes.userText(), false);
        assertThat(d.lo()).isEqualTo(0x12_3456_7000L | 0b11 | (0b11L << 6) | (0b11L << 8) | (1L << 10) | (1L << 11)
                | (1L << 53));
        assertThat(f.outputAddress(d, 3)).isEqualTo(0x12_3456_7000L);
    }

    @Test
    void bitsAboveFortyAreNotAddressBits() {
        DescriptorFormat f = DescriptorFormat.of(LPAE);
        Descriptor d = new Descriptor();
        assertThatThrownBy(() -> f.encodeLeaf(d, 1L << 40, 3, Attributes.kernelData(), false))
                .hasMessageContaining("40-bit PA");
        // Bits [47:40] of a descriptor are not part of an LPAE output address.
        assertThat(f.outputAddress(Descriptor.of64((0xFFL << 40) | 0x1000 | 0b11), 3)).isEqualTo(0x1000);
        assertThatThrownBy(() -> f.encodeLeaf(d, 0, 3, Attributes.kernelData().withDirtyBitModifier(true), false))
                .hasMessageContaining("no DBM");
    }

    @Test
    void levelOneGigabyteBlocksOnly() {
        DescriptorFormat f = DescriptorFormat.of(LPAE);
        assertThat(f.kind(Descriptor.of64(0b01), 1)).isEqualTo(DescriptorKind.BLOCK);
        assertThat(f.kind(Descriptor.of64(0b01), 3)).isEqualTo(DescriptorKind.RESERVED);
    }
}
