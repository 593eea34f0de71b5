package dev.granule.dump;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The bytes of a dump file as its format defines them: the mapped file itself, or the file a
 * flattened stream describes ({@link FlattenedFile}) read in place. Offsets are offsets in that
 * logical file; a read past its end is a {@link DumpFormatException} naming the field read.
 */
public sealed interface DumpBytes permits DumpBytes.Mapped, FlattenedFile {

    ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Size of the logical file in bytes. */
    long size();

    /** Copies {@code length} bytes at {@code offset} into {@code dst}; {@code field} names what is read, for errors. */
    void copy(long offset, byte[] dst, int at, int length, String field);

    /** The bytes at {@code [offset, offset + length)} without copying, if they are one piece of the mapped file. */
    MemorySegment slice(long offset, long length);

    /**
     * Whether the file itself holds some byte of {@code [offset, offset + length)}: true for any
     * non-empty range of a mapped file, false where a flattened stream's records leave a hole there
     * (its bytes read as zeros without being stored anywhere).
     */
    default boolean holds(long offset, long length) { return length > 0; }

    default long u64(long offset, String field) {
        byte[] b = new byte[8];
        copy(offset, b, 0, 8, field);
        return MemorySegment.ofArray(b).get(U64, 0);
    }

    default int u32(long offset, String field) {
        byte[] b = new byte[4];
        copy(offset, b, 0, 4, field);
        return MemorySegment.ofArray(b).get(U32, 0);
    }

    /** Checks that {@code [offset, offset + length)} lies in the file, naming {@code field} if not. */
    default void check(long offset, long length, String field) {
        if (offset < 0 || length < 0 || offset > size() || length > size() - offset) {
            throw new DumpFormatException(offset < 0 ? -1 : offset, String.format(
                    "%s: bytes [%#x, +%#x) lie outside the %d-byte dump (truncated file?)", field, offset, length, size()));
        }
    }

    /** A file that is its own logical file (the KDUMP form, an ELF core). */
    record Mapped(MemorySegment image) implements DumpBytes {
        @Override
        public long size() { return image.byteSize(); }

        @Override
        public void copy(long offset, byte[] dst, int at, int length, String field) {
            check(offset, length, field);
            MemorySegment.copy(image, ValueLayout.JAVA_BYTE, offset, dst, at, length);
        }

        @Override
        public MemorySegment slice(long offset, long length) {
            check(offset, length, "slice");
            return image.asSlice(offset, length);
        }

        @Override
        public long u64(long offset, String field) {
            check(offset, 8, field);
            return image.get(U64, offset);
        }

        @Override
        public int u32(long offset, String field) {
            check(offset, 4, field);
            return image.get(U32, offset);
        }
    }
}
