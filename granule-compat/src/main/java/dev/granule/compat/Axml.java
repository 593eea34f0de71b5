package dev.granule.compat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads android:extractNativeLibs from an APK's compiled AndroidManifest.xml (Android's binary XML,
 * frameworks/base ResourceTypes.h: ResChunk_header, ResStringPool_header, ResXMLTree_attrExt,
 * ResXMLTree_attribute, Res_value). Only what that question needs: the string pool, the resource map
 * and start-element chunks. Every offset is checked against its chunk; a broken file is a
 * {@link BrokenInputException}.
 */
final class Axml {

    static final int RES_XML_TYPE = 0x0003;
    static final int RES_STRING_POOL_TYPE = 0x0001;
    static final int RES_XML_RESOURCE_MAP_TYPE = 0x0180;
    static final int RES_XML_START_ELEMENT_TYPE = 0x0102;
    static final int UTF8_FLAG = 1 << 8;
    static final int TYPE_STRING = 0x03;
    static final int TYPE_INT_BOOLEAN = 0x12;
    /** android.R.attr.extractNativeLibs. */
    static final int ATTR_EXTRACT_NATIVE_LIBS = 0x010104ea;

    private final ByteBuffer b;
    private String[] strings = new String[0];
    private int[] resourceIds = new int[0];

    private Axml(byte[] data) {
        b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The value of application's android:extractNativeLibs, or empty when the manifest does not set it. */
    static Optional<Boolean> extractNativeLibs(byte[] manifest) {
        return new Axml(manifest).find();
    }

    private Optional<Boolean> find() {
        if (b.limit() < 8 || u16(0) != RES_XML_TYPE) throw broken("not a binary XML file (type 0x" + (b.limit() < 2 ? "?" : Integer.toHexString(u16(0))) + ")");
        int end = (int) Math.min(b.limit(), u32(4));
        int at = u16(2);
        while (at + 8 <= end) {
            int type = u16(at);
            int headerSize = u16(at + 2);
            long size = u32(at + 4);
            if (size < 8 || headerSize < 8 || headerSize > size || size > end - at) throw broken("chunk at 0x" + Integer.toHexString(at) + " has size " + size);
            switch (type) {
                case RES_STRING_POOL_TYPE -> readStrings(at, headerSize, (int) size);
                case RES_XML_RESOURCE_MAP_TYPE -> readResourceIds(at, headerSize, (int) size);
                case RES_XML_START_ELEMENT_TYPE -> {
                    Optional<Boolean> v = attribute(at, headerSize, (int) size);
                    if (v.isPresent()) return v;
                }
                default -> { }
            }
            at += (int) size;
        }
        return Optional.empty();
    }

    private Optional<Boolean> attribute(int at, int headerSize, int size) {
        int ext = at + headerSize;
        need(ext, 20, at, size);
        String element = string(u32(ext + 4));
        if (!"application".equals(element)) return Optional.empty();
        int attributeStart = u16(ext + 8);
        int attributeSize = u16(ext + 10);
        int count = u16(ext + 12);
        if (attributeSize < 20) throw broken("attribute size " + attributeSize + " at 0x" + Integer.toHexString(ext));
        for (int i = 0; i < count; i++) {
            int a = ext + attributeStart + i * attributeSize;
            need(a, 20, at, size);
            long name = u32(a + 4);
            boolean matches = "extractNativeLibs".equals(string(name))
                    || (name < resourceIds.length && resourceIds[(int) name] == ATTR_EXTRACT_NATIVE_LIBS);
            if (!matches) continue;
            int dataType = b.get(a + 15) & 0xff;
            long data = u32(a + 16);
            if (dataType == TYPE_INT_BOOLEAN) return Optional.of(data != 0);
            if (dataType == TYPE_STRING) return Optional.of("true".equals(string(data)));
            throw broken("extractNativeLibs has value type 0x" + Integer.toHexString(dataType));
        }
        return Optional.empty();
    }

    private void readStrings(int at, int headerSize, int size) {
        need(at, 28, at, size);
        long count = u32(at + 8);
        int flags = (int) u32(at + 16);
        long stringsStart = u32(at + 20);
        if (count > (size - headerSize) / 4) throw broken("string pool at 0x" + Integer.toHexString(at) + " claims " + count + " strings");
        String[] s = new String[(int) count];
        boolean utf8 = (flags & UTF8_FLAG) != 0;
        for (int i = 0; i < count; i++) {
            long off = at + stringsStart + u32(at + headerSize + 4L * i);
            if (off < at || off >= at + size) throw broken("string " + i + " at 0x" + Long.toHexString(off) + " is outside its pool");
            s[i] = utf8 ? utf8String((int) off, at + size) : utf16String((int) off, at + size);
        }
        strings = s;
    }

    private String utf8String(int off, int limit) {
        int p = off;
        p += (b.get(p) & 0x80) != 0 ? 2 : 1;              // length in UTF-16 units, not needed
        need(p, 2, off, limit - off);
        int len = b.get(p) & 0xff;
        if ((len & 0x80) != 0) len = ((len & 0x7f) << 8) | (b.get(p + 1) & 0xff);
        p += (b.get(p) & 0x80) != 0 ? 2 : 1;
        need(p, len, off, limit - off);
        byte[] bytes = new byte[len];
        b.get(p, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private String utf16String(int off, int limit) {
        need(off, 2, off, limit - off);
        int len = u16(off);
        int p = off + 2;
        if ((len & 0x8000) != 0) {
            need(p, 2, off, limit - off);
            len = ((len & 0x7fff) << 16) | u16(p);
            p += 2;
        }
        if (len > (limit - p) / 2) throw broken("string at 0x" + Integer.toHexString(off) + " runs past its pool");
        char[] c = new char[len];
        for (int i = 0; i < len; i++) c[i] = (char) u16(p + 2 * i);
        return new String(c);
    }

    private void readResourceIds(int at, int headerSize, int size) {
        int n = (size - headerSize) / 4;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = (int) u32(at + headerSize + 4 * i);
        resourceIds = ids;
    }

    private String string(long index) {
        return index >= 0 && index < strings.length ? strings[(int) index] : null;
    }

    private void need(long at, long len, long chunk, long chunkSize) {
        if (at < chunk || len < 0 || at + len > chunk + chunkSize || at + len > b.limit()) {
            throw broken(len + " bytes at 0x" + Long.toHexString(at) + " are outside the chunk at 0x" + Long.toHexString(chunk));
        }
    }

    private int u16(int at) {
        if (at < 0 || at + 2 > b.limit()) throw broken("read past the end at 0x" + Integer.toHexString(at));
        return Short.toUnsignedInt(b.getShort(at));
    }

    private long u32(long at) {
        if (at < 0 || at + 4 > b.limit()) throw broken("read past the end at 0x" + Long.toHexString(at));
        return Integer.toUnsignedLong(b.getInt((int) at));
    }

    private static BrokenInputException broken(String why) {
        return new BrokenInputException("AndroidManifest.xml: " + why);
    }
}
