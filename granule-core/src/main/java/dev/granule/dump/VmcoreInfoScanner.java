package dev.granule.dump;

import dev.granule.memory.MappedMemory;
import dev.granule.memory.PhysicalMemory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Finds the kernel's own VMCOREINFO in dumped RAM, for dumps that do not carry it as a note (a raw
 * memory image, or an ELF core taken without the guest's cooperation). The kernel keeps it in
 * page-allocated buffers ({@code vmcoreinfo_note} from alloc_pages_exact, {@code vmcoreinfo_data}
 * from __get_free_pages), so only page starts need a look: a note header (namesz 11, type 0,
 * "VMCOREINFO") or the text itself ("OSRELEASE=..." first). Pages are 4K-aligned for every
 * granule, so 4K steps find it whatever page size the kernel used.
 */
public final class VmcoreInfoScanner {

    private static final byte[] NOTE_NAME = "VMCOREINFO\0\0".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] FIRST_KEY = "OSRELEASE=".getBytes(StandardCharsets.ISO_8859_1);
    private static final long STEP = 4096;

    /** Where it was found and what it says. */
    public record Found(long pa, boolean asNote, VmcoreInfo info) {}

    private VmcoreInfoScanner() {}

    /**
     * The first VMCOREINFO in RAM that has the entries a translation needs (PAGESIZE and
     * swapper_pg_dir). Only bytes the file holds are scanned (a zero-filled tail cannot hold it), so
     * the work is bounded by the file size whatever sizes the segments claim.
     */
    public static Optional<Found> scan(MappedMemory memory) {
        Found text = null;
        byte[] head = new byte[24];
        for (MappedMemory.Segment s : memory.segments()) {
            long end = s.pa() + s.fileSize();
            long first = (s.pa() + STEP - 1) & -STEP;
            for (long pa = first; pa + head.length <= end && pa >= 0; pa += STEP) {
                memory.read(pa, head, 0, head.length);
                if (isNoteHeader(head)) {
                    long descsz = le32(head, 4);
                    if (descsz > 0 && descsz <= VmcoreInfo.MAX_BYTES && memory.contains(pa + 24, descsz)) {
                        Optional<VmcoreInfo> info = parse(memory, pa + 24, (int) descsz);
                        if (info.isPresent()) return Optional.of(new Found(pa, true, info.get()));
                    }
                } else if (text == null && startsWith(head, FIRST_KEY)) {
                    int n = (int) Math.min(VmcoreInfo.MAX_BYTES, end - pa);
                    Optional<VmcoreInfo> info = parse(memory, pa, n);
                    if (info.isPresent()) text = new Found(pa, false, info.get());
                }
            }
        }
        return Optional.ofNullable(text);
    }

    private static boolean isNoteHeader(byte[] h) {
        if (le32(h, 0) != 11 || le32(h, 8) != 0) return false;
        for (int i = 0; i < NOTE_NAME.length; i++) {
            if (h[12 + i] != NOTE_NAME[i]) return false;
        }
        return true;
    }

    private static boolean startsWith(byte[] h, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if (h[i] != prefix[i]) return false;
        }
        return true;
    }

    private static long le32(byte[] b, int at) {
        return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24;
    }

    private static Optional<VmcoreInfo> parse(PhysicalMemory memory, long pa, int length) {
        byte[] text = new byte[length];
        memory.read(pa, text, 0, length);
        try {
            VmcoreInfo info = VmcoreInfo.parse(text);
            if (info.pageSize().isPresent() && info.symbol("swapper_pg_dir").isPresent()) return Optional.of(info);
        } catch (VmcoreInfoException e) {
            // a stale or torn copy: keep looking
        }
        return Optional.empty();
    }
}
