package dev.granule.dump;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * One ELF note: owner name, type and descriptor. The descriptor is a view of the file (no copy), so
 * a note that claims gigabytes costs nothing until it is read, and is read only with a limit.
 *
 * @param at   file offset of the note header
 * @param desc the descriptor bytes, a read-only view of the file
 */
public record ElfNote(String name, int type, long at, MemorySegment desc) {

    public static final String CORE = "CORE";
    public static final String LINUX = "LINUX";
    public static final String VMCOREINFO = "VMCOREINFO";

    public static final int NT_PRSTATUS = 1;
    public static final int NT_PRFPREG = 2;
    public static final int NT_PRPSINFO = 3;
    public static final int NT_ARM_SVE = 0x405;
    public static final int NT_ARM_PAC_MASK = 0x406;

    public long descSize() { return desc.byteSize(); }

    /** The descriptor's bytes, refusing a descriptor larger than {@code limit} (what a caller can sensibly hold). */
    public byte[] descBytes(int limit) {
        if (desc.byteSize() > limit) {
            throw new DumpFormatException(at, String.format("%s note type %#x has a %d-byte descriptor; at most %d expected",
                    name, type, desc.byteSize(), limit));
        }
        return desc.toArray(ValueLayout.JAVA_BYTE);
    }

    /** The descriptor as text, up to its first NUL (VMCOREINFO is NUL-padded). */
    public String descText(int limit) {
        byte[] b = descBytes(limit);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    /** A readable type, as readelf names the usual ones. */
    public String typeName() {
        if (CORE.equals(name) || LINUX.equals(name)) {
            return switch (type) {
                case NT_PRSTATUS -> "NT_PRSTATUS";
                case NT_PRFPREG -> "NT_PRFPREG";
                case NT_PRPSINFO -> "NT_PRPSINFO";
                case NT_ARM_SVE -> "NT_ARM_SVE";
                case NT_ARM_PAC_MASK -> "NT_ARM_PAC_MASK";
                default -> String.format("%#x", type);
            };
        }
        return String.format("%#x", type);
    }
}
