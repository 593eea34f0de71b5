package dev.granule.compat;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each rule on a hand-built ELF. Expected verdicts are worked out by hand from glibc's two checks in
 * _dl_map_object_from_fd and the kernel's elf_map offset (see LoadRules).
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
        // 0x1000 & 0x3fff != 0: "ELF load command alignment not page-aligned" at 16K and at 64K.
        assertThat(r.verdict(16384).orElseThrow().problems()).hasSize(2).first().asString()
                .contains("LOAD[0] p_align 0x1000 is not a multiple of 16K");
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
    void offsetAndAddressThatDifferModuloPAlignAreRefusedByLdSo() {
        // p_vaddr - p_offset = 0x11000, p_align 0x10000: 0x11000 & 0xffff = 0x1000 != 0.
        byte[] elf = new ElfBuilder().load(ElfBuilder.R | ElfBuilder.X, 0, 0, 0x800, 0x800, 0x10000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x800, 0x11800, 0x100, 0x100, 0x10000).build();
        ElfReport r = analyze(elf);
        assertThat(r.verdicts()).noneMatch(PageVerdict::loads);   // the check does not depend on the page size
        assertThat(r.verdict(4096).orElseThrow().problems()).singleElement().asString()
                .contains("address/offset not properly aligned");
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
        // 64K alignment but the data segment starts in the text's last 64K page (as -z noseparate-code lays out).
        byte[] elf = new ElfBuilder().load(ElfBuilder.R | ElfBuilder.X, 0, 0, 0x5000, 0x5000, 0x10000)
                .load(ElfBuilder.R | ElfBuilder.W, 0x5000, 0x5000, 0x100, 0x100, 0x10000).build();
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
}
