package dev.granule.mmu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * MAIR attribute bytes against the Arm ARM's MAIR_ELx.Attr&lt;n&gt; table and S1DecodeMemAttrs
 * (v9.4 pseudocode), on a PE with FEAT_XS and FEAT_MTE2.
 */
class MemoryTypeTest {

    @Test
    void deviceTypesComeFromBits3To2AndBit0IsTheXsZeroForm() {
        assertThat(MemoryType.decode(0x00)).isEqualTo(MemoryType.DEVICE_nGnRnE);
        assertThat(MemoryType.decode(0x04)).isEqualTo(MemoryType.DEVICE_nGnRE);
        assertThat(MemoryType.decode(0x08)).isEqualTo(MemoryType.DEVICE_nGRE);
        assertThat(MemoryType.decode(0x0C)).isEqualTo(MemoryType.DEVICE_GRE);
        // 0b0000dd01 with FEAT_XS: Device-dd, XS = 0.
        assertThat(MemoryType.decode(0x01)).isEqualTo(MemoryType.DEVICE_nGnRnE);
        assertThat(MemoryType.decode(0x05)).isEqualTo(MemoryType.DEVICE_nGnRE);
        assertThat(MemoryType.decode(0x0D)).isEqualTo(MemoryType.DEVICE_GRE);
        // 0b0000xx1x: reserved (S1ConstrainUnpredictableRESMAIR: attr[1:0] != 0b00).
        assertThat(MemoryType.decode(0x02)).isEqualTo(MemoryType.RESERVED);
        assertThat(MemoryType.decode(0x0F)).isEqualTo(MemoryType.RESERVED);
    }

    @Test
    void theFeatXsNormalEncodingsAreNonCacheableAndWriteThrough() {
        // 0b01000000: Normal Inner and Outer Non-cacheable, XS = 0; 0b10100000: Write-Through Read-Allocate, XS = 0.
        assertThat(MemoryType.decode(0x40)).isEqualTo(MemoryType.NORMAL_NON_CACHEABLE);
        assertThat(MemoryType.decode(0xA0)).isEqualTo(MemoryType.NORMAL_CACHEABLE);
        assertThat(MemoryType.decode(0xF0)).isEqualTo(MemoryType.NORMAL_TAGGED);
        // Any other 0bxxxx0000 is reserved.
        assertThat(MemoryType.decode(0x80)).isEqualTo(MemoryType.RESERVED);
        assertThat(MemoryType.decode(0x10)).isEqualTo(MemoryType.RESERVED);
    }

    @Test
    void normalMemory() {
        assertThat(MemoryType.decode(0x44)).isEqualTo(MemoryType.NORMAL_NON_CACHEABLE);
        assertThat(MemoryType.decode(0xFF)).isEqualTo(MemoryType.NORMAL_CACHEABLE);
        assertThat(MemoryType.decode(0x4F)).as("outer NC, inner WB").isEqualTo(MemoryType.NORMAL_CACHEABLE);
        assertThat(MemoryType.decode(0xBB)).isEqualTo(MemoryType.NORMAL_CACHEABLE);
    }
}
