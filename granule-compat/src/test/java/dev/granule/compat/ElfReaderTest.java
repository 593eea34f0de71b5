package dev.granule.compat;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Broken and hostile headers are one-line reasons naming the field or offset. */
class ElfReaderTest {

    static Elf read(byte[] b) {
        return Elf.read(MemorySegment.ofArray(b));
    }

    @Test
    void aTruncatedHeaderNamesItsSize() {
        byte[] elf = Arrays.copyOf(ElfBuilder.sharedObject(0x10000).build(), 40);
        assertThatThrownBy(() -> read(elf)).isInstanceOf(BrokenInputException.class).hasMessage("ELF: truncated header (40 of 64 bytes)");
    }

    @Test
    void aProgramHeaderTablePastTheEndIsRefusedWithItsOffset() {
        byte[] elf = Arrays.copyOf(ElfBuilder.sharedObject(0x10000).build(), 100);
        assertThatThrownBy(() -> read(elf).programHeaders()).isInstanceOf(BrokenInputException.class)
                .hasMessageContaining("program header table at e_phoff 0x40 (2 x 56 bytes) runs past the end of the file (0x64)");
    }

    @Test
    void badClassAndEncodingAreNamed() {
        byte[] elf = ElfBuilder.sharedObject(0x10000).build();
        elf[4] = 9;
        assertThatThrownBy(() -> read(elf)).hasMessage("ELF: bad EI_CLASS 9");
        elf[4] = 2;
        elf[5] = 0;
        assertThatThrownBy(() -> read(elf)).hasMessage("ELF: bad EI_DATA 0");
    }

    @Test
    void aHugeOffsetIsRefusedNotWrapped() {
        byte[] elf = ElfBuilder.sharedObject(0x10000).build();
        elf[32 + 7] = (byte) 0x80;   // e_phoff = 0x8000000000000040
        assertThatThrownBy(() -> read(elf)).isInstanceOf(BrokenInputException.class).hasMessageContaining("e_phoff");
        byte[] elf2 = ElfBuilder.sharedObject(0x10000).build();
        elf2[32] = (byte) 0xf0;       // e_phoff = 0xf0: table runs off the 4K file? no, it fits; make e_phnum huge instead
        elf2[56] = (byte) 0xfe;
        elf2[57] = (byte) 0xff;
        assertThatThrownBy(() -> read(elf2).programHeaders()).isInstanceOf(BrokenInputException.class)
                .hasMessageContaining("65534 x 56 bytes");
    }

    @Test
    void programHeadersAreReadAsTheSpecLaysThemOut() {
        Elf elf = read(ElfBuilder.sharedObject(0x4000).elf32().bigEndian().build());
        var h = elf.programHeaders().get(1);
        assertThat(h.p_offset()).isEqualTo(0x1c00);
        assertThat(h.p_vaddr()).isEqualTo(0x5c00);
        assertThat(h.p_filesz()).isEqualTo(0x200);
        assertThat(h.p_memsz()).isEqualTo(0x400);
        assertThat(h.p_align()).isEqualTo(0x4000);
        assertThat(h.flagText()).isEqualTo("RW ");
    }
}
