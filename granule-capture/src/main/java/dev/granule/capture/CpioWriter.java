package dev.granule.capture;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a cpio archive in the "newc" format (magic 070701), the one the Linux kernel unpacks as an
 * initramfs: a 110-byte ASCII header of 13 hex fields, the NUL-terminated name padded to 4 bytes,
 * the data padded to 4 bytes, and a {@code TRAILER!!!} entry at the end.
 */
public final class CpioWriter {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int inode = 1;
    private boolean finished;

    public CpioWriter directory(String name) {
        return entry(name, 0040755, new byte[0], 2);
    }

    public CpioWriter file(String name, int permissions, byte[] data) {
        return entry(name, 0100000 | (permissions & 07777), data, 1);
    }

    private CpioWriter entry(String name, int mode, byte[] data, int links) {
        if (finished) throw new IllegalStateException("archive already finished");
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder("070701");
        long[] fields = {inode++, mode, 0, 0, links, 0, data.length, 0, 0, 0, 0, n.length + 1, 0};
        for (long f : fields) h.append(String.format("%08X", f));
        out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(n);
        out.write(0);
        pad();
        out.writeBytes(data);
        pad();
        return this;
    }

    private void pad() {
        while (out.size() % 4 != 0) out.write(0);
    }

    /** The archive, with its trailer. */
    public byte[] finish() {
        if (!finished) {
            entry("TRAILER!!!", 0, new byte[0], 1);
            finished = true;
        }
        return out.toByteArray();
    }
}
