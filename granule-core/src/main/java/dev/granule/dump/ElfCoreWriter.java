package dev.granule.dump;

import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link SparseMemory} as an arm64 ELF core, the format kdump and QEMU produce, so that
 * tables built with the engine can be read back like a real kernel's dump (synthetic dumps for
 * geometries no packaged kernel uses).
 *
 * <p>Every RAM range becomes PT_LOAD headers: runs of written (non-zero) 64K chunks carry file
 * bytes, the stretches between them have {@code p_filesz = 0} and read as zero, so a 52-bit RAM
 * model costs only what was written. Notes (VMCOREINFO, NT_PRSTATUS) go into one PT_NOTE with
 * 4-byte alignment, as Linux writes them.
 */
public final class ElfCoreWriter {

    /** A note to write: owner name, type, descriptor. */
    public record Note(String name, int type, byte[] desc) {
        public Note {
            desc = desc.clone();
        }

        public static Note vmcoreInfo(String text) {
            return new Note(ElfNote.VMCOREINFO, 0, text.getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    private ElfCoreWriter() {}

    public static void write(Path out, SparseMemory memory, List<Note> notes) throws IOException {
        Map<Long, byte[]> chunks = memory.snapshot().chunks();
        // (pa, memsz, chunk-run start or -1 for zero-fill) per PT_LOAD
        List<long[]> loads = new ArrayList<>();
        for (MemoryRange r : memory.ranges()) {
            long pa = r.base();
            while (pa < r.end()) {
                long runStart = pa;
                boolean written = chunks.containsKey(pa);
                while (pa < r.end() && chunks.containsKey(pa) == written) pa += SparseMemory.CHUNK_SIZE;
                loads.add(new long[] {runStart, pa - runStart, written ? 1 : 0});
            }
        }
        byte[] noteBytes = encodeNotes(notes);
        int phnum = loads.size() + 1;
        if (phnum >= 0xFFFF) throw new IllegalArgumentException("too many PT_LOADs (" + phnum + ") for e_phnum");
        long phoff = ElfCore.EHDR_SIZE;
        long noteOff = phoff + (long) phnum * ElfCore.PHDR_SIZE;
        long dataOff = (noteOff + noteBytes.length + 4095) & -4096L;

        ByteBuffer head = ByteBuffer.allocate((int) dataOff).order(ByteOrder.LITTLE_ENDIAN);
        head.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1, 0});
        head.position(16);
        head.putShort((short) ElfCore.ET_CORE).putShort((short) ElfCore.EM_AARCH64).putInt(1);
        head.putLong(0).putLong(phoff).putLong(0).putInt(0);
        head.putShort((short) ElfCore.EHDR_SIZE).putShort((short) ElfCore.PHDR_SIZE).putShort((short) phnum);
        head.putShort((short) 0).putShort((short) 0).putShort((short) 0);
        // PT_NOTE
        head.putInt(ProgramHeader.PT_NOTE).putInt(0).putLong(noteOff).putLong(0).putLong(0)
                .putLong(noteBytes.length).putLong(noteBytes.length).putLong(4);
        long fileOff = dataOff;
        for (long[] l : loads) {
            long filesz = l[2] == 1 ? l[1] : 0;
            head.putInt(ProgramHeader.PT_LOAD).putInt(4 /* PF_R */).putLong(filesz == 0 ? 0 : fileOff).putLong(0)
                    .putLong(l[0]).putLong(filesz).putLong(l[1]).putLong(0);
            fileOff += filesz;
        }
        head.position((int) noteOff);
        head.put(noteBytes);
        try (OutputStream os = Files.newOutputStream(out)) {
            os.write(head.array());
            for (long[] l : loads) {
                if (l[2] != 1) continue;
                for (long pa = l[0]; pa < l[0] + l[1]; pa += SparseMemory.CHUNK_SIZE) os.write(chunks.get(pa));
            }
        }
    }

    /** Notes with the header, name and descriptor each padded to 4 bytes. */
    static byte[] encodeNotes(List<Note> notes) {
        int size = 0;
        for (Note n : notes) size += 12 + pad4(n.name().length() + 1) + pad4(n.desc().length);
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        for (Note n : notes) {
            byte[] name = n.name().getBytes(StandardCharsets.ISO_8859_1);
            b.putInt(name.length + 1).putInt(n.desc().length).putInt(n.type());
            b.put(name).put((byte) 0);
            b.position(b.position() + pad4(name.length + 1) - name.length - 1);
            b.put(n.desc());
            b.position(b.position() + pad4(n.desc().length) - n.desc().length);
        }
        return b.array();
    }

    private static int pad4(int n) { return (n + 3) & -4; }
}
