package dev.granule.mmu;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static dev.granule.mmu.PaSizeRulesTest.PA52;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The EL2 regime (HCR_EL2.E2H = 0: TCR_EL2 in its own layout, TTBR0_EL2 only, no ASID, one
 * privilege level) and the EL2&amp;0 regime (E2H = 1: TCR_EL2 in the EL1 layout, TTBR0/TTBR1_EL2,
 * ASIDs, EL0 and EL2), with descriptors written by hand and outcomes from the Arm ARM: TCR_EL2's
 * field positions (D19, TCR_EL2 when E2H = 0), stage-1 permissions for a regime with one
 * privilege level (AP[2] only; XN is bit 54; PXN, nG and the "EL0-writable implies PXN" rule do not
 * apply), and separate TLB entries per regime.
 *
 * <p>Layout: 4K granule, 39-bit VA (T0SZ 25, start level 1); level-1 table at 0x4000_0000, a
 * level-2 table at 0x4000_1000; VA 0x4000_0000 (level-1 index 1, level-2 index 0) is a 2 MiB block.
 */
class El2RegimeTest {

    static final long L1 = 0x4000_0000L, L2 = 0x4000_1000L, VA = 0x4000_1234L;
    static final long TABLE = 0b11, BLOCK = 0b01, AF = 1L << 10, ISH = 0b11L << 8, NG = 1L << 11;
    static final long AP_EL0_RW = 0b01L << 6, AP_RO = 0b10L << 6, PXN = 1L << 53, XN = 1L << 54;
    // TCR_EL2 (E2H = 0): T0SZ 25 [5:0], TG0 4K (0b00) [15:14], PS 0b010 (40 bits) [18:16], RES1 [23] and [31].
    static final long TCR_EL2 = 25 | 0b010L << 16 | 1L << 23 | 1L << 31;
    static final long TBI = 1L << 20, HPD = 1L << 24;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 24));

    @AfterEach
    void close() { memory.close(); }

    void build(long leafAttrs) {
        memory.writeLong(L1 + 8, L2 | TABLE);
        memory.writeLong(L2, 0x8000_0000L | leafAttrs | BLOCK);
    }

    Mmu el2(long tcr, Tlb tlb) {
        return new Mmu(TranslationRegime.el2(tcr, L1, 0xFF, 1, PA52), memory, tlb);
    }

    @Test
    void tcrEl2FieldsAreReadFromTheirEl2Positions() {
        TranslationRegime r = TranslationRegime.el2(TCR_EL2 | TBI | HPD, L1, 0xFF, 1, PA52);
        assertThat(r.kind()).isEqualTo(TranslationRegime.Kind.EL2);
        assertThat(r.lower().geometry().vaBits()).isEqualTo(39);
        assertThat(r.paBits()).as("PS [18:16] = 0b010").isEqualTo(40);
        assertThat(r.lower().tbi()).as("TBI is bit 20").isTrue();
        assertThat(r.lower().hpd()).as("HPD is bit 24").isTrue();
        assertThat(r.upper().epd()).as("no TTBR1 range").isTrue();
        assertThat(r.asid()).isZero();
        // Bit 23 (RES1 in TCR_EL2) is not EPD1's meaning for the lower range, bit 7 not EPD0.
        assertThat(TranslationRegime.el2(TCR_EL2 | 1L << 7, L1, 0xFF, 1, PA52).lower().epd()).isFalse();
    }

    @Test
    void atEl2OnlyAp2LimitsDataAccessAndBit54IsXn() {
        // AP = 0b01 (EL0 RW in a two-range regime): at EL2 read, write and execute; the implied
        // PXN of EL1&0 does not apply, and PXN (bit 53) is RES0 here.
        build(AF | ISH | AP_EL0_RW | PXN);
        Mmu m = el2(TCR_EL2, new Tlb(16, 4));
        assertThat(ok(m.translate(VA, Access.READ, 2)).pa()).isEqualTo(0x8000_1234L);
        assertThat(ok(m.translate(VA, Access.WRITE, 2)).pa()).isEqualTo(0x8000_1234L);
        assertThat(ok(m.translate(VA, Access.EXECUTE, 2)).pa()).isEqualTo(0x8000_1234L);
        // AP[2] = 1: read-only. Bit 54: not executable.
        build(AF | ISH | AP_RO | XN);
        m = el2(TCR_EL2, new Tlb(16, 4));
        assertThat(ok(m.translate(VA, Access.READ, 2)).pa()).isEqualTo(0x8000_1234L);
        assertFault(m.translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 2);
        assertFault(m.translate(VA, Access.EXECUTE, 2), FaultType.PERMISSION, 2);
        // The same descriptors in EL1&0: AP 0b01 makes EL1 non-executable (EL0-writable implies PXN).
        build(AF | ISH | AP_EL0_RW);
        var el1 = new Mmu(new TranslationRegime(new Registers(25 | 1L << 23 | 0b010L << 32, L1, 0, 0xFF, 1, false),
                PA52), memory, new Tlb(16, 4));
        assertFault(el1.translate(VA, Access.EXECUTE, 1), FaultType.PERMISSION, 2);
    }

    @Test
    void xnTableAppliesAtEl2AndPxnTableDoesNot() {
        build(AF | ISH);
        memory.writeLong(L1 + 8, L2 | TABLE | 1L << 59);            // PXNTable: RES0 at EL2
        assertThat(el2(TCR_EL2, new Tlb(16, 4)).translate(VA, Access.EXECUTE, 2)).isInstanceOf(Translation.Translated.class);
        memory.writeLong(L1 + 8, L2 | TABLE | 1L << 60);            // XNTable
        assertFault(el2(TCR_EL2, new Tlb(16, 4)).translate(VA, Access.EXECUTE, 2), FaultType.PERMISSION, 2);
        // With TCR_EL2.HPD the table's XNTable is ignored.
        assertThat(el2(TCR_EL2 | HPD, new Tlb(16, 4)).translate(VA, Access.EXECUTE, 2))
                .isInstanceOf(Translation.Translated.class);
        // APTable[1] (bit 62): read-only below.
        memory.writeLong(L1 + 8, L2 | TABLE | 1L << 62);
        assertFault(el2(TCR_EL2, new Tlb(16, 4)).translate(VA, Access.WRITE, 2), FaultType.PERMISSION, 2);
    }

    @Test
    void el2HasNoAsidsSoNgEntriesAreGlobalAndTbiIgnoresTheTopByte() {
        build(AF | ISH | NG);
        Mmu m = el2(TCR_EL2 | TBI, new Tlb(16, 4));
        assertThat(ok(m.translate(VA, Access.READ, 2)).global()).isTrue();
        assertThat(ok(m.translate(0x5A00_0000_4000_1234L, Access.READ, 2)).pa()).isEqualTo(0x8000_1234L);
        // Without TBI the tagged VA is outside the 39-bit range: level 0 translation fault.
        assertFault(el2(TCR_EL2, new Tlb(16, 4)).translate(0x5A00_0000_4000_1234L, Access.READ, 2),
                FaultType.TRANSLATION, 0);
        // A VA in what would be the TTBR1 range: there is none at EL2.
        assertFault(m.translate(0xFFFF_FFFF_C000_0000L, Access.READ, 2), FaultType.TRANSLATION, 0);
    }

    @Test
    void el20UsesTheEl1LayoutBothRangesAndAsids() {
        // TCR_EL2 with E2H = 1 in the TCR_EL1 layout: T0SZ 25, T1SZ 25 [21:16], TG1 4K (0b10) [31:30],
        // IPS 40 bits [34:32], AS 16-bit ASIDs [36]. TTBR1_EL2 walks the same tables for the upper range.
        long tcr = 25 | 25L << 16 | 0b10L << 30 | 0b010L << 32 | 1L << 36;
        build(AF | ISH | AP_EL0_RW | NG);
        var regs = new Registers(tcr, L1 | 0x1234L << 48, L1, 0xFF, 1, false);
        Mmu m = new Mmu(TranslationRegime.el20(regs, PA52), memory, new Tlb(16, 4));
        assertThat(m.regime().asid()).as("16-bit ASID from TTBR0_EL2").isEqualTo(0x1234);
        var t = ok(m.translate(VA, Access.WRITE, 0));
        assertThat(t.pa()).isEqualTo(0x8000_1234L);
        assertThat(t.global()).isFalse();
        // EL0-writable implies PXN at EL2 in the two-range regime.
        assertFault(m.translate(VA, Access.EXECUTE, 2), FaultType.PERMISSION, 2);
        // The upper range: VA 0xFFFF_FF80_4000_1234 (bits [63:39] all ones; VA[38:30] = 1).
        assertThat(ok(m.translate(0xFFFF_FF80_4000_1234L, Access.READ, 2)).pa()).isEqualTo(0x8000_1234L);
        // PSTATE.PAN at EL2 (E2H = 1) forbids EL2 data accesses to EL0-accessible memory.
        var pan = new Mmu(TranslationRegime.el20(new Registers(tcr, L1, L1, 0xFF, 1, true), PA52), memory, new Tlb(16, 4));
        assertFault(pan.translate(VA, Access.READ, 2), FaultType.PERMISSION, 2);
    }

    @Test
    void eachRegimeHasItsOwnTlbEntriesAndTlbiVae2ReachesOnlyEl2() {
        build(AF | ISH);
        Tlb tlb = new Tlb(16, 4);
        Mmu el2 = el2(TCR_EL2, tlb);
        var el1 = new Mmu(new TranslationRegime(new Registers(25 | 1L << 23 | 0b010L << 32, L1, 0, 0xFF, 1, false),
                PA52), memory, tlb);
        assertThat(el2.outputAddress(VA, Access.READ, 2)).isEqualTo(0x8000_1234L);
        // The block moves: EL1&0 has no entry and walks; EL2 still hits its own.
        memory.writeLong(L2, 0x9000_0000L | AF | ISH | BLOCK);
        assertThat(el1.outputAddress(VA, Access.READ, 1)).isEqualTo(0x9000_1234L);
        assertThat(el2.outputAddress(VA, Access.READ, 2)).isEqualTo(0x8000_1234L);
        tlb.invalidateVa(VA, 0, 0);                                 // TLBI VAE1 (VMID 0)
        assertThat(el2.outputAddress(VA, Access.READ, 2)).isEqualTo(0x8000_1234L);
        tlb.invalidateVa(VA, 0, Tlb.EL2);                           // TLBI VAE2
        assertThat(el2.outputAddress(VA, Access.READ, 2)).isEqualTo(0x9000_1234L);
        assertThat(el1.outputAddress(VA, Access.READ, 1)).isEqualTo(0x9000_1234L);  // walked again after VAE1
        memory.writeLong(L2, 0xA000_0000L | AF | ISH | BLOCK);
        tlb.invalidateEl2();                                        // TLBI ALLE2
        assertThat(el2.outputAddress(VA, Access.READ, 2)).isEqualTo(0xA000_1234L);
        assertThat(el1.outputAddress(VA, Access.READ, 1)).as("EL1&0 entry kept").isEqualTo(0x9000_1234L);
    }

    @Test
    void anAccessFromAnExceptionLevelTheRegimeDoesNotServeIsAProgrammingError() {
        build(AF | ISH);
        assertThatThrownBy(() -> el2(TCR_EL2, new Tlb(16, 4)).translate(VA, Access.READ, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
