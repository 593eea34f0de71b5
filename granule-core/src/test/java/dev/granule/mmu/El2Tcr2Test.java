package dev.granule.mmu;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.PaSizeRulesTest.PA52;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * TCR2_EL2 for the EL2 regime with HCR_EL2.E2H = 0, and FEAT_THE's PnCH, with descriptors written by
 * hand and outcomes from the Arm ARM: AArch64.S1TTWParamsEL2 reads PIE (rights from PIR_EL2 alone,
 * the regime having no unprivileged level: AArch64.S1IndirectBasePermissions applies PIRE0 only where
 * HasUnprivileged), POE (POR_EL2), AIE (MAIR2_EL2), HAFT and PnCH, and never sets walkparams.d128;
 * TCR2_EL2's E2H = 0 layout has D128 and E0POE as RES0. PIIndex is descriptor bits 54:53:51:6 in every
 * regime (AArch64.S1ApplyOutputPerms). With PnCH, bit 52 of a leaf is the Protected bit and the leaf
 * is not Contiguous (AArch64.S1NextWalkStateLeaf).
 *
 * <p>Layout as {@link El2RegimeTest}: 4K granule, 39-bit VA; level-1 table at 0x4000_0000, level-2
 * table at 0x4000_1000; VA 0x4000_1234 lies in the level-2 block at index 0 (2 MiB at 0x8000_0000).
 */
class El2Tcr2Test {

    static final long L1 = 0x4000_0000L, L2 = 0x4000_1000L, VA = 0x4000_1234L, OA = 0x8000_0000L;
    static final long TABLE = 0b11, BLOCK = 0b01, AF = 1L << 10, ISH = 0b11L << 8;
    static final long AP1 = 1L << 6, AP_RO = 0b10L << 6, DBM = 1L << 51, CONTIG = 1L << 52, PXN = 1L << 53, XN = 1L << 54;
    static final long AP_TABLE_RO = 1L << 62;
    // TCR_EL2 (E2H = 0): T0SZ 25, TG0 4K, PS 0b010 (40 bits), RES1 [23] and [31]; HA is bit 21.
    static final long TCR_EL2 = 25 | 0b010L << 16 | 1L << 23 | 1L << 31, TCR_EL2_HA = 1L << 21;
    // TCR2_EL2 (E2H = 0 layout): PnCH [0], PIE [1], bit 2 RES0 (E0POE in the E2H = 1 layout), POE [3],
    // AIE [4], bits [9:5] RES0 (D128 at [5] in the E2H = 1 layout), HAFT [11].
    static final long PNCH = 1, PIE = 1L << 1, POE = 1L << 3, AIE = 1L << 4, D128 = 1L << 5, HAFT = 1L << 11;
    /** Every feature (PA 52, TCR2, S1PIE, S1POE, AIE, D128, HAFT, ASID2, THE). */
    static final CpuFeatures CPU = CpuFeatures.ALL;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 24));

    @AfterEach
    void close() { memory.close(); }

    void build(long tableAttrs, long leafAttrs) {
        memory.writeLong(L1 + 8, L2 | TABLE | tableAttrs);
        memory.writeLong(L2, OA | leafAttrs | BLOCK);
    }

    Mmu el2(long tcr2, long pir, long pire0, long porEl2, CpuFeatures cpu) {
        return el2(TCR_EL2, tcr2, pir, pire0, porEl2, 0xFF, 0, cpu);
    }

    Mmu el2(long tcrEl2, long tcr2, long pir, long pire0, long porEl2, long mair, long mair2, CpuFeatures cpu) {
        return new Mmu(TranslationRegime.el2(tcrEl2, L1, mair, 1, mair2,
                new PermissionRegisters(tcr2, pir, pire0, porEl2, 0), cpu), memory, new Tlb(16, 4));
    }

    /** A PIR value with {@code rights} in the field of PIIndex {@code index}. */
    static long pi(int index, long rights) { return rights << 4 * index; }

    @Test
    void pieTakesEl2RightsFromPirEl2Alone() {
        // PIIndex 0b0001 (AP[1] only). PIR_EL2[1] = 0b0011: read and execute. PIRE0 [1] = 0b0101 (read,
        // write) would, in a regime with EL0, take every privileged right away (EL0-writable with
        // privileged execute); the EL2 regime has no EL0, so PIRE0 is not read at all.
        build(0, AF | ISH | AP1);
        Mmu m = el2(PIE, pi(1, 0b0011), pi(1, 0b0101), 0, CPU);
        assertThat(m.regime().permissionIndirection()).isTrue();
        assertThat(ok(m.translate(VA, Access.READ, 2)).pa()).isEqualTo(OA | 0x1234);
        assertThat(ok(m.translate(VA, Access.EXECUTE, 2)).pa()).isEqualTo(OA | 0x1234);
        assertFault(m.translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 2);
        // The same leaf and registers at EL1&0: the EL0-writable rule leaves EL1 nothing.
        var el10 = new Mmu(new TranslationRegime(new Registers(25 | 1L << 23 | 0b010L << 32, L1, 0, 0xFF, 1, false),
                new PermissionRegisters(PIE, pi(1, 0b0011), pi(1, 0b0101), 0, 0), CPU), memory, new Tlb(16, 4));
        assertFault(el10.translate(VA, Access.READ, 1), FaultType.PERMISSION, 2);
    }

    @Test
    void pieIndexTakesBits54And53EvenWherePxnIsRes0() {
        // UXN/XN (54), PXN (53, RES0 in the direct model at EL2), DBM (51), AP[1] (6): PIIndex 15.
        // PIR_EL2[15] = 0b0111, read/write/execute: bit 54 is an index bit, not XN. (0b0110 is the same with
        // its own WXN, which takes execute away where no overlay applies.)
        build(0, AF | ISH | XN | PXN | DBM | AP1);
        assertFault(el2(PIE, pi(15, 0b0110), 0, 0, CPU).translate(VA, Access.EXECUTE, 2), FaultType.PERMISSION, 2);
        Mmu m = el2(PIE, pi(15, 0b0111), 0, 0, CPU);
        assertThat(ok(m.translate(VA, Access.WRITE, 2)).pa()).isEqualTo(OA | 0x1234);
        assertThat(ok(m.translate(VA, Access.EXECUTE, 2)).pa()).isEqualTo(OA | 0x1234);
        // PIIndex 4 (bit 53 alone): PIR_EL2[4] = 0b0001, read only.
        build(0, AF | ISH | PXN);
        m = el2(PIE, pi(4, 0b0001), 0, 0, CPU);
        assertThat(ok(m.translate(VA, Access.READ, 2)).pa()).isEqualTo(OA | 0x1234);
        assertFault(m.translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 2);
        assertFault(m.translate(VA, Access.EXECUTE, 2), FaultType.PERMISSION, 2);
    }

    @Test
    void pieTurnsHierarchicalPermissionsOff() {
        // APTable[1] in the level-1 table: read-only below it in the direct model; with PIE,
        // S1TTWParamsEL2 sets walkparams.hpd, so PIR_EL2[0] = 0b0101 (read/write) decides.
        build(AP_TABLE_RO, AF | ISH);
        assertFault(el2(0, 0, 0, 0, CPU).translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 2);
        assertThat(ok(el2(PIE, pi(0, 0b0101), 0, 0, CPU).translate(VA, Access.WRITE, 2)).pa()).isEqualTo(OA | 0x1234);
    }

    @Test
    void pieNeedsFeatS1pie() {
        // A CPU without FEAT_TCR2/S1PIE (ID_AA64MMFR3_EL1 = 0): TCR2_EL2.PIE is not there; AP[2] decides.
        build(0, AF | ISH | AP_RO);
        Mmu m = el2(PIE, pi(0, 0b0101) | pi(2, 0b0101), 0, 0, PA52);
        assertThat(m.regime().permissionIndirection()).isFalse();
        assertFault(m.translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 2);
    }

    @Test
    void d128AndE0poeAreRes0WhenE2hIs0() {
        // Bit 5 (D128 in the E2H = 1 layout) does not select VMSAv9-128, nor force PIE on: the 64-bit
        // tables are walked and AP[2] = 1 still makes the block read-only.
        build(0, AF | ISH | AP_RO);
        Mmu m = el2(D128, 0, 0, 0, CPU);
        assertThat(m.regime().d128()).isFalse();
        assertThat(m.regime().permissionIndirection()).isFalse();
        assertThat(ok(m.translate(VA, Access.READ, 2)).pa()).isEqualTo(OA | 0x1234);
        assertFault(m.translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 2);
        // Bit 2 (E0POE in the E2H = 1 layout) turns no overlay on.
        assertThat(el2(1L << 2, 0, 0, 0, CPU).regime().permissionOverlays()).isFalse();
    }

    @Test
    void poeNarrowsEl2AccessesByPorEl2() {
        // POIndex 2 (bits 62:60 = 0b010); POR_EL2[2] = 0b0001, read only; the block itself is RW.
        build(0, AF | ISH | 2L << 60);
        Mmu m = el2(POE, 0, 0, pi(2, 0b0001), CPU);
        assertThat(ok(m.translate(VA, Access.READ, 2)).pa()).isEqualTo(OA | 0x1234);
        assertFault(m.translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 2);
        // POR_EL2[2] = 0b0111: everything the base rights give.
        assertThat(ok(el2(POE, 0, 0, pi(2, 0b0111), CPU).translate(VA, Access.WRITE, 2)).pa()).isEqualTo(OA | 0x1234);
    }

    @Test
    void aieSelectsMair2El2ByBit59() {
        // AttrIndx[2:0] = 3 and bit 59: with AIE, AttrIndx 11 reads MAIR2_EL2.Attr3 (0x04, Device-nGnRE);
        // without, bit 59 is PBHA[0] and MAIR_EL2.Attr3 (0x44, Normal Non-cacheable) is read.
        build(0, AF | ISH | 3L << 2 | 1L << 59);
        long mair = 0x44L << 24, mair2 = 0x04L << 24;
        assertThat(ok(el2(TCR_EL2, AIE, 0, 0, 0, mair, mair2, CPU).translate(VA, Access.READ, 2)).mairAttr()).isEqualTo(0x04);
        assertThat(ok(el2(TCR_EL2, 0, 0, 0, 0, mair, mair2, CPU).translate(VA, Access.READ, 2)).mairAttr()).isEqualTo(0x44);
        // A CPU without FEAT_AIE: TCR2_EL2.AIE is RES0.
        assertThat(ok(el2(TCR_EL2, AIE, 0, 0, 0, mair, mair2, PA52).translate(VA, Access.READ, 2)).mairAttr()).isEqualTo(0x44);
    }

    @Test
    void haftSetsTheTableAccessFlagAtEl2() {
        // TCR_EL2.HA (bit 21) and TCR2_EL2.HAFT: the walk sets AF (bit 10) of the level-1 table descriptor.
        build(0, AF | ISH);
        ok(el2(TCR_EL2 | TCR_EL2_HA, HAFT, 0, 0, 0, 0xFF, 0, CPU).translate(VA, Access.READ, 2));
        assertThat(memory.readLong(L1 + 8) & AF).isEqualTo(AF);
        // Without TCR_EL2.HA, HAFT is not in effect.
        build(0, AF | ISH);
        ok(el2(TCR_EL2, HAFT, 0, 0, 0, 0xFF, 0, CPU).translate(VA, Access.READ, 2));
        assertThat(memory.readLong(L1 + 8) & AF).isZero();
    }

    /** Sixteen 2 MiB blocks at level 2 with the Contiguous bit, one aligned 32 MiB run. */
    void contiguousRun() {
        memory.writeLong(L1 + 8, L2 | TABLE);
        for (int i = 0; i < 16; i++) memory.writeLong(L2 + 8L * i, (OA + ((long) i << 21)) | AF | ISH | CONTIG | BLOCK);
    }

    @Test
    void pnchMakesBit52TheProtectedBitAtEl2() {
        contiguousRun();
        Mmu plain = el2(0, 0, 0, 0, CPU);
        Mmu pnch = el2(PNCH, 0, 0, 0, CPU);
        assertThat(ok(plain.translate(VA, Access.READ, 2)).contiguous()).isTrue();
        Translation.Translated t = ok(pnch.translate(VA, Access.READ, 2));
        assertThat(t.contiguous()).isFalse();
        assertThat(t.pa()).isEqualTo(OA | 0x1234);
        // The TLB holds the 32 MiB run for the plain regime but only the 2 MiB block under PnCH: with the
        // next block's descriptor gone, the plain MMU still translates from its run, PnCH walks and faults.
        memory.writeLong(L2 + 8, 0);
        long next = VA + (1L << 21);
        assertThat(ok(plain.translate(next, Access.READ, 2)).pa()).isEqualTo(OA + (1L << 21) + 0x1234);
        assertFault(pnch.translate(next, Access.READ, 2), FaultType.TRANSLATION, 2);
        // A CPU without FEAT_THE: PnCH is RES0 and the run is contiguous.
        var noThe = new CpuFeatures(CPU.idAa64mmfr0(), CPU.idAa64mmfr2(), CPU.idAa64mmfr3(), CPU.idAa64mmfr1(),
                CPU.idAa64mmfr4(), 0);
        contiguousRun();
        assertThat(ok(el2(PNCH, 0, 0, 0, noThe).translate(VA, Access.READ, 2)).contiguous()).isTrue();
    }

    @Test
    void pnchAppliesToEl10AndEl20AndNotToD128() {
        contiguousRun();
        long tcrEl1 = 25 | 1L << 23 | 0b010L << 32;    // T0SZ 25, EPD1, IPS 40 bits, TG0 4K
        var r = new Registers(tcrEl1, L1, 0, 0xFF, 1, false);
        var el10 = new TranslationRegime(r, new PermissionRegisters(PNCH, 0, 0, 0, 0), CPU);
        assertThat(el10.protectedAttribute()).isTrue();
        assertThat(ok(new Mmu(el10, memory, new Tlb(16, 4)).translate(VA, Access.READ, 1)).contiguous()).isFalse();
        var el20 = TranslationRegime.el20(r, new PermissionRegisters(PNCH, 0, 0, 0, 0), CPU);
        assertThat(ok(new Mmu(el20, memory, new Tlb(16, 4)).translate(VA, Access.READ, 2)).contiguous()).isFalse();
        assertThat(ok(new Mmu(new TranslationRegime(r, CPU), memory, new Tlb(16, 4)).translate(VA, Access.READ, 1))
                .contiguous()).isTrue();
        // S1TTWParamsEL10: pnch only where d128 is 0 (VMSAv9-128 has its Protected bit at 114).
        assertThat(new TranslationRegime(r, new PermissionRegisters(PNCH | D128, 0, 0, 0, 0), CPU).protectedAttribute())
                .isFalse();
    }
}
