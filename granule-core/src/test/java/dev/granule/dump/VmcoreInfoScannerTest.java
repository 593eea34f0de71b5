package dev.granule.dump;

import dev.granule.memory.MappedMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class VmcoreInfoScannerTest {

    private static final String TEXT = "OSRELEASE=6.99\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffff800081858000\n";

    /** A core whose one PT_LOAD holds {@code ram} at PA 0x40000000 and claims {@code memsz} bytes. */
    private static ElfCore core(byte[] ram, long memsz) {
        ElfBytes e = ElfBytes.core(0x1000 + ram.length, 1);
        e.phdr(0, ProgramHeader.PT_LOAD, 0x1000, 0x4000_0000L, ram.length, memsz, 0);
        e.bytes(0x1000, ram);
        return ElfCore.parse(MemorySegment.ofArray(e.array()));
    }

    @Test
    void findsTheKernelsNoteAtAPageStart() {
        byte[] ram = new byte[0x4000];
        ElfBytes note = new ElfBytes(0x1000);
        note.note(0, "VMCOREINFO", 0, TEXT.getBytes(StandardCharsets.ISO_8859_1));
        System.arraycopy(note.array(), 0, ram, 0x2000, 0x1000);
        try (MappedMemory m = core(ram, ram.length).memory()) {
            VmcoreInfoScanner.Found f = VmcoreInfoScanner.scan(m).orElseThrow();
            assertThat(f.pa()).isEqualTo(0x4000_2000L);
            assertThat(f.asNote()).isTrue();
            assertThat(f.info().symbol("swapper_pg_dir")).hasValue(0xffff800081858000L);
        }
    }

    @Test
    void findsTheBareTextWhenThereIsNoNote() {
        byte[] ram = new byte[0x3000];
        byte[] t = TEXT.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(t, 0, ram, 0x1000, t.length);
        try (MappedMemory m = core(ram, ram.length).memory()) {
            VmcoreInfoScanner.Found f = VmcoreInfoScanner.scan(m).orElseThrow();
            assertThat(f.pa()).isEqualTo(0x4000_1000L);
            assertThat(f.asNote()).isFalse();
        }
    }

    @Test
    void aNoteWithoutTheNeededEntriesOrNotOnAPageStartIsNotTaken() {
        byte[] ram = new byte[0x3000];
        ElfBytes note = new ElfBytes(0x1000);
        note.note(0, "VMCOREINFO", 0, "OSRELEASE=6.99\n".getBytes(StandardCharsets.ISO_8859_1));
        System.arraycopy(note.array(), 0, ram, 0x1000, 0x100);
        byte[] t = TEXT.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(t, 0, ram, 0x2010, t.length);
        try (MappedMemory m = core(ram, ram.length).memory()) {
            assertThat(VmcoreInfoScanner.scan(m)).isEmpty();
        }
    }

    /** A segment that claims 2^50 zero-filled bytes must not make the scan walk them. */
    @Test
    @Timeout(10)
    void onlyFileBackedBytesAreScanned() {
        try (MappedMemory m = core(new byte[0x2000], 1L << 50).memory()) {
            assertThat(VmcoreInfoScanner.scan(m)).isEmpty();
        }
    }
}
