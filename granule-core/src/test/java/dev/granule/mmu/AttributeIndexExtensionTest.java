package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * FEAT_AIE with VMSAv8-64 descriptors (TCR2_EL1.AIE [4] without D128), worked out from the Arm ARM:
 * AArch64.S1NextWalkStateLeaf takes AttrIndx as descriptor bits {59, 4:2} when walkparams.aie is 1
 * (bit 59 is otherwise PBHA[0]), AArch64.MAIRAttr reads indices 8..15 from MAIR2_EL1, and
 * AArch64.S1TTWParamsEL10 sets walkparams.hpd to 1 when walkparams.aie is 1, so APTable/UXNTable/
 * PXNTable no longer limit the leaf. TCR2_EL1.AIE is read only where ID_AA64MMFR3_EL1.AIE [27:24] says
 * the CPU has FEAT_AIE.
 *
 * <p>Layout: 4K granule, T0SZ 25 (39-bit VA, start level 1), IPS 48, EPD1; VA 0x4020_3000 has level-1
 * index 1, level-2 index 1, level-3 index 3. The leaf is a page to PA 0x5000_0000 with AttrIndx[2:0] = 1.
 */
class AttributeIndexExtensionTest {

    static final long VA = 0x4020_3000L;
    static final long L1 = 0x10_0000, L2 = 0x20_0000, L3 = 0x30_0000, PA = 0x5000_0000L;
    static final long TCR = 25 | 1L << 23 | 0b101L << 32;          // T0SZ 25, EPD1, IPS 0b101 (48 bits)
    static final long TCR2_AIE = 1L << 4;
    static final long TABLE = 0b11, PAGE = 0b11, AF = 1L << 10, ATTR_INDX_1 = 1L << 2, BIT59 = 1L << 59;
    static final long APTABLE_RO = 0b10L << 61;                     // APTable [62:61] = 0b10: no writes below
    // MAIR_EL1 Attr1 = 0x44 (Normal Non-cacheable); MAIR2_EL1 Attr1 (AttrIndx 9) = 0x0C (Device-GRE).
    static final long MAIR = 0xFF | 0x44L << 8, MAIR2 = 0x0CL << 8;
    /** {@link CpuFeatures#ALL} without ID_AA64MMFR3_EL1.AIE [27:24]. */
    static final CpuFeatures NO_AIE = new CpuFeatures(CpuFeatures.ALL.idAa64mmfr0(), CpuFeatures.ALL.idAa64mmfr2(),
            CpuFeatures.ALL.idAa64mmfr3() & ~(0xFL << 24), CpuFeatures.ALL.idAa64mmfr1(), CpuFeatures.ALL.idAa64mmfr4());

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 32));

    @AfterEach
    void close() { memory.close(); }

    void build(long l2TableBits, long leafBits) {
        memory.writeLong(L1 + 8 * 1, L2 | TABLE);
        memory.writeLong(L2 + 8 * 1, L3 | l2TableBits | TABLE);
        memory.writeLong(L3 + 8 * 3, PA | leafBits | AF | PAGE);   // AP [7:6] = 0b00: EL1 read/write
    }

    Mmu mmu(long tcr2, CpuFeatures cpu) {
        var regime = new TranslationRegime(new Registers(TCR, L1, 0, MAIR, 1, false, 0, 0, MAIR2),
                new PermissionRegisters(tcr2, 0, 0, 0, 0), cpu);
        return new Mmu(regime, memory, new Tlb(16, 4));
    }

    @Test
    void bit59IsAttrIndx3AndSelectsMair2UnderAie() {
        build(0, BIT59 | ATTR_INDX_1);
        Mmu mmu = mmu(TCR2_AIE, CpuFeatures.ALL);
        // AttrIndx = {1, 0b001} = 9: MAIR2_EL1 byte 1 = 0x0C.
        assertThat(ok(mmu.translate(VA, Access.READ, 1)).mairAttr()).isEqualTo(0x0C);
        // The TLB entry keeps the same attribute.
        assertThat(ok(mmu.translate(VA, Access.READ, 1)).mairAttr()).isEqualTo(0x0C);
        assertThat(mmu.tlb().hits()).isEqualTo(1);
    }

    @Test
    void withoutAieBit59IsNotPartOfAttrIndx() {
        build(0, BIT59 | ATTR_INDX_1);
        // AttrIndx = 0b001 = 1: MAIR_EL1 byte 1 = 0x44.
        assertThat(ok(mmu(0, CpuFeatures.ALL).translate(VA, Access.READ, 1)).mairAttr()).isEqualTo(0x44);
    }

    @Test
    void underAieAClearBit59StillSelectsMair() {
        build(0, ATTR_INDX_1);
        assertThat(ok(mmu(TCR2_AIE, CpuFeatures.ALL).translate(VA, Access.READ, 1)).mairAttr()).isEqualTo(0x44);
    }

    @Test
    void tcr2AieIsIgnoredOnACpuWithoutFeatAie() {
        build(APTABLE_RO, BIT59 | ATTR_INDX_1);
        Mmu mmu = mmu(TCR2_AIE, NO_AIE);
        assertThat(mmu.regime().attributeIndexExtension()).isFalse();
        assertThat(ok(mmu.translate(VA, Access.READ, 1)).mairAttr()).isEqualTo(0x44);
        // And the table's APTable still applies: a write is a permission fault at level 3.
        assertFault(mmu.translate(VA, Access.WRITE, 1), FaultType.PERMISSION, 3);
    }

    @Test
    void aieDisablesHierarchicalPermissions() {
        build(APTABLE_RO, ATTR_INDX_1);
        // Without AIE, APTable[1] = 1 in the level-2 table makes the read/write page read-only.
        assertFault(mmu(0, CpuFeatures.ALL).translate(VA, Access.WRITE, 1), FaultType.PERMISSION, 3);
        // With AIE (walkparams.hpd = 1) the table's APTable is ignored: the leaf's AP 0b00 lets EL1 write.
        Mmu aie = mmu(TCR2_AIE, CpuFeatures.ALL);
        assertThat(aie.regime().lower().hpd()).isTrue();
        assertThat(ok(aie.translate(VA, Access.WRITE, 1)).pa()).isEqualTo(PA);
        assertThat(aie.outputAddress(VA + 0x10, Access.WRITE, 1)).isEqualTo(PA + 0x10);
    }
}
