package dev.granule.cli;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.VaRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.granule.cli.BootCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

class TranslateCommandTest {

    @TempDir
    Path dir;

    /** Tables for 4K/48 at 0x4000_0000 mapping VA page 0x1000 to PA 0x8000_0000, written out as a raw image. */
    private Path image(long root[]) throws Exception {
        try (SparseMemory ram = SparseMemory.of(new MemoryRange(0x4000_0000L, 1L << 20))) {
            FrameAllocator frames = FrameAllocator.over(ram, 4096, new MemoryRange(0x4000_0000L, 1L << 20));
            AddressSpace s = AddressSpace.create(Geometry.FOUR_K_48, ram, frames, VaRange.LOWER);
            s.map(0x1000, 0x8000_0000L, 0x1000, Attributes.kernelReadOnly());
            root[0] = s.root();
            byte[] bytes = new byte[1 << 20];
            ram.read(0x4000_0000L, bytes, 0, bytes.length);
            Path p = dir.resolve("tables.bin");
            Files.write(p, bytes);
            return p;
        }
    }

    @Test
    void translatesAndReportsFaultsFromRegisterValues() throws Exception {
        long[] root = new long[1];
        Path img = image(root);
        // TCR: T0SZ=16, IPS=0b101 (48-bit), EPD1.
        String tcr = "0x" + Long.toHexString(16 | (0b101L << 32) | (1L << 23));
        var r = run("translate", "--tcr", tcr, "--ttbr0", Long.toHexString(root[0]), "--image",
                img + "@0x40000000", "0x1234", "0x2000");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("0x0000000000001234 -> 0x0000080000234  level 3 4K")
                .contains("0x0000000000002000 -> TRANSLATION fault, level 3");
        var w = run("translate", "--tcr", tcr, "--ttbr0", Long.toHexString(root[0]), "--image",
                img + "@0x40000000", "--access", "w", "0x1000");
        assertThat(w.out()).contains("PERMISSION fault, level 3");
    }

    @Test
    void permissionIndirectionAndOverlaysFromTcr2PirAndPor() throws Exception {
        long[] root = new long[1];
        Path img = image(root);
        String tcr = "0x" + Long.toHexString(16 | (0b101L << 32) | (1L << 23));
        String[] base = {"translate", "--tcr", tcr, "--ttbr0", Long.toHexString(root[0]), "--image", img + "@0x40000000"};
        // The page is kernel read-only (AP[2:1] = 0b10): no EL0 access in the direct model.
        assertThat(run(cat(base, "--el", "0", "0x1234")).out()).contains("PERMISSION fault, level 3");
        // TCR2_EL1.PIE [1]; every PIRE0_EL1/PIR_EL1 Perm<m> = 0b0001 (read, overlay applied): EL0 reads.
        String allRead = "0x1111111111111111";
        var pie = run(cat(base, "--tcr2", "0x2", "--pir", allRead, "--pire0", allRead, "--el", "0", "0x1234"));
        assertThat(pie.exit()).as(pie.err()).isZero();
        assertThat(pie.out()).contains("0x0000000000001234 -> 0x0000080000234  level 3 4K");
        // PIR_EL1 = 0: no EL1 access whatever the AP bits say; the fault names the PIIndex.
        assertThat(run(cat(base, "--tcr2", "0x2", "--pire0", allRead, "0x1234")).out())
                .contains("PERMISSION fault, level 3").contains("PIIndex");
        // E0POE [2] with POR_EL0 = 0 (no access) takes EL0's read away; POR_EL0 Perm<m> = 0b0001 gives it back.
        assertThat(run(cat(base, "--tcr2", "0x6", "--pir", allRead, "--pire0", allRead, "--el", "0", "0x1234")).out())
                .contains("PERMISSION fault").contains("POIndex");
        assertThat(run(cat(base, "--tcr2", "0x6", "--pir", allRead, "--pire0", allRead, "--por-el0", allRead,
                "--el", "0", "0x1234")).out()).contains("-> 0x0000080000234");
        // POE [3] with POR_EL1 = 0: EL1's read goes too.
        assertThat(run(cat(base, "--tcr2", "0xa", "--pir", allRead, "--pire0", allRead, "0x1234")).out())
                .contains("PERMISSION fault");
        assertThat(run(cat(base, "--tcr2", "0xa", "--pir", allRead, "--por", allRead, "0x1234")).out())
                .contains("-> 0x0000080000234");
        // QEMU 10's -cpu max has no FEAT_TCR2/S1PIE: TCR2_EL1 is ignored and AP decides again.
        assertThat(run(cat(base, "--cpu", "qemu-max", "--tcr2", "0x2", "--pir", allRead, "--pire0", allRead,
                "--el", "0", "0x1234")).out()).contains("PERMISSION fault");
        assertThat(run(cat(base, "--tcr2", "zz", "0x1234")).err()).contains("--tcr2");
    }

    private static String[] cat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /**
     * TCR2_EL1.FNG0 (bit 17, FEAT_ASID2) makes the global 4K page non-global: the line names the ASID of
     * TTBR0_EL1 [63:48] instead of "global". The CPU needs ID_AA64MMFR3_EL1.TCRX and ID_AA64MMFR4_EL1.ASID2
     * [11:8]: the default CPU has both, QEMU's max CPU neither, and --mmfr4 gives ASID2 to a CPU named by
     * its ID registers.
     */
    @Test
    void tcr2Fng0MakesGlobalPagesNonGlobalOnACpuWithFeatAsid2() throws Exception {
        long[] root = new long[1];
        Path img = image(root);
        String tcr = "0x" + Long.toHexString(16 | (0b101L << 32) | (1L << 23));
        String ttbr0 = Long.toHexString(root[0] | 5L << 48);
        String[] base = {"translate", "--tcr", tcr, "--ttbr0", ttbr0, "--image", img + "@0x40000000"};
        assertThat(run(cat(base, "0x1234")).out()).contains("0x0000000000001234 -> 0x0000080000234").contains("global");
        var fng0 = run(cat(base, "--tcr2", "0x20000", "0x1234"));
        assertThat(fng0.exit()).as(fng0.err()).isZero();
        assertThat(fng0.out()).contains("0x0000000000001234 -> 0x0000080000234").contains("ASID 5").doesNotContain("global");
        assertThat(run(cat(base, "--tcr2", "0x20000", "--cpu", "qemu-max", "0x1234")).out()).contains("global");
        // MMFR0: PARange 48 bits, 4K; MMFR3: TCRX. Without --mmfr4 there is no FEAT_ASID2.
        String[] cpu = {"--mmfr0", "0x5", "--mmfr3", "0x1"};
        assertThat(run(cat(cat(base, cpu), "--tcr2", "0x20000", "0x1234")).out()).contains("global");
        assertThat(run(cat(cat(base, cpu), "--mmfr4", "0x100", "--tcr2", "0x20000", "0x1234")).out()).contains("ASID 5");
        assertThat(run(cat(base, "--mmfr4", "0x100", "0x1234")).err()).contains("need --mmfr0");
    }

    /**
     * EL2&0 (--el 2, HCR_EL2.E2H [34]) with TCR2_EL2.D128 given as --tcr2 and PIR_EL2 as --pir: the
     * VMSAv9-128 tables of {@link #vmsa128TablesWithTcr2D128AndA128BitTtbr} through TTBR0_EL2 translate
     * as they do through TTBR0_EL1; without --tcr2 they are read as 64-bit descriptors (level 1, AF 0).
     */
    @Test
    void el20TranslatesVmsa128TablesWithTcr2El2D128() throws Exception {
        java.nio.ByteBuffer low = java.nio.ByteBuffer.allocate(0x4000).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        low.putLong(0x0000, 0x4000_1001L);
        low.putLong(0x1000, 0x4000_2001L);
        low.putLong(0x2000, 0x4000_3001L);
        low.putLong(0x3000 + 16, 0x00AB_0000_8000_0000L | 1L << 10 | 1);      // L3[1]: page, AF, PIIndex 0
        Path image = dir.resolve("d128-el2.bin");
        Files.write(image, low.array());
        String tcr = "0x" + Long.toHexString(25 | (0b111L << 32) | (1L << 23));  // T0SZ 25, IPS 56 bits, EPD1
        String[] base = {"translate", "--el", "2", "--hcr", "0x400000000", "--tcr-el2", tcr, "--ttbr0-el2", "0x40000000",
                "--image", image + "@0x40000000"};
        var r = run(cat(base, "--tcr2", "0x20", "--pir", "0xc", "0x1234"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("0x0000000000001234 -> 0xab000080000234  level 3 4K");
        assertThat(run(cat(base, "--tcr2", "0x20", "--pir", "0xc", "--access", "x", "0x1234")).out())
                .contains("PERMISSION fault, level 3").contains("PIIndex 0");
        assertThat(run(cat(base, "0x1234")).out()).contains("ACCESS_FLAG fault, level 1");
    }

    @Test
    void deviceMemoryIsShownOuterShareableBesideTheDescriptorsField() throws Exception {
        long[] root = new long[1];
        Path img = image(root);
        // The page at VA 0x1000 has AttrIndx 0 and SH = 0b11 (Inner Shareable). MAIR Attr0 = 0x04
        // makes it Device-nGnRE, which the memory system and PAR_EL1 treat as Outer Shareable
        // (Arm ARM S1DecodeMemAttrs / PAREncodeShareability); with Attr0 = 0xff it stays ISH.
        String tcr = "0x" + Long.toHexString(16 | (0b101L << 32) | (1L << 23));
        var device = run("translate", "--tcr", tcr, "--ttbr0", Long.toHexString(root[0]), "--mair", "0x04",
                "--image", img + "@0x40000000", "0x1234");
        assertThat(device.exit()).as(device.err()).isZero();
        assertThat(device.out()).contains("DEVICE_nGnRE OSH (descriptor ISH)");
        var json = run("translate", "--tcr", tcr, "--ttbr0", Long.toHexString(root[0]), "--mair", "0x04",
                "--image", img + "@0x40000000", "--json", "0x1234");
        assertThat(json.out()).contains("\"shareability\" : \"OSH\"").contains("\"descriptorShareability\" : \"ISH\"");
        var normal = run("translate", "--tcr", tcr, "--ttbr0", Long.toHexString(root[0]), "--image",
                img + "@0x40000000", "0x1234");
        assertThat(normal.out()).contains("NORMAL_CACHEABLE ISH global").doesNotContain("descriptor");
    }

    @Test
    void twoStagesWithHcrVtcrAndVttbrSayWhichStageFaulted() throws Exception {
        // Stage 2 (4K, 40-bit IPA, SL0 = 0b01: two concatenated level-1 tables at PA 0x4000_0000):
        // IPA 0x1000_0000 (2 MiB) -> PA 0x4100_0000, where stage 1's tables are; IPA 0x8000_0000
        // (2 MiB) -> PA 0x4200_0000, read-only (S2AP = 0b01). Stage 1 (4K, 39-bit VA, root at IPA
        // 0x1000_0000): VA 0x4000_0000 (2 MiB) -> IPA 0x8000_0000. Descriptor bits as in TwoStageTest.
        byte[] s2 = new byte[0x4000], s1 = new byte[0x2000];
        java.nio.ByteBuffer b2 = java.nio.ByteBuffer.wrap(s2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.nio.ByteBuffer b1 = java.nio.ByteBuffer.wrap(s1).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long af = 1L << 10, rw = 0b11L << 6, ro = 0b01L << 6, wb = 0b1111L << 2;
        b2.putLong(0, 0x4000_2000L | 3);
        b2.putLong(2 * 8, 0x4000_3000L | 3);
        b2.putLong(0x2000 + 0x80 * 8, 0x4100_0000L | af | rw | wb | 1);
        b2.putLong(0x3000, 0x4200_0000L | af | ro | wb | 1);
        b1.putLong(8, 0x1000_1000L | 3);
        b1.putLong(0x1000, 0x8000_0000L | af | 1);
        Path p2 = dir.resolve("s2.bin"), p1 = dir.resolve("s1.bin");
        Files.write(p2, s2);
        Files.write(p1, s1);
        String tcr = "0x" + Long.toHexString(25 | 1L << 23 | 0b010L << 32);
        String vtcr = "0x" + Long.toHexString(24 | 0b01L << 6 | 0b010L << 16 | 1L << 31);
        var read = run("translate", "--tcr", tcr, "--ttbr0", "0x10000000", "--hcr", "1", "--vtcr", vtcr,
                "--vttbr", "0x40000000", "--image", p2 + "@0x40000000", "--image", p1 + "@0x41000000", "0x40001234");
        assertThat(read.exit()).as(read.err()).isZero();
        assertThat(read.out()).contains("0x0000000040001234 -> 0x0000042001234  level 2 2M");
        var write = run("translate", "--tcr", tcr, "--ttbr0", "0x10000000", "--hcr", "1", "--vtcr", vtcr,
                "--vttbr", "0x40000000", "--image", p2 + "@0x40000000", "--image", p1 + "@0x41000000",
                "--access", "w", "--json", "0x40001234");
        assertThat(write.out()).contains("\"fault\" : \"PERMISSION\"").contains("\"stage\" : 2")
                .contains("\"s1ptw\" : false").contains("\"ipa\" : \"0x80001234\"");

        // VTCR_EL2.S2PIE [36]: both stage-2 leaves have PIIndex 1 (bit 6); S2PIR_EL2 Perm1 decides.
        String vtcrPie = "0x" + Long.toHexString(24 | 0b01L << 6 | 0b010L << 16 | 1L << 31 | 1L << 36);
        String[] pie = {"translate", "--tcr", tcr, "--ttbr0", "0x10000000", "--hcr", "1", "--vtcr", vtcrPie,
                "--vttbr", "0x40000000", "--image", p2 + "@0x40000000", "--image", p1 + "@0x41000000"};
        assertThat(run(cat(pie, "--s2pir", "0x80", "0x40001234")).out()).contains("-> 0x0000042001234");
        assertThat(run(cat(pie, "0x40001234")).out()).contains("stage 2 on a stage-1 table walk");
        // Perm1 = 0b1100 (read/write), but the data leaf's Dirty bit (7) is 0 and HA/HD are off.
        assertThat(run(cat(pie, "--s2pir", "0xc0", "--access", "w", "0x40001234")).out())
                .contains("PERMISSION fault, stage 2").contains("Dirty");
    }

    @Test
    void el2AndVheRegimesWithTheirOwnRegisters() throws Exception {
        long[] root = new long[1];
        Path img = image(root);   // VA 0x1000 -> PA 0x8000_0000, kernel read-only (AP = 0b10)
        // TCR_EL2 (E2H = 0, its own layout): T0SZ 16, PS 0b101 at [18:16], TBI at [20], RES1 [23] and [31].
        String tcrEl2 = "0x" + Long.toHexString(16 | 0b101L << 16 | 1L << 20 | 1L << 23 | 1L << 31);
        var el2 = run("translate", "--el", "2", "--tcr-el2", tcrEl2, "--ttbr0-el2", Long.toHexString(root[0]),
                "--image", img + "@0x40000000", "0x1234", "0x5a00000000001234");
        assertThat(el2.exit()).as(el2.err()).isZero();
        // TBI (bit 20 of TCR_EL2) ignores the tag byte; nG means nothing without ASIDs.
        assertThat(el2.out()).contains("0x0000000000001234 -> 0x0000080000234  level 3 4K")
                .contains("0x5a00000000001234 -> 0x0000080000234  level 3 4K").contains("global");
        var w = run("translate", "--el", "2", "--tcr-el2", tcrEl2, "--ttbr0-el2", Long.toHexString(root[0]),
                "--image", img + "@0x40000000", "--access", "w", "0x1234");
        assertThat(w.out()).contains("PERMISSION fault, level 3");
        // TCR2_EL2.PIE [1] with E2H = 0: PIR_EL2 decides. Perm = 0 for every PIIndex: no access; 0b0101
        // (read/write) for every index: the read translates, and the write meets nDirty (bit 7, which
        // AP = 0b10 sets) with HA/HD off.
        String[] pie = {"translate", "--el", "2", "--tcr-el2", tcrEl2, "--ttbr0-el2", Long.toHexString(root[0]),
                "--image", img + "@0x40000000", "--tcr2", "0x2"};
        assertThat(run(cat(pie, "--pir", "0", "0x1234")).out()).contains("PERMISSION fault, level 3");
        assertThat(run(cat(pie, "--pir", "0x5555555555555555", "0x1234")).out()).contains("-> 0x0000080000234");
        assertThat(run(cat(pie, "--pir", "0x5555555555555555", "--access", "w", "0x1234")).out())
                .contains("PERMISSION fault, level 3").contains("nDirty");
        // HCR_EL2.E2H [34] = 1: TCR_EL2 in the TCR_EL1 layout (T0SZ 16, EPD1, IPS 48 bits at [34:32]).
        String tcrVhe = "0x" + Long.toHexString(16 | 1L << 23 | 0b101L << 32);
        var vhe = run("translate", "--el", "2", "--hcr", "0x400000000", "--tcr-el2", tcrVhe, "--ttbr0-el2",
                Long.toHexString(root[0]), "--image", img + "@0x40000000", "--json", "0x1234");
        assertThat(vhe.exit()).as(vhe.err()).isZero();
        assertThat(vhe.out()).contains("\"pa\" : \"0x80000234\"").contains("\"level\" : 3");
        // EL0 with E2H and TGE [27]: the host's user space, in EL2&0; AP = 0b10 gives EL0 no access.
        var user = run("translate", "--el", "0", "--hcr", "0x408000000", "--tcr-el2", tcrVhe, "--ttbr0-el2",
                Long.toHexString(root[0]), "--image", img + "@0x40000000", "0x1234");
        assertThat(user.out()).contains("PERMISSION fault, level 3");
        var missing = run("translate", "--el", "2", "--image", img + "@0x40000000", "0x1234");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--tcr-el2");
    }

    @Test
    void armv7ShortDescriptorsWithDomains() throws Exception {
        // A 16 KiB first-level table at 0x40000000: VA 0x00100000 is a section to PA 0x80000000 in
        // domain 2 (AP[1:0]=0b11 [11:10], domain [8:5], 0b10); VA 0x00200000 is unmapped.
        byte[] l1 = new byte[16384];
        int section = 0x8000_0000 | 0b11 << 10 | 2 << 5 | 0b10;
        java.nio.ByteBuffer.wrap(l1).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(4, section);
        Path img = dir.resolve("l1.bin");
        Files.write(img, l1);
        // DACR: domain 2 client (0b01 at [5:4]).
        var ok = run("translate", "--ttbcr", "0", "--ttbr0", "0x40000000", "--dacr", "0x10", "--image", img + "@0x40000000",
                "0x00123456", "0x00200000");
        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("0x0000000000123456 -> 0x0000080023456  level 1 1M")
                .contains("TRANSLATION fault, level 1");
        // Domain 2 no access: a section domain fault.
        var none = run("translate", "--ttbcr", "0", "--ttbr0", "0x40000000", "--dacr", "0", "--image", img + "@0x40000000",
                "0x00100000");
        assertThat(none.out()).contains("DOMAIN fault, level 1");
        var both = run("translate", "--tcr", "0x10", "--ttbcr", "0", "--image", img + "@0x40000000", "0x0");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("exactly one");
    }

    @Test
    void badImagesAreUserErrors() {
        var r = run("translate", "--tcr", "0x10", "--image", "nosuchfile@0x0", "0x0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--image nosuchfile: no such file");
    }

    /**
     * A VMSAv9-128 image written by hand from the Arm ARM's layout (4K, T0SZ = 25: levels 0..3, 16-byte
     * descriptors, valid [0], AF [10], OA / table address [55:12], SKL [110:109] = 0 at level 3):
     * tables at 0x4000_0000 + 0x1000 per level, VA 0x1234 (indices 0, 0, 0, 1) to PA 0xAB_0000_8000_0000,
     * an OA only VMSAv9-128 holds. A second level-0 table at PA 2^48 is reached only through the
     * TTBR's high half (BADDR[48] is TTBR bit 80).
     */
    @Test
    void vmsa128TablesWithTcr2D128AndA128BitTtbr() throws Exception {
        java.nio.ByteBuffer low = java.nio.ByteBuffer.allocate(0x4000).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        low.putLong(0x0000, 0x4000_1001L);                                    // L0[0] -> L1
        low.putLong(0x1000, 0x4000_2001L);                                    // L1[0] -> L2
        low.putLong(0x2000, 0x4000_3001L);                                    // L2[0] -> L3
        low.putLong(0x3000 + 16, 0x00AB_0000_8000_0000L | 1L << 10 | 1);      // L3[1]: page, AF, PIIndex 0
        java.nio.ByteBuffer high = java.nio.ByteBuffer.allocate(0x1000).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        high.putLong(0, 0x4000_1001L);                                        // L0[0] at PA 2^48 -> the same L1
        Path lowImage = dir.resolve("d128.bin"), highImage = dir.resolve("d128-high.bin");
        Files.write(lowImage, low.array());
        Files.write(highImage, high.array());
        String tcr = "0x" + Long.toHexString(25 | (0b111L << 32) | (1L << 23));  // T0SZ 25, IPS 56 bits, EPD1
        String[] base = {"translate", "--tcr", tcr, "--tcr2", "0x20", "--pir", "0xc", "--image", lowImage + "@0x40000000",
                "--image", highImage + "@0x1000000000000"};
        var r = run(cat(base, "--ttbr0", "0x40000000", "0x1234"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("0x0000000000001234 -> 0xab000080000234  level 3 4K");
        // The same walk from the table at 2^48: TTBR0 = 0x<high 16 digits>_<low 16 digits>, or 32 digits.
        assertThat(run(cat(base, "--ttbr0", "0x0000000000010000_0000000000000000", "0x1234")).out())
                .contains("-> 0xab000080000234  level 3 4K");
        assertThat(run(cat(base, "--ttbr0", "0x00000000000100000000000000000000", "0x1234")).out())
                .contains("-> 0xab000080000234  level 3 4K");
        // PIR_EL1 gives PIIndex 0 read/write, not execute.
        assertThat(run(cat(base, "--ttbr0", "0x40000000", "--access", "x", "0x1234")).out())
                .contains("PERMISSION fault, level 3").contains("PIIndex 0");
        // Without TCR2_EL1.D128 the image is read as 64-bit descriptors: a 39-bit VA starts at level 1,
        // whose entry 0x40001001 (bits [1:0] = 0b01, AF = 0) is then a block with AF = 0.
        String[] d64 = base.clone();
        d64[4] = "0x0";
        assertThat(run(cat(d64, "--ttbr0", "0x40000000", "0x1234")).out()).contains("ACCESS_FLAG fault, level 1");
        assertThat(run(cat(base, "--ttbr0", "0x1_0000_0000_0000_0000_0000_0000_0000_0000", "0x1234")).err())
                .contains("more than 128 bits");
    }

    /**
     * VMSAv9-128 stage 2 (VTCR_EL2.D128 [38]) with a 128-bit --vttbr, stage 1 off (SCTLR_EL1.M = 0, so the
     * IPA is the VA). The stage-2 tables, written by hand from the Arm ARM's stage-2 VMSAv9-128 layout
     * (valid [0], AF [10], Dirty [7], OA / table address [55:12], SKL [110:109] = 0, PIIndex [118:115] = 0):
     * 4K, T0SZ 25 (39-bit IPA: start level 3 - 26 DIV 8 = 0), levels 0..3 at 0x4000_0000 + 0x1000 per level,
     * IPA 0x1234 (indices 0, 0, 0, 1) to PA 0xAB_0000_8000_0000. A second level-0 table at PA 2^48 is reached
     * only through VTTBR_EL2's high half (BADDR[48] is bit 80).
     */
    @Test
    void vmsa128Stage2WithA128BitVttbr() throws Exception {
        java.nio.ByteBuffer low = java.nio.ByteBuffer.allocate(0x4000).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        low.putLong(0x0000, 0x4000_1001L);
        low.putLong(0x1000, 0x4000_2001L);
        low.putLong(0x2000, 0x4000_3001L);
        low.putLong(0x3000 + 16, 0x00AB_0000_8000_0000L | 1L << 10 | 1L << 7 | 1);
        java.nio.ByteBuffer high = java.nio.ByteBuffer.allocate(0x1000).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        high.putLong(0, 0x4000_1001L);
        Path lowImage = dir.resolve("s2-d128.bin"), highImage = dir.resolve("s2-d128-high.bin");
        Files.write(lowImage, low.array());
        Files.write(highImage, high.array());
        String vtcr = "0x" + Long.toHexString(25 | 0b111L << 16 | 1L << 38);   // T0SZ 25, PS 56 bits, D128
        String[] base = {"translate", "--tcr", "0x10", "--sctlr", "0", "--hcr", "1", "--vtcr", vtcr, "--s2pir", "0xc",
                "--image", lowImage + "@0x40000000", "--image", highImage + "@0x1000000000000"};
        var r = run(cat(base, "--vttbr", "0x40000000", "0x1234"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("-> 0xab000080000234");
        assertThat(run(cat(base, "--vttbr", "0x0000000000010000_0000000000000000", "0x1234")).out())
                .contains("-> 0xab000080000234");
        // S2PIR_EL2 PIIndex 0 = 0b1100: read/write, not execute.
        assertThat(run(cat(base, "--vttbr", "0x40000000", "--access", "x", "0x1234")).out())
                .contains("PERMISSION fault, stage 2");
        // Without VTCR_EL2.D128 (SL0 = 0b01: level 1) the high half is not read: BADDR is 0, where no RAM is.
        String[] d64 = base.clone();
        d64[8] = "0x" + Long.toHexString(25 | 0b01L << 6 | 0b111L << 16);
        assertThat(run(cat(d64, "--vttbr", "0x0000000000010000_0000000000000000", "0x1234")).out())
                .contains("EXTERNAL_ABORT_ON_WALK fault, stage 2, level 1: stage-2 descriptor at PA 0x0");
    }
}
