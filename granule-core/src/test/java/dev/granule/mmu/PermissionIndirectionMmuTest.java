package dev.granule.mmu;

import dev.granule.format.Attributes;
import dev.granule.format.PermissionIndirection;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.CpuPreset;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.VaRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.granule.mmu.LinuxPieProtectionsTest.PAGE_EXECONLY;
import static dev.granule.mmu.LinuxPieProtectionsTest.PAGE_KERNEL;
import static dev.granule.mmu.LinuxPieProtectionsTest.PAGE_KERNEL_RO;
import static dev.granule.mmu.LinuxPieProtectionsTest.PAGE_KERNEL_ROX;
import static dev.granule.mmu.LinuxPieProtectionsTest.PAGE_READONLY_EXEC;
import static dev.granule.mmu.LinuxPieProtectionsTest.PAGE_SHARED;
import static dev.granule.mmu.LinuxPieProtectionsTest.PTE_RDONLY;
import static dev.granule.mmu.MmuTest.assertFault;
import static dev.granule.mmu.MmuTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * FEAT_S1PIE and FEAT_S1POE through {@link Mmu#translate}: leaf descriptors written by hand, register
 * values built from the Arm ARM's encodings (PIR_EL1/PIRE0_EL1 Perm&lt;m&gt;: 0b0001 R, 0b0010 X,
 * 0b0011 RX, 0b0101 RW, 0b0110 RWX with WXN, 0b0111 RWX, all "overlay applied"; 0b1000 R, 0b1100
 * RW "overlay not applied"; POR_ELx Perm&lt;m&gt;: bit 0 R, bit 1 X, bit 2 W). PIIndex of a
 * VMSAv8-64 leaf is UXN[54]:PXN[53]:DBM[51]:AP[1][6], POIndex is bits [62:60], nDirty is bit 7.
 * No executable oracle: QEMU 10 has neither feature.
 */
class PermissionIndirectionMmuTest {

    // TCR_EL1: 4K/48-bit TTBR0 (T0SZ 16, IPS 0b101), EPD1; HA [39], HD [40].
    static final long TCR = 16 | (0b101L << 32) | 1L << 23, HA = 1L << 39, HD = 1L << 40;
    static final long SCTLR_M = 1, SCTLR_WXN = 1L << 19;
    static final long PIE = IndirectPermissions.TCR2_PIE, POE = IndirectPermissions.TCR2_POE,
            E0POE = IndirectPermissions.TCR2_E0POE;
    static final long VA = 0x40_0000_1000L, PA = 0x8000_5000L;
    // A valid page: type 0b11, AF, SH = Inner Shareable, AttrIndx 0.
    static final long PAGE = 0b11 | 1L << 10 | 0b11L << 8;
    static final long AP1 = 1L << 6, DBM = 1L << 51, PXN = 1L << 53, UXN = 1L << 54;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 40));
    final FrameAllocator frames = FrameAllocator.over(memory, 4096, new MemoryRange(1L << 36, 1L << 24));
    final AddressSpace space = AddressSpace.create(Geometry.FOUR_K_48, memory, frames, VaRange.LOWER);
    Tlb tlb = new Tlb(64, 4);

    @AfterEach
    void close() { memory.close(); }

    /** Perm&lt;m&gt; = values[m] for m = 0.., the rest 0 (no access). */
    static long perms(int... values) {
        long r = 0;
        for (int m = 0; m < values.length; m++) r |= (long) values[m] << (4 * m);
        return r;
    }

    /** PIIndex {@code pi} as descriptor bits. */
    static long piIndex(int pi) {
        return ((pi >> 3 & 1L) << 54) | ((pi >> 2 & 1L) << 53) | ((pi >> 1 & 1L) << 51) | ((pi & 1L) << 6);
    }

    static long poIndex(int po) { return (long) po << 60; }

    private long pte = -1;

    /** Maps VA (once), then overwrites its level-3 descriptor with {@code PA | bits}. */
    long leaf(long bits) {
        if (pte != -1) {
            memory.writeLong(pte, PA | bits);
            return pte;
        }
        space.map(VA, PA, 0x1000, Attributes.kernelData());
        long table = space.root();
        for (int level = 0; level < 3; level++) {
            table = memory.readLong(table + ((VA >>> (39 - 9 * level)) & 511) * 8) & 0x0000_FFFF_FFFF_F000L;
        }
        pte = table + ((VA >>> 12) & 511) * 8;
        memory.writeLong(pte, PA | bits);
        return pte;
    }

    Mmu mmu(long tcr, long sctlr, boolean pan, PermissionRegisters p, CpuFeatures cpu) {
        Registers r = new Registers(tcr, space.root(), 0, 0xFF, sctlr, pan);
        return new Mmu(new TranslationRegime(r, p, cpu), memory, tlb);
    }

    Mmu mmu(boolean pan, PermissionRegisters p) { return mmu(TCR, SCTLR_M, pan, p, CpuFeatures.ALL); }

    static PermissionRegisters pie(long pir, long pire0) { return new PermissionRegisters(PIE, pir, pire0, 0, 0); }

    /** Translates once, then again from the TLB: both must agree (the hit path keeps the rights). */
    static boolean allowed(Mmu m, Access access, int el) {
        boolean walked = m.translate(VA, access, el) instanceof Translation.Translated;
        boolean hit = m.translate(VA, access, el) instanceof Translation.Translated;
        assertThat(hit).as("TLB hit agrees with the walk for %s at EL%d", access, el).isEqualTo(walked);
        assertThat(m.outputAddress(VA, access, el) != -1).as("outputAddress, %s at EL%d", access, el).isEqualTo(walked);
        return walked;
    }

    /** "RWX" at EL1 and EL0 as the MMU grants them. */
    static String rights(Mmu m, int el) {
        return (allowed(m, Access.READ, el) ? "R" : "-") + (allowed(m, Access.WRITE, el) ? "W" : "-")
                + (allowed(m, Access.EXECUTE, el) ? "X" : "-");
    }

    void expect(long descriptor, PermissionRegisters p, boolean pan, String el1, String el0) {
        leaf(descriptor);
        tlb.invalidateAll();
        Mmu m = mmu(pan, p);
        assertThat(rights(m, 1) + " " + rights(m, 0)).as("descriptor 0x%x, PAN %s", descriptor, pan).isEqualTo(el1 + " " + el0);
    }

    @Test
    void linuxPageProtectionsUnderItsOwnPirValues() {
        // PIE_E1 / PIE_E0 from arch/arm64/include/asm/pgtable-prot.h (pinned in PermissionIndirectionTest).
        var linux = pie(PermissionIndirection.LINUX.pir(), PermissionIndirection.LINUX.pire0());
        long dirty = ~PTE_RDONLY;  // pte_mkdirty clears PTE_RDONLY: nDirty = 0
        expect(PAGE_KERNEL, linux, false, "RW-", "---");
        expect(PAGE_KERNEL_RO, linux, false, "R--", "---");
        expect(PAGE_KERNEL_ROX, linux, false, "R-X", "---");
        expect(PAGE_SHARED & dirty, linux, false, "RW-", "RW-");
        expect(PAGE_SHARED & dirty, linux, true, "---", "RW-");  // PAN: uaccess needs PSTATE.PAN = 0
        expect(PAGE_READONLY_EXEC, linux, false, "R--", "R-X");
        // Execute-only: EL0 may only fetch, the kernel has no access at all.
        expect(PAGE_EXECONLY, linux, false, "---", "--X");
        // A clean PAGE_SHARED (PTE_RDONLY set) is not writable without the hardware dirty update.
        expect(PAGE_SHARED, linux, false, "R--", "R--");
    }

    @Test
    void apBitsAndTablePermissionsPlayNoPart() {
        // PIIndex 3 (DBM, AP[1]): EL1 RW, EL0 RW by the registers; AP[2:1] = 0b01 would say the same,
        // but APTable = 0b11 (no EL0 access, no writes) and UXNTable/PXNTable on the level-0 entry
        // would take everything away from EL0 and the write from EL1 in the direct model.
        long l0 = space.root();
        leaf(PAGE | piIndex(3));
        memory.writeLong(l0, memory.readLong(l0) | 0b11L << 61 | 1L << 60 | 1L << 59);
        // PIR_EL1 Perm3 = 0b0101 (RW), PIRE0_EL1 Perm3 = 0b0111 (RWX).
        Mmu m = mmu(false, pie(perms(0, 0, 0, 0b0101), perms(0, 0, 0, 0b0111)));
        assertThat(rights(m, 1) + " " + rights(m, 0)).isEqualTo("RW- RWX");
        // The same descriptor without PIE: AP = 0b01 under APTable 0b11 and XNTable: EL1 read-only, EL0 nothing.
        Mmu direct = mmu(false, PermissionRegisters.NONE);
        tlb.invalidateAll();
        assertThat(rights(direct, 1) + " " + rights(direct, 0)).isEqualTo("R-- ---");
    }

    @Test
    void executableAtEl1AndWritableAtEl0GrantsNothing() {
        // Perm1 = 0b0111 at both: EL1 executable and EL0 writable, so neither level keeps anything.
        expect(PAGE | piIndex(1), pie(perms(0, 0b0111), perms(0, 0b0111)), false, "---", "---");
        expect(PAGE | piIndex(1), pie(perms(0, 0b0011), perms(0, 0b0111)), false, "---", "---");
        expect(PAGE | piIndex(1), pie(perms(0, 0b0101), perms(0, 0b0111)), false, "RW-", "RWX");
    }

    @Test
    void nDirtyFaultsAWriteUnlessHardwareDirtyStateClearsIt() {
        // PIIndex 2 (DBM alone) with Perm2 = 0b0101 (RW) at EL1; nDirty (bit 7) = 1.
        var regs = pie(perms(0, 0, 0b0101), 0);
        long pte = leaf(PAGE | piIndex(2) | 1L << 7);
        Mmu noHd = mmu(TCR | HA, SCTLR_M, false, regs, CpuFeatures.ALL);
        assertFault(noHd.translate(VA, Access.WRITE, 1), FaultType.PERMISSION, 3);
        assertThat(((Translation.Fault) noHd.translate(VA, Access.WRITE, 1)).detail()).contains("nDirty");
        ok(noHd.translate(VA, Access.READ, 1));
        // HA and HD: the write clears nDirty in table memory; the read cached just before does not
        // make the page writable (the write walks again).
        Mmu hd = mmu(TCR | HA | HD, SCTLR_M, false, regs, CpuFeatures.ALL);
        ok(hd.translate(VA, Access.WRITE, 1));
        assertThat(memory.readLong(pte) & 1L << 7).as("nDirty cleared").isZero();
        ok(hd.translate(VA, Access.WRITE, 1));
        // No DBM needed under PIE: PIIndex 0 with Perm0 = 0b0101 also gets the dirty update.
        memory.writeLong(pte, PA | PAGE | piIndex(0) | 1L << 7);
        tlb.invalidateAll();
        ok(mmu(TCR | HA | HD, SCTLR_M, false, pie(perms(0b0101), 0), CpuFeatures.ALL).translate(VA, Access.WRITE, 1));
        assertThat(memory.readLong(pte) & 1L << 7).isZero();
        // A read-only value is not made writable by the dirty update: the write still faults, nDirty stays.
        memory.writeLong(pte, PA | PAGE | piIndex(0) | 1L << 7);
        tlb.invalidateAll();
        assertFault(mmu(TCR | HA | HD, SCTLR_M, false, pie(perms(0b0001), 0), CpuFeatures.ALL)
                .translate(VA, Access.WRITE, 1), FaultType.PERMISSION, 3);
        assertThat(memory.readLong(pte) & 1L << 7).isNotZero();
    }

    @Test
    void wxnIsAPirValueAndSctlrWxnIsIgnored() {
        // Perm0 = 0b0110: read, write, execute with WXN: without an overlay the execute right goes.
        leaf(PAGE | piIndex(0));
        Mmu wxn = mmu(TCR, SCTLR_M, false, pie(perms(0b0110), 0), CpuFeatures.ALL);
        assertThat(rights(wxn, 1)).isEqualTo("RW-");
        // With POE and POR_EL1 Perm0 = 0b0111 (RWX): execute is granted and the write goes instead.
        tlb.invalidateAll();
        Mmu overlaid = mmu(TCR, SCTLR_M, false, new PermissionRegisters(PIE | POE, perms(0b0110), 0, perms(0b0111), 0),
                CpuFeatures.ALL);
        assertThat(rights(overlaid, 1)).isEqualTo("R-X");
        // POR_EL1 Perm0 = 0b0101 (RW, no execute): the overlay takes execute, WXN then has nothing to take.
        tlb.invalidateAll();
        Mmu rw = mmu(TCR, SCTLR_M, false, new PermissionRegisters(PIE | POE, perms(0b0110), 0, perms(0b0101), 0),
                CpuFeatures.ALL);
        assertThat(rights(rw, 1)).isEqualTo("RW-");
        // Perm0 = 0b0111 (RWX) under SCTLR_EL1.WXN = 1: PIE ignores SCTLR_EL1.WXN.
        tlb.invalidateAll();
        assertThat(rights(mmu(TCR, SCTLR_M | SCTLR_WXN, false, pie(perms(0b0111), 0), CpuFeatures.ALL), 1)).isEqualTo("RWX");
    }

    @Test
    void panProtectsEveryPageWithAnEl0PermissionEvenExecuteOnly() {
        // PIRE0 Perm4 = 0b0010 (execute only), PIR Perm4 = 0b0001 (read).
        var regs = pie(perms(0, 0, 0, 0, 0b0001), perms(0, 0, 0, 0, 0b0010));
        expect(PAGE | piIndex(4), regs, false, "R--", "--X");
        expect(PAGE | piIndex(4), regs, true, "---", "--X");
        // PIRE0 Perm4 = 0 (no EL0 access): PAN does not apply.
        expect(PAGE | piIndex(4), pie(perms(0, 0, 0, 0, 0b0011), 0), true, "R-X", "---");
        // PAN is read on every TLB hit: cached without PAN, a PAN = 1 MMU on the same TLB still faults.
        leaf(PAGE | piIndex(4));
        tlb.invalidateAll();
        ok(mmu(false, regs).translate(VA, Access.READ, 1));
        long hits = tlb.hits();
        Mmu withPan = mmu(true, regs);
        assertFault(withPan.translate(VA, Access.READ, 1), FaultType.PERMISSION, 3);
        assertThat(withPan.outputAddress(VA, Access.READ, 1)).isEqualTo(-1);
        assertThat(tlb.hits()).as("the entry was found, and PAN denied it").isGreaterThan(hits);
    }

    @Test
    void overlaysNarrowTheValuesThatAllowThem() {
        // PIR/PIRE0 Perm5 = 0b0101 (RW, overlay applied), Perm6 = 0b1100 (RW, overlay not applied).
        // POR_EL0 Perm2 = 0b0001 (read only), POR_EL1 Perm2 = 0b0000 (nothing); POIndex 2.
        var regs = new PermissionRegisters(PIE | POE | E0POE, perms(0, 0, 0, 0, 0, 0b0101, 0b1100),
                perms(0, 0, 0, 0, 0, 0b0101, 0b1100), 0, perms(0, 0, 0b0001));
        expect(PAGE | piIndex(5) | poIndex(2), regs, false, "---", "R--");
        expect(PAGE | piIndex(6) | poIndex(2), regs, false, "RW-", "RW-");
        // POIndex 0: POR Perm0 = 0 at both levels.
        expect(PAGE | piIndex(5) | poIndex(0), regs, false, "---", "---");
        // E0POE alone: EL1 keeps its base rights.
        var e0only = new PermissionRegisters(PIE | E0POE, regs.pir(), regs.pire0(), 0, perms(0, 0, 0b0001));
        expect(PAGE | piIndex(5) | poIndex(2), e0only, false, "RW-", "R--");
        // PAN looks at PIRE0's value, not at what POR_EL0 leaves: an overlay of nothing does not lift it.
        var none = new PermissionRegisters(PIE | E0POE, regs.pir(), regs.pire0(), 0, 0);
        expect(PAGE | piIndex(5) | poIndex(2), none, true, "---", "---");
    }

    @Test
    void overlaysWithoutPieNarrowTheDirectRights() {
        // AP[2:1] = 0b01 (EL1 RW, EL0 RW), UXN = 0, PXN = 1; POIndex 3; POR_EL0 Perm3 = 0b0011 (RX).
        long d = PAGE | AP1 | PXN | poIndex(3);
        var regs = new PermissionRegisters(E0POE, 0, 0, 0, perms(0, 0, 0, 0b0011));
        expect(d, regs, false, "RW-", "R-X");
        // APTable is ignored under POE (rule R_BVXDG): APTable[0] would deny EL0 everything.
        long l0 = space.root();
        memory.writeLong(l0, memory.readLong(l0) | 0b01L << 61);
        tlb.invalidateAll();
        Mmu m = mmu(false, regs);
        assertThat(rights(m, 1) + " " + rights(m, 0)).isEqualTo("RW- R-X");
        // PAN is decided on the base rights: EL0 may read, so PAN denies EL1 even where POR_EL0 gives nothing.
        expect(d, new PermissionRegisters(E0POE, 0, 0, 0, 0), true, "---", "---");
    }

    @Test
    void porIsReadOnEveryHitWhilePirIsCachedUntilTlbi() {
        // PIRE0 Perm5 = 0b0101 (RW, overlay applied); POIndex 1.
        leaf(PAGE | piIndex(5) | poIndex(1));
        long pire0 = perms(0, 0, 0, 0, 0, 0b0101);
        Mmu readOnly = mmu(false, new PermissionRegisters(PIE | E0POE, 0, pire0, 0, perms(0, 0b0001)));
        assertFault(readOnly.translate(VA, Access.WRITE, 0), FaultType.PERMISSION, 3);
        ok(readOnly.translate(VA, Access.READ, 0));
        // POR_EL0 changes (a context switch, ISB only): the cached entry takes the new overlay at once.
        long hits = tlb.hits();
        Mmu readWrite = mmu(false, new PermissionRegisters(PIE | E0POE, 0, pire0, 0, perms(0, 0b0101)));
        ok(readWrite.translate(VA, Access.WRITE, 0));
        assertThat(readWrite.outputAddress(VA, Access.WRITE, 0)).isEqualTo(PA);
        assertThat(tlb.hits()).as("served from the TLB").isEqualTo(hits + 2);
        // PIRE0 changes: the Arm ARM lets a TLB keep it, and this one does until TLBI.
        Mmu noEl0 = mmu(false, new PermissionRegisters(PIE | E0POE, 0, 0, 0, perms(0, 0b0101)));
        ok(noEl0.translate(VA, Access.READ, 0));
        tlb.invalidateVa(VA, 0);
        assertFault(noEl0.translate(VA, Access.READ, 0), FaultType.PERMISSION, 3);
    }

    @Test
    void aCpuWithoutS1pieOrS1poeIgnoresTcr2() {
        // QEMU 10's -cpu max: ID_AA64MMFR3_EL1 = 0x1000000000000000 (no TCR2, S1PIE, S1POE).
        long d = PAGE | AP1 | UXN;  // AP[2:1] = 0b01: EL1 RW-, EL0 RW-, PXN implied (EL0 writable)
        var regs = new PermissionRegisters(PIE | POE | E0POE, 0, 0, 0, 0);
        leaf(d);
        Mmu qemu = mmu(TCR, SCTLR_M, false, regs, CpuPreset.QEMU_MAX.features());
        assertThat(rights(qemu, 1) + " " + rights(qemu, 0)).isEqualTo("RW- RW-");
        assertThat(qemu.regime().permissionIndirection()).isFalse();
        assertThat(qemu.regime().permissionOverlays()).isFalse();
        tlb.invalidateAll();
        Mmu all = mmu(false, regs);
        assertThat(rights(all, 1) + " " + rights(all, 0)).as("PIR/PIRE0 = 0: no access").isEqualTo("--- ---");
    }
}
