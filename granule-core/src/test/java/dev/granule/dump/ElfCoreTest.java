package dev.granule.dump;

import dev.granule.memory.MappedMemory;
import dev.granule.memory.MemoryRange;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ElfCoreTest {

    private static ElfCore parse(byte[] bytes) {
        return ElfCore.parse(MemorySegment.ofArray(bytes));
    }

    private static ElfCore parse(ElfBytes e) { return parse(e.array()); }

    /** Two PT_LOADs (one with a zero tail), one PT_NOTE with VMCOREINFO and an NT_PRSTATUS. */
    private static ElfBytes sample() {
        ElfBytes e = ElfBytes.core(0x3000, 3);
        // notes at 0x200
        byte[] prstatus = new byte[392];
        java.nio.ByteBuffer p = java.nio.ByteBuffer.wrap(prstatus).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        p.putInt(32, 1234);                 // pr_pid
        for (int i = 0; i < 31; i++) p.putLong(112 + 8 * i, 0x1000L + i);
        p.putLong(112 + 31 * 8, 0xffff800080001000L); // sp
        p.putLong(112 + 32 * 8, 0xffff800080123456L); // pc
        p.putLong(112 + 33 * 8, 0x3c5L);               // pstate: EL1h, DAIF masked
        int end = e.note(0x200, "CORE", 1, prstatus);
        end = e.note(end, "VMCOREINFO", 0, "OSRELEASE=6.1.0\nPAGESIZE=4096\n".getBytes(StandardCharsets.ISO_8859_1));
        e.phdr(0, ProgramHeader.PT_NOTE, 0x200, 0, end - 0x200, end - 0x200, 4);
        e.phdr(1, ProgramHeader.PT_LOAD, 0x1000, 0x4000_0000L, 0x1000, 0x1000, 0);
        e.phdr(2, ProgramHeader.PT_LOAD, 0x2000, 0x8000_0000L, 0x800, 0x2000, 0);
        for (int i = 0x1000; i < 0x2800; i += 8) e.u64(i, 0xA000_0000L + i);
        return e;
    }

    @Test
    void readsLoadsAsPhysicalSegmentsAndSplitsNotes() {
        ElfCore core = parse(sample());
        assertThat(core.programHeaders()).hasSize(3);
        assertThat(core.segments()).containsExactly(new MappedMemory.Segment(0x4000_0000L, 0x1000, 0x1000, 0x1000),
                new MappedMemory.Segment(0x8000_0000L, 0x2000, 0x800, 0x2000));
        assertThat(core.notes()).extracting(ElfNote::name).containsExactly("CORE", "VMCOREINFO");
        assertThat(core.vmcoreInfoText()).contains("OSRELEASE=6.1.0\nPAGESIZE=4096\n");
        try (MappedMemory m = core.memory()) {
            assertThat(m.readLong(0x4000_0008L)).isEqualTo(0xA000_1008L);
            assertThat(m.readLong(0x8000_07F8L)).isEqualTo(0xA000_27F8L);
            assertThat(m.readLong(0x8000_0800L)).isZero();
            assertThat(m.ranges()).containsExactly(new MemoryRange(0x4000_0000L, 0x1000), new MemoryRange(0x8000_0000L, 0x2000));
        }
        PrStatus cpu = core.prStatus().getFirst();
        assertThat(cpu.pid()).isEqualTo(1234);
        assertThat(cpu.x()[30]).isEqualTo(0x101EL);
        assertThat(cpu.pc()).isEqualTo(0xffff800080123456L);
        assertThat(cpu.sp()).isEqualTo(0xffff800080001000L);
        assertThat(cpu.exceptionLevel()).isEqualTo(1);
        assertThat(cpu.aarch64()).isTrue();
        assertThat(core.warnings()).isEmpty();
    }

    @Test
    void refusesWhatIsNotAnArm64LittleEndianCoreNamingTheField() {
        assertThatThrownBy(() -> parse(new byte[10])).isInstanceOf(DumpFormatException.class).hasMessageContaining("shorter than an ELF64 header");
        assertThatThrownBy(() -> parse(sample().u8(0, 0x7E))).hasMessageContaining("no ELF magic");
        assertThatThrownBy(() -> parse(sample().u8(4, 1))).hasMessageContaining("ELFCLASS64").hasMessageContaining("offset 0x4");
        assertThatThrownBy(() -> parse(sample().u8(5, 2))).hasMessageContaining("ELFDATA2LSB").hasMessageContaining("offset 0x5");
        assertThatThrownBy(() -> parse(sample().u16(16, 2))).hasMessageContaining("ET_CORE").hasMessageContaining("executable");
        assertThatThrownBy(() -> parse(sample().u16(18, 62))).hasMessageContaining("EM_AARCH64").hasMessageContaining("offset 0x12");
        assertThatThrownBy(() -> parse(sample().u16(54, 32))).hasMessageContaining("e_phentsize is 32");
        assertThatThrownBy(() -> parse(sample().u16(56, 0))).hasMessageContaining("e_phnum is 0");
    }

    @Test
    void refusesTablesAndSegmentsThatLeaveTheFile() {
        assertThatThrownBy(() -> parse(sample().u64(32, 0x2FF0))).isInstanceOf(DumpFormatException.class)
                .hasMessageContaining("program header table").hasMessageContaining("offset 0x20");
        assertThatThrownBy(() -> parse(sample().u64(32, -64))).hasMessageContaining("program header table");
        assertThatThrownBy(() -> parse(sample().u16(56, 0xFFFE))).hasMessageContaining("program header table");
        // PT_LOAD #1 claiming more file bytes than exist: a truncated dump.
        assertThatThrownBy(() -> parse(sample().u64(64 + 56 + 32, 0x5000).u64(64 + 56 + 40, 0x5000)))
                .hasMessageContaining("PT_LOAD #1").hasMessageContaining("truncated").hasMessageContaining(String.format("%#x", 64 + 56 + 8));
        assertThatThrownBy(() -> parse(sample().u64(64 + 56 + 32, 0x2000)))
                .hasMessageContaining("p_filesz 0x2000 exceeds p_memsz 0x1000");
        assertThatThrownBy(() -> parse(sample().u64(64 + 56 + 24, 0x7FFF_FFFF_FFFF_F800L)))
                .hasMessageContaining("beyond the 63-bit physical space");
    }

    @Test
    void refusesNotesThatRunPastTheirSegment() {
        // namesz of the first note made huge
        assertThatThrownBy(() -> parse(sample().u32(0x200, 0x7FFF_FFFF))).isInstanceOf(DumpFormatException.class)
                .hasMessageContaining("note name").hasMessageContaining("offset 0x200");
        // descsz of the first note made larger than the segment
        assertThatThrownBy(() -> parse(sample().u32(0x204, -1))).hasMessageContaining("note descriptor of 4294967295 bytes")
                .hasMessageContaining("offset 0x204");
        // the PT_NOTE itself pointing past EOF
        assertThatThrownBy(() -> parse(sample().u64(64 + 8, 0x2FFF))).hasMessageContaining("PT_NOTE #0");
        // 5 stray bytes after the last note
        ElfBytes e = sample();
        long size = e.b.getLong(64 + 32);
        assertThatThrownBy(() -> parse(e.u64(64 + 32, size + 5))).hasMessageContaining("5 trailing bytes");
    }

    @Test
    void anAllZeroNoteHeaderEndsTheNotesAsTheKernelsFinalNoteDoes() {
        ElfBytes e = ElfBytes.core(0x1000, 1);
        int end = e.note(0x100, "CORE", 1, new byte[392]);
        // 12 zero bytes (final_note), then padding up to 0x100 bytes of segment
        e.phdr(0, ProgramHeader.PT_NOTE, 0x100, 0, end - 0x100 + 0x40, end - 0x100 + 0x40, 4);
        assertThat(parse(e).notes()).hasSize(1);
    }

    @Test
    void notesInASegmentAlignedToEightArePaddedToEight() {
        ElfBytes e = ElfBytes.core(0x1000, 1);
        // name "AB\0" ends at 0x10F, so the descriptor starts at 0x110; it ends at 0x115, so the
        // next note starts at 0x118, its name "C\0" ends at 0x126 and its empty descriptor at 0x128.
        e.u32(0x100, 3).u32(0x104, 5).u32(0x108, 7).bytes(0x10C, new byte[] {'A', 'B', 0});
        e.bytes(0x110, new byte[] {1, 2, 3, 4, 5});
        e.u32(0x118, 2).u32(0x11C, 0).u32(0x120, 9).bytes(0x124, new byte[] {'C', 0});
        e.phdr(0, ProgramHeader.PT_NOTE, 0x100, 0, 0x28, 0x28, 8);
        ElfCore core = parse(e);
        assertThat(core.notes()).extracting(ElfNote::name).containsExactly("AB", "C");
        assertThat(core.notes().getFirst().descBytes(16)).containsExactly(1, 2, 3, 4, 5);
        assertThat(core.notes().get(1).type()).isEqualTo(9);
    }

    @Test
    void overlappingLoadsKeepTheEarlierHeadersBytesWithAWarning() {
        ElfBytes e = ElfBytes.core(0x4000, 2);
        for (int i = 0x1000; i < 0x4000; i += 8) e.u64(i, i);
        // #0 covers PA [0x10000, 0x12000) from file 0x1000; #1 covers [0x11000, 0x13000) from file 0x2000
        e.phdr(0, ProgramHeader.PT_LOAD, 0x1000, 0x1_0000, 0x2000, 0x2000, 0);
        e.phdr(1, ProgramHeader.PT_LOAD, 0x2000, 0x1_1000, 0x2000, 0x2000, 0);
        ElfCore core = parse(e);
        assertThat(core.segments()).containsExactly(new MappedMemory.Segment(0x1_0000, 0x1000, 0x2000, 0x2000),
                new MappedMemory.Segment(0x1_2000, 0x3000, 0x1000, 0x1000));
        assertThat(core.warnings()).anyMatch(w -> w.contains("PT_LOAD #1") && w.contains("overlaps PT_LOAD #0"));
        try (MappedMemory m = core.memory()) {
            assertThat(m.readLong(0x1_1000)).isEqualTo(0x2000);   // from #0's file bytes
            assertThat(m.readLong(0x1_2000)).isEqualTo(0x3000);   // #1's own part
        }
    }

    @Test
    void aLoadInsideAnEarlierOneAddsNothingAndOneAroundItFillsBothSides() {
        ElfBytes e = ElfBytes.core(0x8000, 3);
        e.phdr(0, ProgramHeader.PT_LOAD, 0x1000, 0x1_1000, 0x1000, 0x1000, 0);
        e.phdr(1, ProgramHeader.PT_LOAD, 0x1000, 0x1_1000, 0x800, 0x800, 0);
        e.phdr(2, ProgramHeader.PT_LOAD, 0x4000, 0x1_0000, 0x3000, 0x3000, 0);
        ElfCore core = parse(e);
        assertThat(core.segments()).containsExactlyInAnyOrder(new MappedMemory.Segment(0x1_1000, 0x1000, 0x1000, 0x1000),
                new MappedMemory.Segment(0x1_0000, 0x4000, 0x1000, 0x1000),
                new MappedMemory.Segment(0x1_2000, 0x6000, 0x1000, 0x1000));
        assertThat(core.warnings()).hasSize(2);
    }

    @Test
    void qemusHeaderSizeQuirkAndExtendedCountsAreRead() {
        ElfBytes e = sample().u16(52, 8);
        assertThat(parse(e).warnings()).containsExactly("e_ehsize is 8, not 64 (ignored)");
        // PN_XNUM: the real count (3) lives in sh_info of section header 0 at e_shoff.
        ElfBytes x = sample().u16(56, 0xFFFF).u64(40, 0x2C00).u32(0x2C00 + 44, 3);
        assertThat(parse(x).programHeaders()).hasSize(3);
        ElfBytes bad = sample().u16(56, 0xFFFF).u64(40, 0x2FF0);
        assertThatThrownBy(() -> parse(bad)).hasMessageContaining("PN_XNUM");
        ElfBytes huge = sample().u16(56, 0xFFFF).u64(40, 0x2C00).u32(0x2C00 + 44, -1);
        assertThatThrownBy(() -> parse(huge)).hasMessageContaining("granule reads at most");
    }

    @Test
    void aShortPrStatusIsAnErrorNotAnIndexOutOfBounds() {
        ElfBytes e = ElfBytes.core(0x1000, 1);
        int end = e.note(0x100, "CORE", 1, new byte[100]);
        e.phdr(0, ProgramHeader.PT_NOTE, 0x100, 0, end - 0x100, end - 0x100, 4);
        assertThatThrownBy(() -> parse(e).prStatus()).isInstanceOf(DumpFormatException.class).hasMessageContaining("NT_PRSTATUS");
    }

    @Test
    void everyTruncationOfAValidCoreIsRefusedWithATypedError() {
        byte[] full = sample().array();
        for (int n = 0; n < 0x2800; n += 7) {
            byte[] cut = Arrays.copyOf(full, n);
            try {
                ElfCore core = parse(cut);
                // Only a cut after all the headers and data can still parse.
                assertThat(n).isGreaterThanOrEqualTo(0x2800);
                assertThat(core.segments()).isNotEmpty();
            } catch (DumpFormatException e) {
                assertThat(e.getMessage()).isNotBlank();
            }
        }
    }
}
