package dev.granule.compat;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each rule on a hand-built ELF. Expected verdicts are worked out by hand from glibc 2.36's check in
 * _dl_map_object_from_fd, its hole check in _dl_map_segments, the checks of glibc before 2.35 (warnings now)
 * and the kernel's elf_map offset (see LoadRules). LoaderOracleTest runs the real loader on such fixtures.
 */
class LoadRulesTest {

    static ElfReport analyze(byte[] elf) {
        return ElfAnalyzer.analyze("fixture", MemorySegment.ofArray(elf));
    }

    @Test
    void aLibraryAlignedTo64KLoadsAtEveryAarch64PageSize() {
        ElfReport r = analyze(ElfBuilder.sharedObject(0x10000).build());
        assertThat(r.verdicts()).extracting(PageVerdict::pageSize).containsExactly(4096L, 16384L, 65536L);
        assertThat(r.verdicts()).allMatch(PageVerdict::loads);
        assertThat(r.largestPageSize()).isEqualTo(65536);
        assertThat(r.fix()).isEmpty();
        assertThat(r.loader()).contains(LoadRules.Loader.LD_SO);
    }

    @Test
    void aLibraryAlignedTo4KLoadsOnlyAt4KAndNamesTheLinkerFix() {
        ElfReport r = analyze(ElfBuilder.sharedObject(0x1000).build());
        assertThat(r.verdict(4096).orElseThrow().loads()).isTrue();
        // Data at offset 0x1c00, address 0x2c00: 0x1000 apart, & 0x3fff != 0: "address/offset not page-aligned".
        assertThat(r.verdict(16384).orElseThrow().problems()).singleElement().asString()
                .contains("LOAD[1] p_vaddr 0x2c00 - p_offset 0x1c00 is not a multiple of 16K");
        // The text (offset 0 = address 0) is refused only by glibc before 2.35, for its p_align.
        assertThat(r.verdict(16384).orElseThrow().warnings()).anySatisfy(w -> assertThat(w)
                .contains("LOAD[0] p_align 0x1000 is not a multiple of 16K: glibc before 2.35 refuses it"));
        assertThat(r.verdict(65536).orElseThrow().loads()).isFalse();
        assertThat(r.largestPageSize()).isEqualTo(4096);
        assertThat(r.fix()).contains("relink with -Wl,-z,max-page-size=65536");
    }

    @Test
    void anAlignmentOf16KLoadsAt16KButNotAt64K() {
        ElfReport r = analyze(ElfBuilder.sharedObject(0x4000).build());
        assertThat(r.largestPageSize()).isEqualTo(16384);
        assertThat(r.verdict(65536).orElseThrow().loads()).isFalse();
    }

    @Test
    void offsetAndAddressThatDifferModuloThePageAreRefusedByLdSo() {
        // p_vaddr - p_offset = 0x11000: a multiple of 4K, not of 16K or 64K; not of p_align 0x10000 either.
        byte[] elf = new ElfBuilder().load(ElfBuilder.R | ElfBuilder.X, 0, 0, 0x800, 0x800, 0x10000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x800, 0x11800, 0x100, 0x100, 0x10000).build();
        ElfReport r = analyze(elf);
        PageVerdict at4k = r.verdict(4096).orElseThrow();
        assertThat(at4k.loads()).isTrue();
        assertThat(at4k.warnings()).singleElement().asString()
                .contains("glibc before 2.35 refuses it (ELF load command address/offset not properly aligned)");
        assertThat(r.verdict(16384).orElseThrow().problems()).singleElement().asString()
                .contains("LOAD[1] p_vaddr 0x11800 - p_offset 0x800 is not a multiple of 16K (ld.so: ELF load command address/offset not page-aligned)");
        assertThat(r.verdict(65536).orElseThrow().loads()).isFalse();
    }

    @Test
    void aPAlignBelowThePageLoadsWhenOffsetsAreCongruentWithAWarningForOlderGlibc() {
        // p_align 0x1000, but data at offset 0x1000 is mapped at 0x11000: 0x10000 apart, a multiple of every page.
        byte[] elf = new ElfBuilder().load(ElfBuilder.R | ElfBuilder.X, 0, 0, 0x800, 0x800, 0x1000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x1000, 0x11000, 0x100, 0x100, 0x1000).build();
        ElfReport r = analyze(elf);
        assertThat(r.verdicts()).allMatch(PageVerdict::loads);
        assertThat(r.verdict(4096).orElseThrow().warnings()).isEmpty();
        assertThat(r.verdict(65536).orElseThrow().warnings()).hasSize(2).allSatisfy(w -> assertThat(w)
                .contains("p_align 0x1000 is not a multiple of 64K: glibc before 2.35 refuses it"));
        assertThat(r.largestPageSize()).isEqualTo(65536);
    }

    @Test
    void twoSegmentsWhosePagesOverlapWithAHoleAreRefusedByGlibcsHoleCheck() {
        // Text 0x0-0x5000, data at 0x5000 (offset = address). At 4K the text ends at page 0x5000 where the data
        // starts: no hole. At 16K the text's pages end at 0x8000 and the data's start at 0x4000: mapend 0x8000 !=
        // mapstart 0x4000 is a hole, and the last segment starts below the first's end: refused.
        byte[] elf = new ElfBuilder().load(ElfBuilder.R | ElfBuilder.X, 0, 0, 0x5000, 0x5000, 0x10000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x5000, 0x5000, 0x100, 0x100, 0x10000).build();
        ElfReport r = analyze(elf);
        assertThat(r.verdict(4096).orElseThrow().loads()).isTrue();
        assertThat(r.verdict(16384).orElseThrow().problems()).singleElement().asString()
                .contains("LOAD[1] starts in the 16K page at 0x4000, below the end 0x8000 of LOAD[0]'s pages");
        assertThat(r.verdict(65536).orElseThrow().loads()).isFalse();
        assertThat(r.largestPageSize()).isEqualTo(4096);
    }

    @Test
    void theKernelJudgesProgramsByOffsetModuloThePageNotByPAlign() {
        // An executable with PT_INTERP: p_align 0x1000 everywhere, but both segments have offset ≡ vaddr mod 64K.
        byte[] congruent = new ElfBuilder().type(2)
                .phdr(3, ElfBuilder.R, 0x200, 0x200, 0x1c, 0x1c, 1)
                .load(ElfBuilder.R | ElfBuilder.X, 0, 0x400000, 0x1000, 0x1000, 0x1000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x1000, 0x411000, 0x10, 0x10, 0x1000).build();
        ElfReport ok = analyze(congruent);
        assertThat(ok.loader()).contains(LoadRules.Loader.KERNEL);
        assertThat(ok.verdicts()).allMatch(PageVerdict::loads);
        // Data at offset 0x1000 mapped at 0x401000: 0x400000 apart, fine; at 0x402000 it is 0x401000 apart, not a multiple of 16K.
        byte[] apart = new ElfBuilder().type(2)
                .load(ElfBuilder.R | ElfBuilder.X, 0, 0x400000, 0x1000, 0x1000, 0x1000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x1000, 0x402000, 0x10, 0x10, 0x1000).build();
        ElfReport bad = analyze(apart);
        assertThat(bad.verdict(4096).orElseThrow().loads()).isTrue();
        assertThat(bad.verdict(16384).orElseThrow().problems()).singleElement().asString()
                .contains("p_offset 0x1000 and p_vaddr 0x402000 differ modulo 16K");
    }

    @Test
    void segmentsOfDifferentPermissionsInOnePageAreAWarningNotAFailure() {
        // Text 0x0-0x5000, data at 0x5000, and a last read-only segment at 0x26000 (offset 0x6000: 0x20000 apart).
        // At 16K the data starts in the text's last page: W^X lost; the hole check passes because the last
        // segment (page 0x24000) starts above the first's end (0x8000).
        byte[] elf = new ElfBuilder().load(ElfBuilder.R | ElfBuilder.X, 0, 0, 0x5000, 0x5000, 0x10000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x5000, 0x5000, 0x100, 0x100, 0x10000)
                .load(ElfBuilder.R, 0x6000, 0x26000, 0x100, 0x100, 0x10000).build();
        ElfReport r = analyze(elf);
        assertThat(r.verdicts()).allMatch(PageVerdict::loads);
        assertThat(r.verdict(4096).orElseThrow().warnings()).isEmpty();   // 0x0-0x4fff and 0x5000-0x50ff: different 4K pages
        assertThat(r.verdict(16384).orElseThrow().warnings()).singleElement().asString()
                .contains("LOAD[0] (R E) and LOAD[1] (RW) share a 16K page: W^X lost");
    }

    @Test
    void aRelroRegionNotEndingOnAPageLeavesItsTailWritable() {
        // RELRO 0x10000..0x14800: ends on a 4K page (0x14800? no: 0x800 past 0x14000) -> tail 0x800 at 4K, 0x800 at 16K, 0x4800 at 64K.
        byte[] elf = ElfBuilder.sharedObject(0x10000)
                .phdr(0x6474e552, ElfBuilder.R, 0x1c00, 0x10000, 0x4800, 0x4800, 1).build();
        ElfReport r = analyze(elf);
        assertThat(r.verdict(4096).orElseThrow().warnings()).singleElement().asString().contains("last 0x800 bytes stay writable");
        assertThat(r.verdict(65536).orElseThrow().warnings()).singleElement().asString().contains("last 0x4800 bytes stay writable");
        assertThat(r.fix()).contains("relink with -Wl,-z,common-page-size=65536 to end RELRO on a page boundary");
    }

    @Test
    void eachArchitectureIsJudgedAtItsOwnPageSizes() {
        assertThat(analyze(ElfBuilder.sharedObject(0x1000).machine(62).build()).verdicts())
                .extracting(PageVerdict::pageSize).containsExactly(4096L);                     // x86-64
        assertThat(analyze(ElfBuilder.sharedObject(0x10000).machine(21).bigEndian().build()).verdicts())
                .extracting(PageVerdict::pageSize).containsExactly(4096L, 65536L);             // PowerPC64 BE
        assertThat(analyze(ElfBuilder.sharedObject(0x4000).machine(258).build()).largestPageSize()).isEqualTo(16384); // LoongArch
        ElfReport arm32 = analyze(ElfBuilder.sharedObject(0x1000).elf32().machine(40).build());
        assertThat(arm32.elfClass()).isEqualTo("ELF32");
        assertThat(arm32.verdicts()).extracting(PageVerdict::pageSize).containsExactly(4096L);
        assertThat(arm32.verdicts()).allMatch(PageVerdict::loads);
    }

    @Test
    void elf32BigEndianFieldsAreReadInTheirOwnOrder() {
        ElfReport r = analyze(ElfBuilder.sharedObject(0x10000).elf32().bigEndian().machine(20).build());   // EM_PPC
        assertThat(r.byteOrder()).isEqualTo("MSB");
        assertThat(r.architecture()).isEqualTo(Architecture.PPC);
        assertThat(r.largestPageSize()).isEqualTo(65536);
    }

    @Test
    void relocatableObjectsAreNotJudged() {
        ElfReport r = analyze(ElfBuilder.sharedObject(0x1000).type(1).build());
        assertThat(r.verdicts()).isEmpty();
        assertThat(r.notes()).contains("not mapped by a loader (REL)");
    }

    /**
     * The NDK's ABI note as its crtbegin writes it (.note.android.ident, seen with readelf -n in snappy-java's
     * Android library): namesz 8 ("Android\0"), descsz 0x84, type 1, the API level then the NDK version.
     */
    static byte[] androidNote() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12 + 8 + 0x84).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(8).putInt(0x84).putInt(1).put("Android\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putInt(23).put("r25b".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return b.array();
    }

    /** Text at 0 and data at offset 0x4000 = address 0x4000: congruent modulo 16K, linked with 4K alignment. */
    static ElfBuilder congruentAt16KWith4KAlignment() {
        return new ElfBuilder().size(0x5000)
                .load(ElfBuilder.R | ElfBuilder.X, 0, 0, 0x1800, 0x1800, 0x1000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x4000, 0x4000, 0x200, 0x400, 0x1000);
    }

    @Test
    void androidsLinkerRefusesAnAlignmentBelowThePageThatGlibc236Accepts() {
        ElfReport glibc = analyze(congruentAt16KWith4KAlignment().build());
        assertThat(glibc.loader()).contains(LoadRules.Loader.LD_SO);
        assertThat(glibc.verdict(16384).orElseThrow().loads()).isTrue();

        ElfReport android = analyze(congruentAt16KWith4KAlignment()
                .phdr(4, ElfBuilder.R, 0x200, 0x200, 12 + 8 + 0x84, 12 + 8 + 0x84, 4).put(0x200, androidNote()).build());
        assertThat(android.loader()).contains(LoadRules.Loader.BIONIC);
        assertThat(android.verdict(4096).orElseThrow().loads()).isTrue();
        // bionic's ElfReader: "program alignment (4096) cannot be smaller than system page size (16384)".
        assertThat(android.verdict(16384).orElseThrow().problems()).singleElement().asString()
                .contains("program alignment (4096) cannot be smaller than system page size (16384)");
        assertThat(android.largestPageSize()).isEqualTo(4096);
        assertThat(android.fix()).contains("relink with -Wl,-z,max-page-size=65536");
    }

    @Test
    void aNoteOfAnotherOwnerOrABrokenNoteTableLeavesGlibcAsTheLoader() {
        byte[] gnu = androidNote();
        System.arraycopy("GNU\0\0\0\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, gnu, 12, 8);
        assertThat(analyze(congruentAt16KWith4KAlignment().phdr(4, ElfBuilder.R, 0x200, 0x200, gnu.length, gnu.length, 4)
                .put(0x200, gnu).build()).loader()).contains(LoadRules.Loader.LD_SO);
        // descsz claims more than the segment holds: the scan stops, the file is still judged.
        byte[] cut = androidNote();
        cut[4] = (byte) 0xff; cut[5] = (byte) 0xff;
        ElfReport r = analyze(congruentAt16KWith4KAlignment().phdr(4, ElfBuilder.R, 0x200, 0x200, cut.length, cut.length, 4)
                .put(0x200, cut).build());
        assertThat(r.loader()).contains(LoadRules.Loader.LD_SO);
        assertThat(r.verdicts()).hasSize(3);
    }
}
