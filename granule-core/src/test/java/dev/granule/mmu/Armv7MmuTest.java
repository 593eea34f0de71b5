package dev.granule.mmu;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Armv7-A translation on hand-written descriptors (Arm ARM B3.5 short-descriptor and B3.6 LPAE
 * layouts; permission tables B3-8/B3-9; TEX/C/B table B3-10). The QEMU oracle covers the bulk;
 * these pin down what it cannot reach: execute permissions, PAN, the fault order where QEMU 7.2
 * differs, the memory types of short descriptors.
 */
class Armv7MmuTest {

    static final long L1 = 0x4000_0000L;          // 16 KiB-aligned first-level table
    static final long L2 = 0x4001_0000L;          // a second-level table
    final SparseMemory memory = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 24));

    @AfterEach
    void close() { memory.close(); }

    /** SCTLR.M (+AFE), TTBCR.N = 0, TTBR0 = L1, DACR as given, PRRR/NMRR unused (TRE = 0). */
    Armv7Mmu shortMmu(boolean afe, long dacr, long sctlrExtra, boolean pan) {
        long sctlr = 1 | (afe ? 1L << 29 : 0) | sctlrExtra;
        return new Armv7Mmu(new Armv7Registers(sctlr, 0, L1, 0, dacr, 0, 0, pan), memory);
    }

    void l1(long va, long descriptor) { memory.writeInt(L1 + (va >>> 20) * 4, (int) descriptor); }

    void l2(long va, long descriptor) { memory.writeInt(L2 + ((va >>> 12) & 0xFF) * 4, (int) descriptor); }

    static void fault(Translation t, FaultType type, int level) { MmuTest.assertFault(t, type, level); }

    static Translation.Translated ok(Translation t) { return MmuTest.ok(t); }

    @Test
    void sectionsSupersectionsAndPagesTranslate() {
        // Section at VA 0x00100000 -> PA 0x80000000: [31:20] PA, AP[1:0]=0b11 [11:10], domain 0, 0b10.
        l1(0x0010_0000L, 0x8000_0000L | 0b11L << 10 | 0b10);
        // Supersection at VA 0x01000000 (16 entries) -> PA 0x3_4500_0000: [31:24]=0x45, PA[35:32]=3 in [23:20], bit 18.
        for (int i = 0; i < 16; i++) l1(0x0100_0000L + ((long) i << 20), 0x4500_0000L | 3L << 20 | 1L << 18 | 0b11L << 10 | 0b10);
        // Page table for VA 0x00200000, small page 0x00203000 -> 0x12345000, large page at 0x00210000 -> 0x98760000.
        l1(0x0020_0000L, L2 | 0b01);
        l2(0x0020_3000L, 0x1234_5000L | 0b11L << 4 | 0b10);
        for (int i = 0; i < 16; i++) l2(0x0021_0000L + ((long) i << 12), 0x9876_0000L | 0b11L << 4 | 0b01);
        Armv7Mmu m = shortMmu(false, 0b01, 0, false); // domain 0: client
        assertThat(ok(m.translate(0x0012_3456L, Access.READ, 0)).pa()).isEqualTo(0x8002_3456L);
        var ss = ok(m.translate(0x01AB_CDEFL, Access.READ, 0));
        assertThat(ss.pa()).isEqualTo(0x3_45AB_CDEFL);
        assertThat(ss.leafSize()).isEqualTo(1L << 24);
        assertThat(ok(m.translate(0x0020_3ABCL, Access.WRITE, 0)).pa()).isEqualTo(0x1234_5ABCL);
        assertThat(ok(m.translate(0x0021_7ABCL, Access.READ, 1)).pa()).isEqualTo(0x9876_7ABCL);
        fault(m.translate(0x0030_0000L, Access.READ, 1), FaultType.TRANSLATION, 1);
        fault(m.translate(0x0020_4000L, Access.READ, 1), FaultType.TRANSLATION, 2);
    }

    @Test
    void domainsAccessFlagAndPermissionsInTheArchitecturesOrder() {
        // Section in domain 3 with AP[2:0] = 0b101 (PL1 read-only), AF (AP[0]) = 1.
        l1(0x0010_0000L, 0x8000_0000L | 3L << 5 | 0b01L << 10 | 1L << 15 | 0b10);
        // Same with AF = 0 (AP[0] = 0): AP[2:1] = 0b10, PL1 read-only in the simplified model.
        l1(0x0020_0000L, 0x8000_0000L | 3L << 5 | 0b00L << 10 | 1L << 15 | 0b10);
        long client = 0b01L << 6, manager = 0b11L << 6, none = 0;
        fault(shortMmu(true, client, 0, false).translate(0x0010_0000L, Access.WRITE, 1), FaultType.PERMISSION, 1);
        fault(shortMmu(true, client, 0, false).translate(0x0010_0000L, Access.READ, 0), FaultType.PERMISSION, 1);
        ok(shortMmu(true, client, 0, false).translate(0x0010_0000L, Access.READ, 1));
        // A Manager domain skips the permission check...
        ok(shortMmu(true, manager, 0, false).translate(0x0010_0000L, Access.WRITE, 0));
        // ... and a no-access domain faults whatever the permissions.
        fault(shortMmu(true, none, 0, false).translate(0x0010_0000L, Access.READ, 1), FaultType.DOMAIN, 1);
        // AF = 0 faults before the domain is looked at, in every domain (QEMU 7.2: domain first, no AF check in Manager).
        fault(shortMmu(true, client, 0, false).translate(0x0020_0000L, Access.READ, 1), FaultType.ACCESS_FLAG, 1);
        fault(shortMmu(true, manager, 0, false).translate(0x0020_0000L, Access.READ, 1), FaultType.ACCESS_FLAG, 1);
        fault(shortMmu(true, none, 0, false).translate(0x0020_0000L, Access.READ, 1), FaultType.ACCESS_FLAG, 1);
        // Without AFE, AP[2:0] = 0b100 is reserved (no access) and 0b000 no access.
        fault(shortMmu(false, client, 0, false).translate(0x0020_0000L, Access.READ, 1), FaultType.PERMISSION, 1);
        // A page's domain comes from its first-level entry and is checked after the second-level read.
        l1(0x0030_0000L, L2 | 5L << 5 | 0b01);
        fault(shortMmu(false, 0, 0, false).translate(0x0030_0000L, Access.READ, 1), FaultType.TRANSLATION, 2);
        l2(0x0030_0000L, 0x1234_5000L | 0b11L << 4 | 0b10);
        fault(shortMmu(false, 0, 0, false).translate(0x0030_0000L, Access.READ, 1), FaultType.DOMAIN, 2);
        ok(shortMmu(false, 0b01L << 10, 0, false).translate(0x0030_0000L, Access.READ, 0));
    }

    @Test
    void executeNeverPxnWxnUwxnAndPan() {
        l1(0x0010_0000L, 0x8000_0000L | 0b11L << 10 | 1L << 4 | 0b10);  // full access, XN
        l1(0x0020_0000L, 0x8000_0000L | 0b11L << 10 | 0b11);            // full access, PXN (bit 0)
        l1(0x0030_0000L, 0x8000_0000L | 0b11L << 10 | 1L << 15 | 0b10); // AP 0b111: read-only everywhere
        Armv7Mmu m = shortMmu(false, 0b01, 0, false);
        fault(m.translate(0x0010_0000L, Access.EXECUTE, 0), FaultType.PERMISSION, 1);
        ok(m.translate(0x0020_0000L, Access.EXECUTE, 0));
        fault(m.translate(0x0020_0000L, Access.EXECUTE, 1), FaultType.PERMISSION, 1);
        ok(m.translate(0x0030_0000L, Access.EXECUTE, 1));
        // WXN (SCTLR[19]): writable memory is execute-never; UWXN ([20]): PL0-writable is never PL1-executable.
        l1(0x0040_0000L, 0x8000_0000L | 0b11L << 10 | 0b10);
        fault(shortMmu(false, 0b01, 1L << 19, false).translate(0x0040_0000L, Access.EXECUTE, 0), FaultType.PERMISSION, 1);
        ok(shortMmu(false, 0b01, 1L << 20, false).translate(0x0040_0000L, Access.EXECUTE, 0));
        fault(shortMmu(false, 0b01, 1L << 20, false).translate(0x0040_0000L, Access.EXECUTE, 1), FaultType.PERMISSION, 1);
        // PAN: PL1 data accesses to PL0-accessible memory fault.
        fault(shortMmu(false, 0b01, 0, true).translate(0x0030_0000L, Access.READ, 1), FaultType.PERMISSION, 1);
    }

    @Test
    void shortDescriptorMemoryTypesFollowTexCB() {
        // Table B3-10: 000/00 Strongly-ordered, 000/01 Device, 001/11 Normal WB-WA, 1BB/AA outer BB inner AA.
        assertThat(Armv7Mmu.shortAttr(0b000, false, false)).isEqualTo(0x00);
        assertThat(Armv7Mmu.shortAttr(0b000, false, true)).isEqualTo(0x04);
        assertThat(Armv7Mmu.shortAttr(0b001, true, true)).isEqualTo(0xFF);
        assertThat(Armv7Mmu.shortAttr(0b001, false, false)).isEqualTo(0x44);
        assertThat(Armv7Mmu.shortAttr(0b110, false, true)).as("outer WT, inner WB-WA").isEqualTo(0xAF);
    }

    @Test
    void lpaeSplitsTtbr0AndTtbr1AndFaultsBeyondFortyBitsOnArmv8Only() {
        // T0SZ = 1 (TTBR0: VA below 2 GiB, level 1 with 2 entries), T1SZ = 2 (TTBR1: top 1 GiB, from level 2).
        long ttbcr = 1L << 31 | 1 | 2L << 16;
        long t0 = 0x4000_0000L, t0l2 = 0x4000_1000L, t0l3 = 0x4000_2000L, t1 = 0x4000_3000L;
        memory.writeLong(t0 + 8, t0l2 | 0b11);                                    // VA 1 GiB..2 GiB
        memory.writeLong(t0l2, t0l3 | 0b11);
        memory.writeLong(t0l3 + 8, 0x1_2345_6000L | 1L << 10 | 0b01L << 6 | 0b11); // page VA 0x40001000, EL0 RW
        memory.writeLong(t0l3 + 16, 0x1_2345_7000L | 0xABL << 40 | 1L << 10 | 0b11); // bits [47:40] set
        memory.writeLong(t1 + 8 * ((0xC020_0000L >>> 21) & 0x1FF), 0x8_0000_0000L | 1L << 10 | 0b01); // 2 MiB block
        Armv7Registers r = new Armv7Registers(1, ttbcr, t0, t1, 0, 0xFF, 0, false);
        Armv7Mmu v7 = new Armv7Mmu(r, memory), v8 = new Armv7Mmu(r, memory, Armv7Mmu.Profile.ARMV8);
        assertThat(ok(v7.translate(0x4000_1234L, Access.WRITE, 0)).pa()).isEqualTo(0x1_2345_6234L);
        assertThat(ok(v7.translate(0xC021_2345L, Access.READ, 1)).pa()).isEqualTo(0x8_0001_2345L);
        fault(v7.translate(0xC021_2345L, Access.READ, 0), FaultType.PERMISSION, 2);
        fault(v7.translate(0x8000_0000L, Access.READ, 1), FaultType.TRANSLATION, 1); // between the two regions
        assertThat(ok(v7.translate(0x4000_2000L, Access.READ, 1)).pa()).as("Armv7: SBZ bits ignored").isEqualTo(0x1_2345_7000L);
        fault(v8.translate(0x4000_2000L, Access.READ, 1), FaultType.ADDRESS_SIZE, 3);
    }
}
