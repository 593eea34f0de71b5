package dev.granule.mmu;

import dev.granule.format.Attributes;
import dev.granule.format.Shareability;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.VaRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Translation from register values. Register encodings and expected outcomes are worked out from
 * the Arm ARM (TCR_EL1 fields; D8 translation, fault priorities and permission tables) in comments;
 * tables are built with the engine, or patched by hand where it would refuse (AF=0, APTable).
 */
class MmuTest {

    // TCR_EL1 for 4K/48-bit TTBR0: T0SZ=16 [5:0], TG0=0b00 (4K) [15:14], IPS=0b101 (48 bits) [34:32].
    static final long TCR_4K_48 = 16 | (0b101L << 32);
    static final long EPD1 = 1L << 23;
    static final long HA = 1L << 39, HD = 1L << 40, HPD0 = 1L << 41;
    // MAIR: Attr0 = 0xFF (Normal, write-back), Attr4 = 0x04 (Device-nGnRE): Linux's MT_NORMAL, MT_DEVICE_nGnRE.
    static final long MAIR = 0xFFL | (0x04L << 32);
    static final long SCTLR_M = 1, SCTLR_WXN = 1L << 19;

    final SparseMemory memory = SparseMemory.of(new MemoryRange(0, 1L << 40));
    final FrameAllocator frames = FrameAllocator.over(memory, 4096, new MemoryRange(1L << 36, 1L << 24));
    final AddressSpace space = AddressSpace.create(Geometry.FOUR_K_48, memory, frames, VaRange.LOWER);

    @AfterEach
    void close() { memory.close(); }

    Mmu mmu(long tcr, long sctlr, boolean pan) {
        Registers r = new Registers(tcr | EPD1, space.root(), 0, MAIR, sctlr, pan);
        return new Mmu(new TranslationRegime(r, CpuFeatures.ALL), memory, new Tlb(64, 4));
    }

    Mmu mmu() { return mmu(TCR_4K_48, SCTLR_M, false); }

    static void assertFault(Translation t, FaultType type, int level) {
        assertThat(t).isInstanceOfSatisfying(Translation.Fault.class, f -> {
            assertThat(f.type()).as("fault type of %s", f).isEqualTo(type);
            assertThat(f.level()).as("fault level of %s", f).isEqualTo(level);
        });
    }

    static Translation.Translated ok(Translation t) {
        assertThat(t).isInstanceOf(Translation.Translated.class);
        return (Translation.Translated) t;
    }

    /** Address of the level-3 descriptor for {@code va}, found by reading the tables as hardware does. */
    long pte(long va) {
        long table = space.root();
        for (int level = 0; level < 3; level++) {
            long d = memory.readLong(table + ((va >>> (39 - 9 * level)) & 511) * 8);
            table = d & 0x0000_FFFF_FFFF_F000L;
        }
        return table + ((va >>> 12) & 511) * 8;
    }

    @Test
    void translatesAPageWithItsMemoryAttributes() {
        space.map(0x40_0000_1000L, 0x8000_5000L, 0x1000, Attributes.kernelData());
        var t = ok(mmu().translate(0x40_0000_1abcL, Access.READ, 1));
        assertThat(t.pa()).isEqualTo(0x8000_5abcL);
        assertThat(t.level()).isEqualTo(3);
        assertThat(t.mairAttr()).isEqualTo(0xFF);
        assertThat(t.memoryType()).isEqualTo(MemoryType.NORMAL_CACHEABLE);
        assertThat(t.shareability()).isEqualTo(Shareability.INNER_SHAREABLE);
        assertThat(t.global()).isTrue();
        space.map(0x40_0020_0000L, 0x0900_0000L, 0x20_0000L, Attributes.device());
        var dev = ok(mmu().translate(0x40_0020_0010L, Access.WRITE, 1));
        assertThat(dev.memoryType()).isEqualTo(MemoryType.DEVICE_nGnRE);
        assertThat(dev.level()).as("2 MiB block").isEqualTo(2);
    }

    @Test
    void translationFaultsAtTheLevelWhereTheWalkStops() {
        assertFault(mmu().translate(0x1000, Access.READ, 1), FaultType.TRANSLATION, 0);
        space.map(0x40_0000_1000L, 0x8000_5000L, 0x1000, Attributes.kernelData());
        // Same level-0/1/2 entries, empty level-3 slot.
        assertFault(mmu().translate(0x40_0000_2000L, Access.READ, 1), FaultType.TRANSLATION, 3);
        // Level-0 entry 0 exists; the level-1 entry for 0x40_4000_0000 does not.
        assertFault(mmu().translate(0x40_4000_0000L, Access.READ, 1), FaultType.TRANSLATION, 1);
        // Bits [63:48] not all zero for a TTBR0 address: level 0, no walk.
        assertFault(mmu().translate(1L << 48, Access.READ, 1), FaultType.TRANSLATION, 0);
        // TTBR1 half with EPD1 = 1.
        assertFault(mmu().translate(0xFFFF_0000_0000_0000L, Access.READ, 1), FaultType.TRANSLATION, 0);
    }

    @Test
    void topByteIgnoreAppliesOnlyWhenEnabled() {
        space.map(0x1000, 0x2000, 0x1000, Attributes.kernelData());
        long tagged = 0x5A00_0000_0000_1000L;
        assertFault(mmu().translate(tagged, Access.READ, 1), FaultType.TRANSLATION, 0);
        long tbi0 = 1L << 37;
        assertThat(ok(mmu(TCR_4K_48 | tbi0, SCTLR_M, false).translate(tagged, Access.READ, 1)).pa()).isEqualTo(0x2000);
    }

    @Test
    void accessFlagFaultsOrIsSetByHardware() {
        space.map(0x1000, 0x2000, 0x1000, Attributes.kernelData().withAccessFlag(false));
        assertFault(mmu().translate(0x1000, Access.READ, 1), FaultType.ACCESS_FLAG, 3);
        assertThat(memory.readLong(pte(0x1000)) & (1L << 10)).isZero();
        ok(mmu(TCR_4K_48 | HA, SCTLR_M, false).translate(0x1000, Access.READ, 1));
        assertThat(memory.readLong(pte(0x1000)) & (1L << 10)).as("AF set in table memory").isNotZero();
    }

    @Test
    void permissionFaultsFollowApXnAndPrivilege() {
        space.map(0x1000, 0x1000, 0x1000, Attributes.kernelData());      // AP=00, PXN, UXN
        space.map(0x2000, 0x2000, 0x1000, Attributes.kernelReadOnly());  // AP=10
        space.map(0x3000, 0x3000, 0x1000, Attributes.userData());        // AP=01: EL0 RW
        space.map(0x4000, 0x4000, 0x1000, Attributes.kernelText());      // AP=10, PXN=0
        Mmu m = mmu();
        assertFault(m.translate(0x1000, Access.READ, 0), FaultType.PERMISSION, 3);    // EL0 to EL1-only
        assertFault(m.translate(0x1000, Access.EXECUTE, 1), FaultType.PERMISSION, 3); // PXN
        assertFault(m.translate(0x2000, Access.WRITE, 1), FaultType.PERMISSION, 3);   // read-only
        ok(m.translate(0x3000, Access.WRITE, 0));
        ok(m.translate(0x4000, Access.EXECUTE, 1));
        assertFault(m.translate(0x4000, Access.EXECUTE, 0), FaultType.PERMISSION, 3); // UXN
        // PAN: EL1 data access to EL0-accessible memory faults; instruction fetches are not affected.
        Mmu pan = mmu(TCR_4K_48, SCTLR_M, true);
        assertFault(pan.translate(0x3000, Access.READ, 1), FaultType.PERMISSION, 3);
        ok(pan.translate(0x1000, Access.READ, 1));
    }

    @Test
    void wxnAndTheImpliedPxnOfUserWritableMemory() {
        space.map(0x1000, 0x1000, 0x1000, Attributes.kernelData().withPrivilegedExecuteNever(false));
        space.map(0x2000, 0x2000, 0x1000, Attributes.userData().withPrivilegedExecuteNever(false)
                .withUnprivilegedExecuteNever(false));
        ok(mmu().translate(0x1000, Access.EXECUTE, 1));
        assertFault(mmu(TCR_4K_48, SCTLR_M | SCTLR_WXN, false).translate(0x1000, Access.EXECUTE, 1),
                FaultType.PERMISSION, 3);
        // AP=01 (EL0 writable) is never executable at EL1, PXN or not; EL0 may execute it without WXN.
        assertFault(mmu().translate(0x2000, Access.EXECUTE, 1), FaultType.PERMISSION, 3);
        ok(mmu().translate(0x2000, Access.EXECUTE, 0));
        assertFault(mmu(TCR_4K_48, SCTLR_M | SCTLR_WXN, false).translate(0x2000, Access.EXECUTE, 0),
                FaultType.PERMISSION, 3);
    }

    @Test
    void hierarchicalApTableUnlessHpd() {
        space.map(0x1000, 0x1000, 0x1000, Attributes.userData());
        long l0 = space.root();
        memory.writeLong(l0, memory.readLong(l0) | (0b10L << 61)); // APTable[1]: no writes below
        assertFault(mmu().translate(0x1000, Access.WRITE, 1), FaultType.PERMISSION, 3);
        ok(mmu().translate(0x1000, Access.READ, 0));
        ok(mmu(TCR_4K_48 | HPD0, SCTLR_M, false).translate(0x1000, Access.WRITE, 1));
    }

    @Test
    void hardwareDirtyStateMakesADbmPageWritable() {
        space.map(0x1000, 0x1000, 0x1000, Attributes.kernelReadOnly().withDirtyBitModifier(true));
        assertFault(mmu(TCR_4K_48 | HA, SCTLR_M, false).translate(0x1000, Access.WRITE, 1), FaultType.PERMISSION, 3);
        ok(mmu(TCR_4K_48 | HA | HD, SCTLR_M, false).translate(0x1000, Access.WRITE, 1));
        assertThat(memory.readLong(pte(0x1000)) & (1L << 7)).as("AP[2] cleared: dirty").isZero();
    }

    @Test
    void addressSizeFaults() {
        // IPS = 0b010: 40-bit PA. An output address at 1 TiB is beyond it (level 3).
        long tcr40 = 16 | (0b010L << 32);
        space.map(0x1000, 1L << 40, 0x1000, Attributes.kernelData());
        assertFault(mmu(tcr40, SCTLR_M, false).translate(0x1000, Access.READ, 1), FaultType.ADDRESS_SIZE, 3);
        // IPS = 0b000: 32-bit PA; the tables themselves (at 64 GiB) are beyond it: TTBR, level 0.
        assertFault(mmu(16, SCTLR_M, false).translate(0x1000, Access.READ, 1), FaultType.ADDRESS_SIZE, 0);
    }

    @Test
    void aTableOutsideRamIsAnExternalAbortOnTheWalk() {
        memory.writeLong(space.root(), (1L << 41) | 0b11); // level-0 table descriptor to PA 2 TiB (no RAM)
        assertFault(mmu().translate(0x1000, Access.READ, 1), FaultType.EXTERNAL_ABORT_ON_WALK, 1);
    }

    @Test
    void mmuOffIsAFlatMapping() {
        assertThat(ok(mmu(TCR_4K_48, 0, false).translate(0x1234_5678L, Access.READ, 1)).pa()).isEqualTo(0x1234_5678L);
    }

    @Test
    void staleTlbEntriesLiveUntilTheMatchingTlbi() {
        space.map(0x1000, 0x2000, 0x1000, Attributes.userData()); // nG: tagged with the ASID
        long ttbr0 = space.root() | (5L << 48);                     // ASID 5
        Registers r = new Registers(TCR_4K_48 | EPD1, ttbr0, 0, MAIR, SCTLR_M, false);
        Tlb tlb = new Tlb(64, 4);
        Mmu m = new Mmu(new TranslationRegime(r, CpuFeatures.ALL), memory, tlb);
        assertThat(ok(m.translate(0x1000, Access.READ, 0)).pa()).isEqualTo(0x2000);
        space.unmap(0x1000, 0x1000);
        space.map(0x1000, 0x9000, 0x1000, Attributes.userData());
        assertThat(ok(m.translate(0x1000, Access.READ, 0)).pa()).as("stale until TLBI").isEqualTo(0x2000);
        tlb.invalidateVa(0x1000, 6);
        assertThat(ok(m.translate(0x1000, Access.READ, 0)).pa()).as("TLBI for another ASID").isEqualTo(0x2000);
        tlb.invalidateVa(0x1000, 5);
        assertThat(ok(m.translate(0x1000, Access.READ, 0)).pa()).isEqualTo(0x9000);
        assertThat(tlb.hits()).isEqualTo(2);
        assertThat(m.outputAddress(0x1000, Access.READ, 0)).as("hot path, TLB hit").isEqualTo(0x9000);
        assertThat(tlb.hits()).isEqualTo(3);
        assertThat(m.outputAddress(0x1000, Access.EXECUTE, 1)).as("a fault is -1").isEqualTo(-1);
        // A block entry covers its whole span.
        space.map(0x20_0000L, 0x40_0000L, 0x20_0000L, Attributes.kernelData());
        m.translate(0x20_0000L, Access.READ, 1);
        long before = tlb.hits();
        assertThat(ok(m.translate(0x3F_F000L, Access.READ, 1)).pa()).isEqualTo(0x5F_F000L);
        assertThat(tlb.hits()).isEqualTo(before + 1);
        tlb.invalidateAsid(5);
        assertThat(tlb.lookup(0x3F_F000L, 5)).as("global entries survive TLBI ASIDE1").isNotNegative();
        tlb.invalidateAll();
        assertThat(tlb.lookup(0x3F_F000L, 5)).isNegative();
    }

    @Test
    void fourKTtbr0AndSixtyFourKTtbr1InOneRegime() {
        Geometry g64 = Geometry.of(Granule.SIXTY_FOUR_K, 48, 48);
        FrameAllocator frames64 = FrameAllocator.over(memory, 65536, new MemoryRange(1L << 37, 1L << 24));
        AddressSpace kernel = AddressSpace.create(g64, memory, frames64, VaRange.UPPER);
        kernel.map(0xFFFF_8000_0000_0000L, 0x4000_0000L, 0x1_0000, Attributes.kernelData());
        space.map(0x1000, 0x2000, 0x1000, Attributes.userData());
        // T1SZ=16 [21:16], TG1=0b11 (64K) [31:30].
        long tcr = TCR_4K_48 | (16L << 16) | (0b11L << 30);
        Registers r = new Registers(tcr, space.root(), kernel.root(), MAIR, SCTLR_M, false);
        Mmu m = new Mmu(new TranslationRegime(r, CpuFeatures.ALL), memory, new Tlb(64, 4));
        assertThat(ok(m.translate(0xFFFF_8000_0000_1234L, Access.READ, 1)).pa()).isEqualTo(0x4000_1234L);
        assertThat(ok(m.translate(0x1234, Access.READ, 0)).pa()).isEqualTo(0x2234);
    }

    @Test
    void fiftyTwoBitTranslationsWithLpa2AndLpa() {
        // 4K, TCR.DS=1 [59], T0SZ=12 (52-bit VA, walk from level -1), IPS=0b110 (52 bits).
        Geometry g = Geometry.of(Granule.FOUR_K, 52, 52);
        FrameAllocator f = FrameAllocator.over(memory, 4096, new MemoryRange(1L << 38, 1L << 24));
        AddressSpace s = AddressSpace.create(g, memory, f, VaRange.LOWER);
        s.map(0x000F_0000_0000_0000L, 0x000C_0000_0000_1000L, 0x1000, Attributes.kernelData());
        long tcr = 12 | (0b110L << 32) | (1L << 59) | EPD1;
        Mmu m = new Mmu(new TranslationRegime(new Registers(tcr, s.root(), 0, MAIR, SCTLR_M, false), CpuFeatures.ALL),
                memory, new Tlb(64, 4));
        assertThat(ok(m.translate(0x000F_0000_0000_0042L, Access.READ, 1)).pa()).isEqualTo(0x000C_0000_0000_1042L);
        // Level -1 holds 16 entries (VA[51:48]); entry 14 is empty: a level -1 translation fault.
        assertFault(m.translate(0x000E_0000_0000_0000L, Access.READ, 1), FaultType.TRANSLATION, -1);

        // 64K, FEAT_LPA: IPS=0b110, T0SZ=12, 52-bit output address.
        Geometry g64 = Geometry.SIXTY_FOUR_K_52;
        FrameAllocator f64 = FrameAllocator.over(memory, 65536, new MemoryRange(1L << 39, 1L << 24));
        AddressSpace s64 = AddressSpace.create(g64, memory, f64, VaRange.LOWER);
        s64.map(0x1_0000, 0x000F_0000_0001_0000L, 0x1_0000, Attributes.kernelData());
        long tcr64 = 12 | (0b01L << 14) | (0b110L << 32) | EPD1;
        Mmu m64 = new Mmu(new TranslationRegime(new Registers(tcr64, s64.root(), 0, MAIR, SCTLR_M, false),
                CpuFeatures.ALL), memory, new Tlb(64, 4));
        assertThat(ok(m64.translate(0x1_0008, Access.READ, 1)).pa()).isEqualTo(0x000F_0000_0001_0008L);
    }
}
