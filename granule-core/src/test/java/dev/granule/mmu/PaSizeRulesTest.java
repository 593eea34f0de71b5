package dev.granule.mmu;

import dev.granule.format.Shareability;
import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which PA size each rule means: the CPU's (AArch64.PAMax(), ID_AA64MMFR0_EL1.PARange) or the
 * regime's (TCR_EL1.IPS, limited by PARange; AArch64.PhysicalAddressSize). Descriptors are written
 * by hand, bit by bit, and the expected outcomes come from the Arm ARM's pseudocode named in each
 * test. Several of these are places where QEMU 10 departs from the architecture (the oracle's
 * generator keeps them out; the README lists them), so this test is their only check.
 *
 * <p>Layout used throughout: 48-bit VA (T0SZ = 16), TTBR1 disabled (EPD1), the root table at
 * {@link #ROOT}, further tables at T1, T2. 64K with a 48-bit VA starts at level 1 (VA[47:42], 64
 * entries of 4 TiB); 4K starts at level 0 (VA[47:39]).
 */
class PaSizeRulesTest {

    /** ID_AA64MMFR0_EL1 of QEMU 10's {@code -cpu max} (PARange 0b0110: 52 bits; 4K/16K with LPA2, 64K). */
    static final long MMFR0_52 = 0x2100032310201126L;
    /** The same CPU with PARange 0b0101: 48 bits. */
    static final long MMFR0_48 = 0x2100032310201125L;
    static final long MMFR2 = 0x1221011112011011L;
    static final CpuFeatures PA52 = new CpuFeatures(MMFR0_52, MMFR2, 0);
    static final CpuFeatures PA48 = new CpuFeatures(MMFR0_48, MMFR2, 0);

    static final long ROOT = 0x4000_0000L, T1 = 0x4001_0000L, T2 = 0x4002_0000L;
    // TCR_EL1: T0SZ [5:0], TG0 [15:14] (0b00 4K, 0b01 64K), EPD1 [23], IPS [34:32], DS [59].
    static final long T0SZ_48 = 16, TG0_64K = 0b01L << 14, EPD1 = 1L << 23, DS = 1L << 59;
    static final long IPS_48 = 0b101L << 32, IPS_52 = 0b110L << 32, IPS_RESERVED = 0b111L << 32;
    // MAIR_EL1: Attr0 Normal WB (0xFF), Attr1 Device-nGnRE (0x04), Attr2 Normal NC (0x44),
    // Attr3 Normal Outer NC / Inner WB (0x4F): only both-non-cacheable is forced Outer Shareable.
    static final long MAIR = 0xFFL | 0x04L << 8 | 0x44L << 16 | 0x4FL << 24;
    // Leaf bits: [1:0] 0b01 block / 0b11 page, AttrIndx [4:2], SH [9:8], AF [10]; table 0b11.
    static final long BLOCK = 0b01, TABLE = 0b11, AF = 1L << 10, SH_ISH = 0b11L << 8;
    static final long TIB = 1L << 40;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(ROOT, 1L << 24));

    @AfterEach
    void close() { memory.close(); }

    Mmu mmu(long tcr, CpuFeatures cpu) {
        return mmu(tcr, ROOT, cpu);
    }

    Mmu mmu(long tcr, long ttbr0, CpuFeatures cpu) {
        Registers r = new Registers(tcr | T0SZ_48 | EPD1, ttbr0, 0, MAIR, 1, false);
        return new Mmu(new TranslationRegime(r, cpu), memory, new Tlb(16, 4));
    }

    // ---- AArch64.BlockDescSupported: the 64K level-1 block asks PAMax(), not TCR.IPS ----------

    @Test
    void a64kLevel1BlockIsA4TiBBlockOnA52BitCpuEvenUnderA48BitIps() {
        // Root index 1 (VA[47:42] = 1): a block at OA 8 TiB (aligned to its 4 TiB size, below 2^48).
        memory.writeLong(ROOT + 8, 8 * TIB | AF | SH_ISH | BLOCK);
        var t = ok(mmu(TG0_64K | IPS_48, PA52).translate(4 * TIB + 0x1234_5678L, Access.READ, 1));
        assertThat(t.pa()).isEqualTo(8 * TIB + 0x1234_5678L);
        assertThat(t.level()).isEqualTo(1);
        assertThat(t.leafSize()).isEqualTo(4 * TIB);
    }

    @Test
    void aBlockLargerThanThePaSizeIsAnAddressSizeFaultAtOffsetsBeyondIt() {
        // AArch64.S1Walk (v9.4): oa = StageOA(va, ...) = the block's base with VA[41:0] below it, then
        // AArch64.OAOutOfRange(oa, ps): the whole OA is checked, not only the descriptor's address
        // bits. A 64K level-1 block at OA 0 maps 4 TiB; under IPS = 0b000 (32 bits) an offset at or
        // above 4 GiB is beyond the PA size: an address size fault at level 1. QEMU 10.0.2 translates
        // it (QemuLargeBlockOaTest pins that).
        memory.writeLong(ROOT, AF | SH_ISH | BLOCK);
        Mmu m = mmu(TG0_64K, PA52); // IPS 0b000
        assertThat(ok(m.translate(0xFFFF_F000L, Access.READ, 1)).pa()).isEqualTo(0xFFFF_F000L);
        assertFault(m.translate(0xFE_0000_0000L, Access.READ, 1), FaultType.ADDRESS_SIZE, 1);
        assertFault(m.translate(0x1_0000_0000L, Access.READ, 1), FaultType.ADDRESS_SIZE, 1);
        // The TLB entry the first translation left must not answer for the offsets beyond the PA size.
        assertThat(m.outputAddress(0x1_0000_0000L, Access.READ, 1)).isEqualTo(-1);
        // IPS 0b010 (40 bits): 1 TiB and above faults, below it translates.
        Mmu m40 = mmu(TG0_64K | 0b010L << 32, PA52);
        assertThat(ok(m40.translate(0xFE_0000_0000L, Access.READ, 1)).pa()).isEqualTo(0xFE_0000_0000L);
        assertFault(m40.translate(0x100_0000_0000L, Access.READ, 1), FaultType.ADDRESS_SIZE, 1);
    }

    @Test
    void aStage2BlockLargerThanThePaSizeIsAStage2AddressSizeFaultAtOffsetsBeyondIt() {
        // AArch64.S2Walk checks StageOA(ipa, ...) with AArch64.OAOutOfRange as stage 1 does. Stage 2:
        // 64K, 48-bit IPA (T0SZ 16), SL0 0b10 (start level 1), PS 0b000 (32 bits), RES1 [31]; its
        // level-1 entry 0 a 4 TiB block at OA 0 (AF, S2AP RW, MemAttr Normal WB). HCR_EL2.DC turns
        // stage 1 off and stage 2 on, so the VA is the IPA.
        memory.writeLong(ROOT, AF | 0b11L << 6 | 0b1111L << 2 | BLOCK);
        long vtcr = 16 | 0b10L << 6 | 0b01L << 14 | 1L << 31;
        var s2 = new Stage2Regime(1L << 12, vtcr, ROOT, PA52);
        Mmu m = new Mmu(new TranslationRegime(new Registers(T0SZ_48 | EPD1, 0, 0, MAIR, 0, false), PA52), s2, memory,
                new Tlb(16, 4));
        assertThat(ok(m.translate(0xFFFF_F000L, Access.READ, 1)).pa()).isEqualTo(0xFFFF_F000L);
        var f = (Translation.Fault) m.translate(0x1_0000_0000L, Access.READ, 1);
        assertThat(f.type()).isEqualTo(FaultType.ADDRESS_SIZE);
        assertThat(f.stage()).isEqualTo(2);
        assertThat(f.level()).isEqualTo(1);
    }

    @Test
    void a64kLevel1BlockIsATranslationFaultOnACpuWithoutA52BitPa() {
        memory.writeLong(ROOT + 8, 8 * TIB | AF | SH_ISH | BLOCK);
        assertFault(mmu(TG0_64K | IPS_48, PA48).translate(4 * TIB, Access.READ, 1), FaultType.TRANSLATION, 1);
    }

    // ---- AArch64.LeafBase / NextTableBase: which descriptor bits are address bits --------------

    @Test
    void with64kBits15To12AreOa51To48WhenTheCpuHasA52BitPaSoABitThereIsAnAddressSizeFaultUnderA48BitIps() {
        // Level-1 table to T1, level-2 (512 MiB) block at OA 0x8000_0000 with descriptor bit 12 set: OA[48].
        memory.writeLong(ROOT, T1 | TABLE);
        memory.writeLong(T1, 0x8000_0000L | 1L << 12 | AF | SH_ISH | BLOCK);
        assertFault(mmu(TG0_64K | IPS_48, PA52).translate(0x1234, Access.READ, 1), FaultType.ADDRESS_SIZE, 2);
        // Under a 52-bit IPS the same bit is a valid OA[48] (AArch64.OAOutOfRange: within 52 bits).
        assertThat(ok(mmu(TG0_64K | IPS_52, PA52).translate(0x1234, Access.READ, 1)).pa())
                .isEqualTo(1L << 48 | 0x8000_1234L);
        // On a CPU without a 52-bit PA it is IMPLEMENTATION DEFINED whether they are OA[51:48]; the
        // model says they are (QEMU ignores them), so the same bit is beyond the 48-bit PA size.
        assertFault(mmu(TG0_64K | IPS_48, PA48).translate(0x1234, Access.READ, 1), FaultType.ADDRESS_SIZE, 2);
    }

    @Test
    void with64kATableDescriptorsBits15To12AreTheNextTablesAddressBits51To48() {
        memory.writeLong(ROOT, T1 | 0b0010L << 12 | TABLE); // next table at T1 + 2^49
        memory.writeLong(T1, 0x8000_0000L | AF | SH_ISH | BLOCK);
        assertFault(mmu(TG0_64K | IPS_48, PA52).translate(0x1234, Access.READ, 1), FaultType.ADDRESS_SIZE, 1);
        // Within a 52-bit PA size the table is at 2^49 + T1, outside RAM: the walk aborts reading it.
        assertFault(mmu(TG0_64K | IPS_52, PA52).translate(0x1234, Access.READ, 1), FaultType.EXTERNAL_ABORT_ON_WALK, 2);
        assertFault(mmu(TG0_64K | IPS_48, PA48).translate(0x1234, Access.READ, 1), FaultType.ADDRESS_SIZE, 1);
    }

    @Test
    void withDsBits9To8AreOa51To50WhateverThePaSizeSoABitThereIsAnAddressSizeFaultBelow52Bits() {
        // 4K, DS = 1: level 0 table to T1, level-1 (1 GiB) block at OA 0x8000_0000 with bit 8 set: OA[50].
        memory.writeLong(ROOT, T1 | TABLE);
        memory.writeLong(T1 + 2 * 8, 0x8000_0000L | 1L << 8 | AF | BLOCK);
        long va = 2L << 30 | 0x5678;
        assertFault(mmu(DS | IPS_48, PA52).translate(va, Access.READ, 1), FaultType.ADDRESS_SIZE, 1);
        assertThat(ok(mmu(DS | IPS_52, PA52).translate(va, Access.READ, 1)).pa()).isEqualTo(1L << 50 | 0x8000_5678L);
        // The same in a table descriptor: NextTableBase takes bits [9:8] too.
        memory.writeLong(ROOT, T1 | 1L << 9 | TABLE);
        assertFault(mmu(DS | IPS_48, PA52).translate(va, Access.READ, 1), FaultType.ADDRESS_SIZE, 0);
    }

    // ---- AArch64.S1TTBaseAddress: TTBR bits [5:2] -------------------------------------------------

    @Test
    void ttbrBits5To2AreBaddr51To48For64kOnlyUnderA52BitPaSize() {
        memory.writeLong(ROOT, T1 | TABLE);
        memory.writeLong(T1, 0x8000_0000L | AF | SH_ISH | BLOCK);
        long ttbr = ROOT | 0b0001L << 2;
        // IPS 52: BADDR[48] = 1, the root is at 2^48 + ROOT, outside RAM: the first read aborts.
        assertFault(mmu(TG0_64K | IPS_52, ttbr, PA52).translate(0x1234, Access.READ, 1),
                FaultType.EXTERNAL_ABORT_ON_WALK, 1);
        // IPS 48: BADDR is TTBR[47:1] aligned to the 512-byte root table; bits [5:2] fall below it.
        assertThat(ok(mmu(TG0_64K | IPS_48, ttbr, PA52).translate(0x1234, Access.READ, 1)).pa()).isEqualTo(0x8000_1234L);
    }

    @Test
    void aTtbrAboveThePaSizeIsAnAddressSizeFaultAtLevel0() {
        memory.writeLong(ROOT, T1 | TABLE);
        memory.writeLong(T1, 0x8000_0000L | AF | SH_ISH | BLOCK);
        // 4K, IPS 0b000 (32 bits): BADDR 0x4000_0000 | 2^40 is beyond it.
        assertFault(mmu(0, ROOT | 1L << 40, PA52).translate(0x1234, Access.READ, 1), FaultType.ADDRESS_SIZE, 0);
    }

    @Test
    void theReservedIps0b111TakesTheCpusPaSize() {
        // CONSTRAINED UNPREDICTABLE; QEMU takes the implemented size (the oracle draws IPS = 0b111 too).
        assertThat(new TranslationRegime(new Registers(IPS_RESERVED | T0SZ_48, ROOT, 0, MAIR, 1, false), PA52).paBits())
                .isEqualTo(52);
        assertThat(new TranslationRegime(new Registers(IPS_RESERVED | T0SZ_48, ROOT, 0, MAIR, 1, false), PA48).paBits())
                .isEqualTo(48);
    }

    // ---- S1DecodeMemAttrs / PAREncodeShareability -----------------------------------------------

    @Test
    void deviceAndNonCacheableMemoryAreOuterShareableWhateverTheDescriptorSays() {
        // 4K: root[0] -> T1; T1[0..3] 1 GiB blocks with AttrIndx 0..3, all SH = 0b11 (Inner Shareable).
        memory.writeLong(ROOT, T1 | TABLE);
        for (int attrIndx = 0; attrIndx < 4; attrIndx++) {
            memory.writeLong(T1 + attrIndx * 8L, (long) attrIndx << 30 | (long) attrIndx << 2 | AF | SH_ISH | BLOCK);
        }
        Mmu mmu = mmu(IPS_48, PA52);
        Shareability[] effective = new Shareability[4];
        for (int i = 0; i < 4; i++) {
            var t = ok(mmu.translate((long) i << 30, Access.READ, 1));
            assertThat(t.shareability()).as("descriptor SH of AttrIndx %d", i).isEqualTo(Shareability.INNER_SHAREABLE);
            effective[i] = t.effectiveShareability();
        }
        assertThat(effective).containsExactly(Shareability.INNER_SHAREABLE, // 0xFF Normal WB
                Shareability.OUTER_SHAREABLE,                                // 0x04 Device
                Shareability.OUTER_SHAREABLE,                                // 0x44 Normal NC
                Shareability.INNER_SHAREABLE);                               // 0x4F only outer NC
    }

    @Test
    void theReservedSh0b01IsTakenAsNonShareable() {
        // DecodeShareability: CONSTRAINED UNPREDICTABLE, one of the three allowed values; the model
        // takes Non-shareable (QEMU reports 0b01 in PAR, which PAREncodeShareability never yields).
        memory.writeLong(ROOT, T1 | TABLE);
        memory.writeLong(T1, 0x8000_0000L | 0b01L << 8 | AF | BLOCK);
        memory.writeLong(T1 + 8, 0xC000_0000L | 1L << 2 | 0b01L << 8 | AF | BLOCK); // Device
        Mmu mmu = mmu(IPS_48, PA52);
        assertThat(ok(mmu.translate(0x10, Access.READ, 1)).effectiveShareability()).isEqualTo(Shareability.NON_SHAREABLE);
        assertThat(ok(mmu.translate(1L << 30, Access.READ, 1)).effectiveShareability())
                .isEqualTo(Shareability.OUTER_SHAREABLE);
    }
}
