package dev.granule.cli;

import dev.granule.dump.ElfCoreWriter;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.table.KernelLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.granule.cli.BootCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dump commands on a synthetic 16K/47-bit kernel core: tables built by the engine (linear map
 * of 512M of DRAM at 1 GiB, kernel image at KIMAGE_VADDR) written with a VMCOREINFO note as arm64
 * Linux writes it, and once more without it.
 */
class DumpCommandTest {

    static Path dir;
    static Path core;
    static Path bare;
    static KernelLayout layout;
    static long root;

    @BeforeAll
    static void writeCores() throws IOException {
        dir = Files.createTempDirectory("granule-dump-cli");
        Geometry g = Geometry.of(Granule.SIXTEEN_K, 47, 48);
        layout = KernelLayout.virt(g, 512L << 20);
        KernelLayout.Built built = layout.build(true);
        root = built.space().root();
        String info = layout.vmcoreInfo(root);
        core = dir.resolve("vmcore");
        bare = dir.resolve("vmcore-bare");
        ElfCoreWriter.write(core, built.memory(), List.of(ElfCoreWriter.Note.vmcoreInfo(info)));
        ElfCoreWriter.write(bare, built.memory(), List.of());
        built.memory().close();
    }

    @AfterAll
    static void clean() throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.delete(p);
        }
        Files.delete(dir);
    }

    @Test
    void infoShowsSegmentsNotesVmcoreInfoAndTheGeometry() {
        var r = run("dump", "info", core.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("ELF64 core, EM_AARCH64").contains("VMCOREINFO").contains("PAGESIZE=16384")
                .contains("geometry    16K/47-bit VA/48-bit PA/d64: 3 levels from level 1, 2048-entry root")
                .contains("VA size 47 bits from NUMBER(TCR_EL1_T1SZ)=17")
                .contains(String.format("root        %#x", root));
    }

    @Test
    void translateWalksTheDumpedTables() {
        long text = layout.kimageVaddr() + 0x4321;
        long linear = layout.linearVa(0x4000_0000L + (100L << 20)) + 0x10;
        var r = run("dump", "translate", core.toString(), String.format("%#x", text), String.format("%#x", linear),
                String.format("%#x", -(1L << 46)), "0x1000");
        assertThat(r.exit()).as(r.err()).isZero();
        // text: the image is at 0x40200000, so +0x4321; 16K pages (rodata=full does not touch the image mapping).
        assertThat(r.out()).contains(String.format("0x%016x  -> 0x%013x", text, layout.imagePa() + 0x4321))
                .contains(String.format("0x%016x  -> 0x%013x  16K PTE page at level 3", linear, 0x4000_0000L + (100L << 20) + 0x10))
                .contains(String.format("0x%016x  unmapped", -(1L << 46)))
                .contains("0x0000000000001000  not a kernel (TTBR1) address for a 47-bit VA");
    }

    @Test
    void ptdumpListsTheLinearMapAndTheImage() {
        var r = run("dump", "ptdump", core.toString(), "--progress", "never");
        assertThat(r.exit()).as(r.err()).isZero();
        // rodata=full: 512M of linear map in 16K pages, one line; then the image's three sections.
        assertThat(r.out()).contains("---[ Linear Mapping start ]---")
                .contains(String.format("0x%016x-0x%016x      512M PTE", layout.pageOffset(), layout.pageOffset() + (512L << 20)))
                .contains("---[ Kernel Mapping (_stext) ]---").contains("RO/-- x   UXN").contains("# 4 ranges");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void withoutVmcoreInfoTheRootIsNeededAndTheCandidatesAreReported() {
        var r = run("dump", "info", bare.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("granule: error:").contains("no VMCOREINFO").contains("--root");
        r = run("dump", "info", bare.toString(), "--root", String.format("%#x", root));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("candidates").contains("valid   16K/47-bit VA/48-bit PA/d64")
                .contains("invalid 4K/48-bit VA/48-bit PA/d64").contains("geometry    16K/47-bit VA");
    }

    @Test
    void userErrorsAreOneLine() {
        var r = run("dump", "info", dir.resolve("missing").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no such file").doesNotContain("Exception");
        r = run("dump", "info", dir.toString() + "/../" + dir.getFileName() + "/vmcore", "--page-size", "8K");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("page size must be 4096, 16384 or 65536");
        r = run("dump", "translate", core.toString(), "0xffffzz");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("'0xffffzz' is not an address");
    }

    @Test
    void aFileThatIsNotACoreIsAUserError() throws IOException {
        Path junk = dir.resolve("junk");
        Files.writeString(junk, "not an ELF file at all, just text\n");
        var r = run("dump", "info", junk.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("not an ELF core").contains("--raw");
    }

    @Test
    void translateSpeaksJsonForScripts() throws Exception {
        long text = layout.kimageVaddr() + 0x10;
        var r = run("dump", "translate", core.toString(), "--json", String.format("%#x", text), "0x1000");
        assertThat(r.exit()).as(r.err()).isZero();
        var t = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).get("translations");
        assertThat(t.get(0).get("pa").asText()).isEqualTo(String.format("%#x", layout.imagePa() + 0x10));
        assertThat(t.get(0).get("level").asInt()).isEqualTo(3);
        assertThat(t.get(0).get("size").asLong()).isEqualTo(16384);
        assertThat(t.get(1).get("kernelAddress").asBoolean()).isFalse();
        assertThat(t.get(1).get("mapped").asBoolean()).isFalse();
    }

    @Test
    void translateReadsAddressesFromFilesAndStandardInputLikeArguments() throws IOException {
        long text = layout.kimageVaddr() + 0x4321;
        long linear = layout.linearVa(0x4000_0000L + (100L << 20)) + 0x10;
        String a = String.format("%#x", text);
        String b = String.format("%#x", linear);
        var args = run("dump", "translate", core.toString(), a, b, "0x1000");
        assertThat(args.exit()).as(args.err()).isZero();
        Path list = dir.resolve("addresses.txt");
        Files.writeString(list, "# kernel text, then the linear map\n" + a + "\n\n   " + b + "  trailing words are ignored\n0x1000\n");
        var file = run("dump", "translate", core.toString(), "-f", list.toString());
        assertThat(file.exit()).as(file.err()).isZero();
        assertThat(file.out()).isEqualTo(args.out());
        var stdin = withStdin(a + "\n" + b + "\n0x1000\n", () -> run("dump", "translate", core.toString(), "-"));
        assertThat(stdin.out()).isEqualTo(args.out());
        Files.writeString(list, a + "\nnot-an-address\n");
        var bad = run("dump", "translate", core.toString(), "-f", list.toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("line 2").contains("not-an-address").doesNotContain("Exception");
        assertThat(bad.out()).as("the answers before the bad line are out").contains(String.format("0x%016x  ->", text));
    }

    private static BootCommandTest.Run withStdin(String input, java.util.function.Supplier<BootCommandTest.Run> r) {
        java.io.InputStream saved = System.in;
        System.setIn(new java.io.ByteArrayInputStream(input.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        try {
            return r.get();
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void readGivesTheSameBytesThroughTheKernelsMappingAndPhysicallyAndStopsAtAnUnmappedPage() {
        // The root table, through the linear map and by PA: the same descriptors.
        long va = layout.linearVa(root);
        var virt = run("dump", "read", core.toString(), "--u64", String.format("%#x", va), "64");
        var phys = run("dump", "read", core.toString(), "--u64", "--phys", String.format("%#x", root), "64");
        assertThat(virt.exit()).as(virt.err()).isZero();
        assertThat(phys.exit()).as(phys.err()).isZero();
        assertThat(virt.out().lines().map(l -> l.substring(l.indexOf(": ") + 2)).toList())
                .isEqualTo(phys.out().lines().map(l -> l.substring(l.indexOf(": ") + 2)).toList()).hasSize(8);
        // The last 16 bytes of the linear map (512M of DRAM), then the unmapped VA after it.
        long end = layout.linearVa(0x4000_0000L + (512L << 20));
        var stop = run("dump", "read", core.toString(), String.format("%#x", end - 16), "32");
        assertThat(stop.exit()).isEqualTo(2);
        assertThat(stop.out()).startsWith(String.format("0x%016x: 00 00", end - 16)).hasLineCount(1);
        assertThat(stop.err()).contains("read stopped after 16 bytes").contains(String.format("cannot read %#x", end))
                .contains("do not map it");
    }

    @Test
    void aSystemMapNamesAddressesAtTheKernelsRuntimeAddresses() throws IOException {
        // Linked at 0xffff800008010000; VMCOREINFO's SYMBOL(_stext) says where it ran (KIMAGE_VADDR here).
        Path map = dir.resolve("System.map");
        Files.writeString(map, "ffff800008000000 T _text\nffff800008010000 T _stext\nffff800008010100 T granule_test_fn\n"
                + "ffff800008020000 D _etext\n");
        long fn = layout.kimageVaddr() + 0x100;
        var sym = run("dump", "symbol", core.toString(), "--system-map", map.toString(), "granule_test_fn",
                String.format("%#x", fn + 8));
        assertThat(sym.exit()).as(sym.err()).isZero();
        assertThat(sym.out()).contains(String.format("0x%016x  T granule_test_fn%n", fn))
                .contains(String.format("0x%016x  T granule_test_fn+0x8%n", fn + 8));
        var t = run("dump", "translate", core.toString(), "--system-map", map.toString(), "granule_test_fn+0x4");
        assertThat(t.exit()).as(t.err()).isZero();
        assertThat(t.out()).contains(String.format("0x%016x <granule_test_fn+0x4>  -> 0x%013x", fn + 4, layout.imagePa() + 0x104));
    }

    /**
     * A PMD entry of the linear map pointed outside RAM (as a dump that lacks the table's memory
     * shows it): ptdump marks the 32 MiB that entry covers as not seen, translate says which table.
     */
    @Test
    void ptdumpMarksWhatItCannotSeeAndTranslateSaysWhy() throws IOException {
        Geometry g = Geometry.of(Granule.SIXTEEN_K, 47, 48);
        KernelLayout l = KernelLayout.virt(g, 512L << 20);
        KernelLayout.Built built = l.build(true);
        long va = l.linearVa(0x4000_0000L + (64L << 20)) + 0x40;
        // 16K/47: level 1 (PGD) bits [46:36], level 2 (PMD) bits [35:25], 8-byte entries, OA bits [47:14].
        long pgd = built.space().root();
        long pmdTable = built.memory().readLong(pgd + ((va >>> 36) & 2047) * 8) & 0x0000_FFFF_FFFF_C000L;
        long entry = pmdTable + ((va >>> 25) & 2047) * 8;
        long outside = 0x7_0000_0000L; // above the 512M of DRAM at 1 GiB
        built.memory().writeLong(entry, (built.memory().readLong(entry) & ~0x0000_FFFF_FFFF_C000L) | outside);
        Path broken = dir.resolve("vmcore-table-outside-ram");
        ElfCoreWriter.write(broken, built.memory(), List.of(ElfCoreWriter.Note.vmcoreInfo(l.vmcoreInfo(pgd))));
        built.memory().close();
        long span = va & -(32L << 20);
        var p = run("dump", "ptdump", broken.toString(), "--progress", "never");
        assertThat(p.exit()).as(p.err()).isZero();
        assertThat(p.out()).contains(String.format("0x%016x-0x%016x       32M not seen: the level 3 (PTE) table at PA %#x is not RAM",
                span, span + (32L << 20), outside)).contains("# 1 spans not seen");
        var t = run("dump", "translate", broken.toString(), String.format("%#x", va));
        assertThat(t.out()).contains(String.format("0x%016x  table outside RAM: the level 3 table at PA %#x", va, outside));
    }

    /** An address list without line breaks is refused at the line limit, in one line, not read into the heap. */
    @Test
    void anAddressListWithoutLineBreaksIsRefusedAtTheLineLimit() throws IOException {
        Path list = dir.resolve("one-long-line");
        Files.writeString(list, "0x".repeat(DumpTranslateCommand.MAX_ADDRESS_LINE));
        var r = run("dump", "translate", core.toString(), "-f", list.toString());
        assertThat(r.exit()).isEqualTo(ErrorHandler.USER_ERROR);
        assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains(list + ": line 1 is longer than the limit of 4 KiB");
    }
}
