package dev.granule.compat;

import io.airlift.compress.zstd.ZstdOutputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;

/** Test archives written with the libraries' writers (the reader under test only reads). */
final class Archives {

    private Archives() {}

    static Map<String, byte[]> entries(Object... nameThenBytes) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenBytes.length; i += 2) m.put((String) nameThenBytes[i], (byte[]) nameThenBytes[i + 1]);
        return m;
    }

    static byte[] zip(Map<String, byte[]> entries) throws IOException {
        return zip(entries, false, 0);
    }

    /** {@code stored}: entries uncompressed; {@code alignment} > 0: data of stored entries aligned to it. */
    static byte[] zip(Map<String, byte[]> entries, boolean stored, int alignment) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream z = new ZipArchiveOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                ZipArchiveEntry entry = new ZipArchiveEntry(e.getKey());
                if (stored) {
                    entry.setMethod(ZipArchiveEntry.STORED);
                    entry.setSize(e.getValue().length);
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    entry.setCrc(crc.getValue());
                    if (alignment > 0) entry.setAlignment(alignment);
                }
                z.putArchiveEntry(entry);
                z.write(e.getValue());
                z.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    static byte[] tar(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bytes)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : entries.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(e.getKey());
                entry.setSize(e.getValue().length);
                t.putArchiveEntry(entry);
                t.write(e.getValue());
                t.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    static byte[] ar(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ArArchiveOutputStream a = new ArArchiveOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                a.putArchiveEntry(new ArArchiveEntry(e.getKey(), e.getValue().length));
                a.write(e.getValue());
                a.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    interface Wrap { OutputStream wrap(OutputStream o) throws IOException; }

    static byte[] compress(byte[] data, Wrap wrap) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream o = wrap.wrap(bytes)) {
            o.write(data);
        }
        return bytes.toByteArray();
    }

    static byte[] gzip(byte[] data) throws IOException {
        return compress(data, GZIPOutputStream::new);
    }

    static byte[] xz(byte[] data) throws IOException {
        return compress(data, o -> new XZOutputStream(o, new LZMA2Options()));
    }

    static byte[] zstd(byte[] data) throws IOException {
        return compress(data, ZstdOutputStream::new);
    }
}
