package dev.granule.picocli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.FieldModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.ConstantPool;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * This module's classes (on the test class path) against the released picocli jar they were made
 * from (target/original/picocli.jar): same classes, same members, byte-identical instructions; the
 * class-file version of the release; stack maps where the split verifier needs them; and the JVM's
 * own verifier accepts every class when it is initialised.
 */
class UpgradedClassFilesTest {

    static final int RELEASE = Integer.getInteger("granule.release", 25);
    static final List<String> CLASSES = new ArrayList<>();
    static ZipFile original;

    @BeforeAll
    static void listTheOriginal() throws IOException {
        String jar = System.getProperty("granule.picocli.original", "target/original/picocli.jar");
        original = new ZipFile(Path.of(jar).toFile());
        for (ZipEntry e : Collections.list(original.entries())) {
            if (e.getName().endsWith(".class") && !e.getName().endsWith("module-info.class")) CLASSES.add(e.getName());
        }
        assertThat(CLASSES).as("classes in " + jar).hasSizeGreaterThan(100).contains("picocli/CommandLine.class");
    }

    static byte[] originalBytes(String name) throws IOException {
        try (InputStream in = original.getInputStream(original.getEntry(name))) {
            return in.readAllBytes();
        }
    }

    static byte[] upgradedBytes(String name) throws IOException {
        try (InputStream in = UpgradedClassFilesTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name + " on the class path").isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void theOriginalIsJava5AndEveryClassIsNowTheReleasesVersion() throws IOException {
        // Class file header (JVMS 4.1): u4 magic 0xCAFEBABE, u2 minor_version, u2 major_version;
        // Java 5 is major 49, Java N (N >= 2) is major 44 + N.
        for (String name : CLASSES) {
            ByteBuffer before = ByteBuffer.wrap(originalBytes(name));
            ByteBuffer after = ByteBuffer.wrap(upgradedBytes(name));
            assertThat(before.getInt(0)).isEqualTo(0xCAFEBABE);
            assertThat(before.getShort(6)).as(name + " in the released jar").isEqualTo((short) 49);
            assertThat(after.getInt(0)).isEqualTo(0xCAFEBABE);
            assertThat(after.getShort(4)).as(name).isZero();
            assertThat(after.getShort(6)).as(name).isEqualTo((short) (44 + RELEASE));
        }
    }

    @Test
    void instructionsMembersAndConstantsAreUnchanged() throws IOException {
        int methodsWithCode = 0, withStackMaps = 0;
        for (String name : CLASSES) {
            ClassModel before = ClassFile.of().parse(originalBytes(name));
            ClassModel after = ClassFile.of().parse(upgradedBytes(name));
            assertThat(after.thisClass().asInternalName()).isEqualTo(before.thisClass().asInternalName());
            assertThat(after.flags().flagsMask()).as(name).isEqualTo(before.flags().flagsMask());
            assertThat(after.superclass().map(c -> c.asInternalName())).isEqualTo(before.superclass().map(c -> c.asInternalName()));
            assertThat(after.interfaces().stream().map(c -> c.asInternalName()).toList())
                    .isEqualTo(before.interfaces().stream().map(c -> c.asInternalName()).toList());
            assertSameConstantsThenOnlyStackMapOnes(name, before, after);
            assertThat(after.fields().stream().map(UpgradedClassFilesTest::field).toList())
                    .isEqualTo(before.fields().stream().map(UpgradedClassFilesTest::field).toList());
            assertThat(attributeNames(after)).as(name).isEqualTo(attributeNames(before));
            assertThat(after.methods()).hasSameSizeAs(before.methods());
            for (int i = 0; i < before.methods().size(); i++) {
                MethodModel b = before.methods().get(i), a = after.methods().get(i);
                String method = name + " " + b.methodName().stringValue() + b.methodType().stringValue();
                assertThat(a.methodName().stringValue() + a.methodType().stringValue())
                        .isEqualTo(b.methodName().stringValue() + b.methodType().stringValue());
                assertThat(a.flags().flagsMask()).as(method).isEqualTo(b.flags().flagsMask());
                assertThat(attributeNames(a)).as(method).isEqualTo(attributeNames(b));
                var codeBefore = b.findAttribute(Attributes.code());
                var codeAfter = a.findAttribute(Attributes.code());
                assertThat(codeAfter.isPresent()).as(method).isEqualTo(codeBefore.isPresent());
                if (codeBefore.isEmpty()) continue;
                methodsWithCode++;
                // The same bytes: same instructions, same constant-pool indexes, same branch offsets.
                assertThat(codeAfter.get().codeArray()).as(method).isEqualTo(codeBefore.get().codeArray());
                assertThat(codeAfter.get().exceptionHandlers()).as(method).hasSameSizeAs(codeBefore.get().exceptionHandlers());
                assertThat(codeBefore.get().findAttribute(Attributes.stackMapTable())).as(method).isEmpty();
                if (hasBranchOrHandler(codeAfter.get())) {
                    // JVMS 4.10.1: a method with a branch target or handler needs a frame there.
                    assertThat(codeAfter.get().findAttribute(Attributes.stackMapTable())).as(method).isPresent();
                    withStackMaps++;
                }
            }
        }
        assertThat(methodsWithCode).isGreaterThan(1000);
        assertThat(withStackMaps).isGreaterThan(300);
    }

    @Test
    void picocliModuleDescriptorIsAtTheRootUnchanged() throws Exception {
        // Read from where picocli's classes come from: a class loader asked for "module-info.class"
        // may answer with any module's.
        Path classes = Path.of(Class.forName("picocli.CommandLine").getProtectionDomain().getCodeSource().getLocation().toURI());
        byte[] descriptor = java.nio.file.Files.readAllBytes(classes.resolve("module-info.class"));
        assertThat(descriptor).isEqualTo(originalBytes("META-INF/versions/9/module-info.class"));
        assertThat(java.lang.module.ModuleDescriptor.read(ByteBuffer.wrap(descriptor)).name()).isEqualTo("info.picocli");
    }

    @Test
    void theJvmsVerifierAcceptsEveryClass() throws ClassNotFoundException {
        // Initialising a class links it, and linking a class of version >= 51 runs the type-checking
        // verifier over its stack maps with no fall-back to the old one (JVMS 4.10): a wrong frame is
        // a VerifyError here.
        ClassLoader loader = UpgradedClassFilesTest.class.getClassLoader();
        for (String name : CLASSES) {
            String binaryName = name.substring(0, name.length() - ".class".length()).replace('/', '.');
            Class<?> c = Class.forName(binaryName, true, loader);
            assertThat(c.getClassLoader()).isSameAs(loader);
        }
    }

    /**
     * The original constant pool, entry for entry at the same indexes (so the instructions' operands mean
     * what they meant), followed only by what stack maps add: the attribute's name and class entries
     * for the types of their frames.
     */
    private static void assertSameConstantsThenOnlyStackMapOnes(String name, ClassModel before, ClassModel after) {
        ConstantPool b = before.constantPool(), a = after.constantPool();
        assertThat(a.size()).as(name + " constant pool").isGreaterThanOrEqualTo(b.size());
        for (int i = 1; i < a.size(); ) {
            PoolEntry entry = a.entryByIndex(i);
            if (i < b.size()) {
                PoolEntry was = b.entryByIndex(i);
                assertThat(entry.tag() + " " + entry).as(name + " constant " + i).isEqualTo(was.tag() + " " + was);
            } else {
                assertThat(entry).as(name + " added constant " + i).isInstanceOfAny(Utf8Entry.class, ClassEntry.class);
            }
            i += entry.width();
        }
    }

    private static List<String> attributeNames(java.lang.classfile.AttributedElement element) {
        return element.attributes().stream().map(x -> x.attributeName().stringValue()).toList();
    }

    private static String field(FieldModel f) {
        return f.flags().flagsMask() + " " + f.fieldName().stringValue() + " " + f.fieldType().stringValue();
    }

    private static boolean hasBranchOrHandler(CodeModel code) {
        if (!code.exceptionHandlers().isEmpty()) return true;
        for (var e : code) {
            if (e instanceof java.lang.classfile.instruction.BranchInstruction
                    || e instanceof java.lang.classfile.instruction.TableSwitchInstruction
                    || e instanceof java.lang.classfile.instruction.LookupSwitchInstruction) return true;
        }
        return false;
    }
}
