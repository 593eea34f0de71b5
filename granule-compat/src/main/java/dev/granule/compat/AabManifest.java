package dev.granule.compat;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;

import java.io.IOException;
import java.util.Optional;

/**
 * Reads android:extractNativeLibs from an Android App Bundle's {@code base/manifest/AndroidManifest.xml}, which
 * bundletool stores as an aapt2 {@code XmlNode} protobuf (frameworks/base tools/aapt2/Resources.proto:
 * XmlNode {element = 1}, XmlElement {namespace_uri = 2, name = 3, attribute = 4, child = 5}, XmlAttribute
 * {namespace_uri = 1, name = 2, value = 3, resource_id = 5}). The wire format is read with protobuf-java's
 * {@link CodedInputStream}, field by field, without generated code: only {@code <manifest>}'s
 * {@code <application>} child and its attributes are looked at, so nesting stays two levels deep. A broken
 * file is a {@link BrokenInputException}.
 */
final class AabManifest {

    static final String ANDROID_NS = "http://schemas.android.com/apk/res/android";

    private AabManifest() {}

    /** The value of application's android:extractNativeLibs, or empty when the manifest does not set it. */
    static Optional<Boolean> extractNativeLibs(byte[] xmlNode) {
        try {
            ByteString manifest = field(xmlNode, 1);   // XmlNode.element
            if (manifest == null || !"manifest".equals(name(manifest))) {
                throw new BrokenInputException("protobuf AndroidManifest.xml: the root element is not <manifest>");
            }
            Optional<Boolean> found = Optional.empty();
            CodedInputStream in = manifest.newCodedInput();
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (WireFormat.getTagFieldNumber(tag) != 5 || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    in.skipField(tag);
                    continue;
                }
                ByteString element = field(in.readBytes().toByteArray(), 1);   // XmlElement.child -> XmlNode.element
                if (element != null && "application".equals(name(element))) found = attribute(element);
            }
            return found;
        } catch (InvalidProtocolBufferException e) {
            throw new BrokenInputException("protobuf AndroidManifest.xml: " + e.getMessage());
        } catch (IOException e) {
            throw new BrokenInputException("protobuf AndroidManifest.xml: " + e.getMessage());
        }
    }

    /** The element's android:extractNativeLibs, by android.R.attr's id or by namespace and name. */
    private static Optional<Boolean> attribute(ByteString element) throws IOException {
        CodedInputStream in = element.newCodedInput();
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (WireFormat.getTagFieldNumber(tag) != 4 || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                in.skipField(tag);
                continue;
            }
            CodedInputStream a = in.readBytes().newCodedInput();
            String ns = "", name = "", value = null;
            int resourceId = 0;
            for (int t; (t = a.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(t) * 8 + WireFormat.getTagWireType(t)) {
                    case 1 * 8 + WireFormat.WIRETYPE_LENGTH_DELIMITED -> ns = a.readStringRequireUtf8();
                    case 2 * 8 + WireFormat.WIRETYPE_LENGTH_DELIMITED -> name = a.readStringRequireUtf8();
                    case 3 * 8 + WireFormat.WIRETYPE_LENGTH_DELIMITED -> value = a.readStringRequireUtf8();
                    case 5 * 8 + WireFormat.WIRETYPE_VARINT -> resourceId = a.readUInt32();
                    default -> a.skipField(t);
                }
            }
            boolean isIt = resourceId == Axml.ATTR_EXTRACT_NATIVE_LIBS || ANDROID_NS.equals(ns) && name.equals("extractNativeLibs");
            if (!isIt) continue;
            if ("true".equals(value)) return Optional.of(true);
            if ("false".equals(value)) return Optional.of(false);
            throw new BrokenInputException("protobuf AndroidManifest.xml: android:extractNativeLibs=\"" + value + "\" is not a boolean");
        }
        return Optional.empty();
    }

    /** XmlElement.name. */
    private static String name(ByteString element) throws IOException {
        CodedInputStream in = element.newCodedInput();
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (WireFormat.getTagFieldNumber(tag) == 3 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                return in.readStringRequireUtf8();
            }
            in.skipField(tag);
        }
        return "";
    }

    /** The last length-delimited occurrence of {@code number} in a message (writers emit a singular field once). */
    private static ByteString field(byte[] message, int number) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(message);
        ByteString last = null;
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (WireFormat.getTagFieldNumber(tag) == number && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                last = in.readBytes();
            } else {
                in.skipField(tag);
            }
        }
        return last;
    }
}
