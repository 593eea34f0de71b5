package dev.granule.compat;

import com.google.protobuf.CodedOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * AAB manifests written field by field with protobuf-java's CodedOutputStream from aapt2's Resources.proto
 * (XmlNode, XmlElement, XmlAttribute, XmlNamespace, SourcePosition), with the fields a real one carries
 * around the attribute asked for (namespace declarations, source positions, other attributes and children).
 */
class AabManifestTest {

    @TempDir
    Path tmp;

    static final String ANDROID = "http://schemas.android.com/apk/res/android";

    /** One message: {@code fields} as (number, value) pairs; a value is a String, an Integer (varint) or a byte[] (message). */
    static byte[] message(Object... fields) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        for (int i = 0; i < fields.length; i += 2) {
            int n = (Integer) fields[i];
            switch (fields[i + 1]) {
                case String s -> out.writeString(n, s);
                case Integer v -> out.writeUInt32(n, v);
                case byte[] m -> out.writeByteArray(n, m);
                default -> throw new IllegalArgumentException();
            }
        }
        out.flush();
        return bytes.toByteArray();
    }

    static byte[] source(int line) throws IOException {
        return message(1, line, 2, 4);   // SourcePosition {line_number = 1, column_number = 2}
    }

    /** XmlAttribute {namespace_uri = 1, name = 2, value = 3, source = 4, resource_id = 5}. */
    static byte[] attribute(String ns, String name, String value, int resourceId) throws IOException {
        return message(1, ns, 2, name, 3, value, 4, source(3), 5, resourceId);
    }

    /** XmlNode {element = 1} of XmlElement {namespace_declaration = 1, name = 3, attribute = 4, child = 5}. */
    static byte[] element(String name, List<byte[]> attributes, List<byte[]> children) throws IOException {
        List<Object> fields = new ArrayList<>(List.of(1, message(1, "android", 2, ANDROID, 3, source(1)), 3, name));
        for (byte[] a : attributes) fields.addAll(List.of(4, a));
        for (byte[] c : children) fields.addAll(List.of(5, c));
        return message(1, message(fields.toArray()), 3, source(1));
    }

    /** {@code <manifest package=...><uses-sdk/><application android:label=... [android:extractNativeLibs=value]/></manifest>}. */
    static byte[] manifest(String extractNativeLibs) throws IOException {
        List<byte[]> appAttributes = new ArrayList<>(List.of(attribute(ANDROID, "label", "App", 0x01010001)));
        if (extractNativeLibs != null) appAttributes.add(attribute(ANDROID, "extractNativeLibs", extractNativeLibs, 0x010104ea));
        byte[] usesSdk = element("uses-sdk", List.of(attribute(ANDROID, "minSdkVersion", "24", 0x0101020c)), List.of());
        byte[] text = message(2, "\n  ");   // XmlNode.text between elements
        return element("manifest", List.of(attribute("", "package", "org.example", 0)),
                List.of(usesSdk, text, element("application", appAttributes, List.of())));
    }

    @Test
    void readsTheApplicationsExtractNativeLibs() throws IOException {
        assertThat(AabManifest.extractNativeLibs(manifest("false"))).contains(false);
        assertThat(AabManifest.extractNativeLibs(manifest("true"))).contains(true);
        assertThat(AabManifest.extractNativeLibs(manifest(null))).isEmpty();
    }

    @Test
    void anAttributeNamedOnlyByItsResourceIdCounts() throws IOException {
        byte[] app = element("application", List.of(message(3, "false", 5, 0x010104ea)), List.of());
        assertThat(AabManifest.extractNativeLibs(element("manifest", List.of(), List.of(app)))).contains(false);
    }

    @Test
    void brokenManifestsAreOneLineErrors() throws IOException {
        byte[] good = manifest("false");
        assertThatThrownBy(() -> AabManifest.extractNativeLibs(Arrays.copyOf(good, good.length - 7)))
                .isInstanceOf(BrokenInputException.class).hasMessageStartingWith("protobuf AndroidManifest.xml: ");
        assertThatThrownBy(() -> AabManifest.extractNativeLibs(element("application", List.of(), List.of())))
                .isInstanceOf(BrokenInputException.class).hasMessageContaining("not <manifest>");
        assertThatThrownBy(() -> AabManifest.extractNativeLibs(manifest("maybe")))
                .isInstanceOf(BrokenInputException.class).hasMessageContaining("is not a boolean");
        assertThatThrownBy(() -> AabManifest.extractNativeLibs(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}))
                .isInstanceOf(BrokenInputException.class);
    }

    @Test
    void theScannerNotesTheBundlesSettingAndStillJudgesItsLibraries() throws IOException {
        byte[] aab = Archives.zip(Archives.entries(
                "BundleConfig.pb", new byte[0],
                "base/manifest/AndroidManifest.xml", manifest("false"),
                "base/lib/arm64-v8a/libx.so", ElfBuilder.sharedObject(0x1000).build()));
        Path file = tmp.resolve("app.aab");
        Files.write(file, aab);
        List<Finding> findings = new ArrayList<>();
        new Scanner(findings::add).scan(file);
        assertThat(findings).filteredOn(f -> f instanceof Finding.PackageNote).singleElement()
                .extracting(f -> ((Finding.PackageNote) f).message()).asString()
                .contains("its base manifest sets android:extractNativeLibs=\"false\" (libraries mapped from the APKs in place)");
        Optional<ElfReport> lib = findings.stream().filter(f -> f instanceof Finding.ElfFound).map(f -> ((Finding.ElfFound) f).report()).findFirst();
        assertThat(lib).get().extracting(ElfReport::largestPageSize).isEqualTo(4096L);
    }
}
