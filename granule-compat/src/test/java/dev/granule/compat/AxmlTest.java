package dev.granule.compat;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Binary manifests built chunk by chunk from ResourceTypes.h's structures. */
class AxmlTest {

    /** {@code <manifest><application android:extractNativeLibs="value"/></manifest>}, UTF-16 string pool. */
    static byte[] manifest(boolean value) {
        String[] strings = {"extractNativeLibs", "manifest", "application", "http://schemas.android.com/apk/res/android"};
        // String pool: header 28 bytes, offsets, then u16 length + UTF-16 chars + u16 0 per string.
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        int[] offsets = new int[strings.length];
        for (int i = 0; i < strings.length; i++) {
            offsets[i] = data.size();
            byte[] chars = strings[i].getBytes(StandardCharsets.UTF_16LE);
            data.write(strings[i].length());
            data.write(0);
            data.writeBytes(chars);
            data.write(0);
            data.write(0);
        }
        while (data.size() % 4 != 0) data.write(0);
        int poolSize = 28 + 4 * strings.length + data.size();
        ByteBuffer pool = le(poolSize);
        pool.putShort((short) 1).putShort((short) 28).putInt(poolSize).putInt(strings.length).putInt(0).putInt(0)
                .putInt(28 + 4 * strings.length).putInt(0);
        for (int o : offsets) pool.putInt(o);
        pool.put(data.toByteArray());
        // Resource map: string 0 is android:extractNativeLibs.
        ByteBuffer map = le(12).putShort((short) 0x180).putShort((short) 8).putInt(12).putInt(0x010104ea);
        ByteBuffer manifestElement = startElement(1, 0, 0, false);
        ByteBuffer application = startElement(2, 1, 0, value);
        int total = 8 + poolSize + 12 + manifestElement.capacity() + application.capacity();
        ByteBuffer file = le(total).putShort((short) 3).putShort((short) 8).putInt(total);
        file.put(pool.array()).put(map.array()).put(manifestElement.array()).put(application.array());
        return file.array();
    }

    private static ByteBuffer startElement(int name, int attributes, int attrName, boolean value) {
        int size = 16 + 20 + 20 * attributes;
        ByteBuffer b = le(size).putShort((short) 0x102).putShort((short) 16).putInt(size).putInt(1).putInt(-1);
        b.putInt(-1).putInt(name).putShort((short) 20).putShort((short) 20).putShort((short) attributes)
                .putShort((short) 0).putShort((short) 0).putShort((short) 0);
        for (int i = 0; i < attributes; i++) {
            // ns = android, name, rawValue = none, Res_value {size 8, res0, TYPE_INT_BOOLEAN, 0 or -1}.
            b.putInt(3).putInt(attrName).putInt(-1).putShort((short) 8).put((byte) 0).put((byte) 0x12).putInt(value ? -1 : 0);
        }
        return b;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void theApplicationsBooleanIsRead() {
        assertThat(Axml.extractNativeLibs(manifest(false))).contains(false);
        assertThat(Axml.extractNativeLibs(manifest(true))).contains(true);
    }

    @Test
    void aTruncatedManifestIsOneLine() {
        byte[] m = java.util.Arrays.copyOf(manifest(true), 60);
        assertThatThrownBy(() -> Axml.extractNativeLibs(m)).isInstanceOf(BrokenInputException.class)
                .hasMessageStartingWith("AndroidManifest.xml: ");
    }
}
