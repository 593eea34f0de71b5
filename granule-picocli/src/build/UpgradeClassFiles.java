import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.lang.constant.ClassDesc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Build step of granule-picocli, run as a single source file ({@code java UpgradeClassFiles.java IN.jar
 * OUT_DIR RELEASE}): unpacks a jar into OUT_DIR, rewriting every class file older than Java 6 (major
 * version 50) to the class-file version of RELEASE with stack maps computed by the JDK's class-file
 * API. Nothing else in a class changes: constant pool, instructions, attributes stay as they are.
 *
 * <p>Why: picocli ships Java 5 class files, which only the old type-inferring verifier accepts, and
 * JDK 25's ahead-of-time cache refuses to archive a class that verifier has linked ("Old class has
 * been linked"), so every start of the tool loaded and verified picocli's ~180 classes from the jar.
 * With stack maps the split verifier checks them at cache creation and the cache keeps them linked.
 */
public class UpgradeClassFiles {

    /** The first class-file version whose classes carry stack maps (Java 6). */
    private static final int FIRST_WITH_STACK_MAPS = ClassFile.JAVA_6_VERSION;

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: java UpgradeClassFiles.java IN.jar OUT_DIR RELEASE");
            System.exit(2);
        }
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int major = ClassFile.JAVA_1_VERSION + Integer.parseInt(args[2]) - 1; // release 25 -> major 69
        Map<String, byte[]> entries = read(in);

        // Merging two types at a branch needs their common super class; picocli's own classes are
        // looked up in the jar, the JDK's through the running JDK.
        ClassHierarchyResolver fromJar = ClassHierarchyResolver.ofResourceParsing(
                (ClassDesc c) -> stream(entries.get(internalName(c) + ".class")));
        ClassFile classFile = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                ClassFile.ClassHierarchyResolverOption.of(fromJar.orElse(ClassHierarchyResolver.defaultResolver())));
        // Rebuilding each method body (an identity code transform) is what makes the API write stack maps.
        ClassTransform upgrade = ClassTransform.dropping(e -> e instanceof ClassFileVersion)
                .andThen(ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL))
                .andThen(ClassTransform.endHandler(b -> b.withVersion(major, 0)));

        int upgraded = 0;
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            String name = e.getKey();
            byte[] bytes = e.getValue();
            if (name.equals("META-INF/MANIFEST.MF")) continue; // the module's jar writes its own
            if (name.endsWith(".class") && !name.endsWith("module-info.class")) {
                ClassModel model = classFile.parse(bytes);
                if (model.majorVersion() < FIRST_WITH_STACK_MAPS) {
                    bytes = classFile.transformClass(model, upgrade);
                    upgraded++;
                }
            }
            // picocli keeps its module descriptor (module info.picocli) under META-INF/versions/9 for its
            // Java 5 readers; here every class needs Java 25 anyway, and a class directory on the module
            // path (a reactor build that stops before the jar) reads a descriptor only at the root.
            if (name.matches("META-INF/versions/\\d+/module-info\\.class")) name = "module-info.class";
            Path target = out.resolve(name).normalize();
            if (!target.startsWith(out.normalize())) throw new IOException(in + ": entry outside the jar's tree: " + name);
            Files.createDirectories(target.getParent());
            Files.write(target, bytes);
        }
        System.out.println("UpgradeClassFiles: " + upgraded + " class files of " + in.getFileName() + " now version " + major);
    }

    /** Every file of the jar by its name, in the jar's order. */
    private static Map<String, byte[]> read(Path jar) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(jar))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (!e.isDirectory()) entries.put(e.getName(), zip.readAllBytes());
            }
        }
        return entries;
    }

    private static String internalName(ClassDesc c) {
        String d = c.descriptorString();
        return d.substring(1, d.length() - 1);
    }

    private static InputStream stream(byte[] bytes) {
        return bytes == null ? null : new ByteArrayInputStream(bytes);
    }
}
