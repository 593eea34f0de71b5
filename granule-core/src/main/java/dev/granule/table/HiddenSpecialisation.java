package dev.granule.table;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodHandles.Lookup;
import java.io.UncheckedIOException;
import java.lang.constant.ConstantDescs;

/**
 * Copies of a template class, one per value, each holding its value as class data.
 *
 * <p>This is how a geometry chosen at start-up becomes a compile-time constant: the template reads
 * {@link MethodHandles#classData} into a {@code static final} field, and each copy is a hidden class
 * defined from the template's own bytes with a different geometry as its class data. HotSpot
 * folds {@code static final} fields, and the records reached from them, into the code it compiles
 * for each copy separately, exactly as if the geometry had been a literal in the source (the
 * kernel's compile-time PAGE_SHIFT); a hidden class's final instance fields are trusted as well.
 * The template must be free of nested classes and lambdas, which would refer to it by name.
 */
final class HiddenSpecialisation {

    private HiddenSpecialisation() {}

    /** A new hidden copy of {@code template} (in this package) with {@code classData}, initialised. */
    static Lookup copy(Class<?> template, Object classData) {
        try {
            return MethodHandles.lookup().defineHiddenClassWithClassData(bytes(template), classData, true);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot define a copy of " + template.getName(), e);
        }
    }

    /**
     * The class data of the class whose own {@code lookup} this is, or null in the template itself
     * (a class defined the ordinary way has none). Call it from a template's static initialiser
     * with {@code MethodHandles.lookup()}.
     */
    static <T> T classData(Lookup lookup, Class<T> type) {
        try {
            return MethodHandles.classData(lookup, ConstantDescs.DEFAULT_NAME, type);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("no class data access from " + lookup, e);
        }
    }

    private static byte[] bytes(Class<?> template) {
        String resource = template.getSimpleName() + ".class";
        try (InputStream in = template.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException(resource + " is not on the class path");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }
}
