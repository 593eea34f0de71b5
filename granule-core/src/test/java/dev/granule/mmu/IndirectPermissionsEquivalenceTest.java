package dev.granule.mmu;

import dev.granule.format.Attributes;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.VaRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.IndirectPermissionsTest.describe;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PIE programmed to emulate the direct AP/UXN/PXN model gives the rights the direct model gives —
 * checked against the existing direct computation by translating real descriptors with {@link Mmu}
 * (PIE off), for every {AP[2], AP[1], UXN, PXN} and both DBM values; and where it cannot, the
 * difference is pinned.
 *
 * <p>The emulating registers, built by hand from the Arm ARM's AP table (D8.4.1.2): PIIndex is
 * UXN:PXN:DBM:AP[1] and holds no AP[2], which PIE reads as nDirty — a write to an nDirty location
 * faults (without HA+HD), exactly as AP[2]=1 makes a page read-only at both levels. So each index
 * is given the rights of AP[2]=0, and DBM is ignored (both DBM values get the same rights):
 * <pre>
 *   AP[1]=0 (EL1 only):  EL1 RW, plus X unless PXN (0b1110 / 0b1100); EL0 X unless UXN (0b0010 / 0)
 *   AP[1]=1 (EL0 too):   EL1 RW, never X: EL0-writable memory is not EL1-executable (0b1100);
 *                        EL0 RW, plus X unless UXN (0b1110 / 0b1100)
 *   index  F E D C B A 9 8 7 6 5 4 3 2 1 0
 *   PIR    C C C C C E C E C C C C C E C E   = 0xCCCCCECECCCCCECE
 *   PIRE0  C 0 C 0 C 0 C 0 E 2 E 2 E 2 E 2   = 0xC0C0C0C0E2E2E2E2
 * </pre>
 */
class IndirectPermissionsEquivalenceTest {

    static final long PIR = 0xCCCC_CECE_CCCC_CECEL, PIRE0 = 0xC0C0_C0C0_E2E2_E2E2L;
    static final IndirectPermissions EMULATION = IndirectPermissions.of(IndirectPermissions.TCR2_PIE, PIR, PIRE0, 0, 0);

    // TCR_EL1 4K/48-bit TTBR0, EPD1; SCTLR_EL1.M; MAIR Attr0 normal.
    static final long TCR = 16 | (0b101L << 32) | 1L << 23, HA = 1L << 39, HD = 1L << 40;
    static final long VA = 0x40_0000_1000L;
    static final long AP1 = 1L << 6, AP2 = 1L << 7, DBM = 1L << 51, PXN = 1L << 53, UXN = 1L << 54;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 40));
    final FrameAllocator frames = FrameAllocator.over(memory, 4096, new MemoryRange(1L << 36, 1L << 24));
    final AddressSpace space = AddressSpace.create(Geometry.FOUR_K_48, memory, frames, VaRange.LOWER);

    @AfterEach
    void close() { memory.close(); }

    long pte() {
        long table = space.root();
        for (int level = 0; level < 3; level++) {
            table = memory.readLong(table + ((VA >>> (39 - 9 * level)) & 511) * 8) & 0x0000_FFFF_FFFF_F000L;
        }
        return table + ((VA >>> 12) & 511) * 8;
    }

    /** The rights the direct model grants {@code bits}, found by translating every access at both levels. */
    int direct(long bits, long tcrExtra, boolean pan) {
        return direct(bits, tcrExtra, 1, pan);
    }

    int direct(long bits, long tcrExtra, long sctlr, boolean pan) {
        long pte = pte();
        long d = memory.readLong(pte) & ~(AP1 | AP2 | DBM | PXN | UXN) | bits;
        int perms = 0;
        for (int el = 0; el < 2; el++) {
            for (Access access : Access.values()) {
                memory.writeLong(pte, d); // a hardware dirty update of an earlier probe must not leak
                Mmu mmu = new Mmu(new TranslationRegime(new Registers(TCR | tcrExtra, space.root(), 0, 0xFF, sctlr, pan),
                        CpuFeatures.ALL), memory, new Tlb(16, 4));
                if (mmu.translate(VA, access, el) instanceof Translation.Translated) {
                    perms |= Tlb.R0 << (access.ordinal() + 3 * el);
                }
            }
        }
        return perms;
    }

    static long bits(int ap2, int ap1, int uxn, int pxn, int dbm) {
        return (ap2 == 1 ? AP2 : 0) | (ap1 == 1 ? AP1 : 0) | (uxn == 1 ? UXN : 0) | (pxn == 1 ? PXN : 0)
                | (dbm == 1 ? DBM : 0);
    }

    static int emulated(long bits, boolean hardwareDirty, boolean pan) {
        return IndirectPermissions.withDirtyState(EMULATION.ofVmsa64(bits, pan), bits, hardwareDirty);
    }

    @Test
    void everyDirectCombinationButOneGivesTheSameRights() {
        space.map(VA, 0x8000_0000L, 0x1000, Attributes.kernelData());
        for (int ap2 = 0; ap2 < 2; ap2++) for (int ap1 = 0; ap1 < 2; ap1++)
            for (int uxn = 0; uxn < 2; uxn++) for (int pxn = 0; pxn < 2; pxn++) for (int dbm = 0; dbm < 2; dbm++) {
                long b = bits(ap2, ap1, uxn, pxn, dbm);
                int direct = direct(b, 0, false);
                int pie = emulated(b, false, false);
                String what = String.format("AP[2:1]=%d%d UXN=%d PXN=%d DBM=%d", ap2, ap1, uxn, pxn, dbm);
                if (ap2 == 1 && ap1 == 1 && pxn == 0) {
                    // Read-only at both levels, EL1-executable in the direct model (nothing is
                    // EL0-writable); the index cannot tell it from AP=01 (EL0-writable, never
                    // EL1-executable) because AP[2] is not part of it: PIE loses EL1 execute.
                    assertThat(describe(pie | Tlb.X1)).as(what).isEqualTo(describe(direct));
                    assertThat(pie & Tlb.X1).as(what).isZero();
                } else {
                    assertThat(describe(pie)).as(what).isEqualTo(describe(direct));
                }
            }
    }

    @Test
    void dbmMeansWritableCleanInTheDirectModelAndNothingButAnIndexBitUnderPie() {
        space.map(VA, 0x8000_0000L, 0x1000, Attributes.kernelData());
        // With HA+HD, a direct-model write to AP[2]=1 succeeds only if DBM=1 (the hardware then
        // clears AP[2]); under PIE every nDirty location is writable-clean when its index grants
        // write, DBM or not. PIR cannot recover the difference: DBM's two indices get one value
        // here, and AP[2] (the only bit telling read-only from clean) is nDirty itself.
        long readOnlyNoDbm = bits(1, 0, 1, 1, 0);
        assertThat(direct(readOnlyNoDbm, HA | HD, false) & Tlb.W1).isZero();
        assertThat(emulated(readOnlyNoDbm, true, false) & Tlb.W1).isNotZero();
        long cleanWithDbm = bits(1, 0, 1, 1, 1);
        assertThat(direct(cleanWithDbm, HA | HD, false) & Tlb.W1).isNotZero();
        assertThat(emulated(cleanWithDbm, true, false) & Tlb.W1).isNotZero();
    }

    @Test
    void panUnderPieAlsoProtectsExecuteOnlyUserMemory() {
        space.map(VA, 0x8000_0000L, 0x1000, Attributes.kernelData());
        // AP=00 with UXN=0 is EL1 data that EL0 may execute. The direct model's PAN (without
        // FEAT_PAN3's EPAN, as Mmu models it) looks only at EL0 read/write, so EL1 still reads it;
        // PIE's PAN looks at PIRE0's value (0b0010 here), so EL1 loses read and write.
        long execOnly = bits(0, 0, 0, 1, 0);
        assertThat(direct(execOnly, 0, true) & Tlb.R1).isNotZero();
        assertThat(emulated(execOnly, false, true) & (Tlb.R1 | Tlb.W1)).isZero();
        // Where EL0 has nothing (UXN=1), both leave EL1 alone; where EL0 reads, both take EL1's data rights.
        long kernelOnly = bits(0, 0, 1, 1, 0);
        assertThat(describe(emulated(kernelOnly, false, true))).isEqualTo(describe(direct(kernelOnly, 0, true)));
        long userData = bits(0, 1, 1, 1, 0);
        assertThat(describe(emulated(userData, false, true))).isEqualTo(describe(direct(userData, 0, true)));
    }

    @Test
    void directPermissionsWithoutOverlaysAreMmusOwn() {
        // IndirectPermissions.direct with POE and E0POE off against Mmu's direct model, through
        // translations: every AP[2:1], UXN, PXN, SCTLR_EL1.WXN and PSTATE.PAN (no EPAN, as Mmu).
        space.map(VA, 0x8000_0000L, 0x1000, Attributes.kernelData());
        IndirectPermissions noOverlays = IndirectPermissions.of(0, 0, 0, 0, 0);
        for (int ap = 0; ap < 4; ap++) for (int uxn = 0; uxn < 2; uxn++) for (int pxn = 0; pxn < 2; pxn++)
            for (int wxn = 0; wxn < 2; wxn++) for (int pan = 0; pan < 2; pan++) {
                long b = bits(ap >> 1, ap & 1, uxn, pxn, 0);
                int mmu = direct(b, 0, 1 | (long) wxn << 19, pan == 1);
                int ours = noOverlays.direct(ap, uxn == 1, pxn == 1, wxn == 1, false, 0, pan == 1);
                assertThat(describe(ours)).as("AP=%d UXN=%d PXN=%d WXN=%d PAN=%d", ap, uxn, pxn, wxn, pan)
                        .isEqualTo(describe(mmu));
            }
    }
}
