package dev.granule.table;

import dev.granule.format.DescriptorFormat;
import dev.granule.format.Vmsa64Format;
import dev.granule.memory.PhysicalMemory;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes and caches the per-geometry hidden copies of the templates compiled for one geometry
 * ({@link Vmsa64Walk}, {@link Vmsa64LeafWalk}, {@link Vmsa64LeafWriter}; {@link Vmsa128LeafWalk} per geometry
 * and start level), and returns their constructors.
 */
final class GeometryCopies {

    private GeometryCopies() {}

    /** {@code shape}: the geometry, or for {@link Vmsa128LeafWalk} its {@link Vmsa128Start}. */
    private record Key(Class<?> template, Object shape) {}

    /**
     * One copy per template and geometry, made on first use and kept: geometries are few (granule x
     * VA bits x PA bits x format), so a process defines tens of small classes at most.
     */
    private static final Map<Key, MethodHandle> CONSTRUCTORS = new ConcurrentHashMap<>();

    /**
     * The walk compiled for {@code format}'s geometry over the tables at {@code root}, or null where
     * the format has none (VMSAv9-128 and short descriptors take the generic walk).
     */
    static GeometryWalk walk(DescriptorFormat format, PhysicalMemory memory, long root, long rootMask, long firstVa,
                             long lastVa) {
        if (!(format instanceof Vmsa64Format f)) return null;
        MethodHandle c = constructor(Vmsa64Walk.class, f, GeometryWalk.class,
                PhysicalMemory.class, long.class, long.class, long.class, long.class);
        try {
            return (GeometryWalk) c.invokeExact(memory, root, rootMask, firstVa, lastVa);
        } catch (Throwable e) {
            throw new IllegalStateException("constructing the walk for " + format, e);
        }
    }

    /** The MMU's leaf walk compiled for {@code format}'s geometry, or null where the format has none. */
    static LeafWalk leafWalk(DescriptorFormat format, PhysicalMemory memory, long root, long paLimit) {
        if (!(format instanceof Vmsa64Format f)) return null;
        MethodHandle c = constructor(Vmsa64LeafWalk.class, f, LeafWalk.class, PhysicalMemory.class, long.class, long.class);
        try {
            return (LeafWalk) c.invokeExact(memory, root, paLimit);
        } catch (Throwable e) {
            throw new IllegalStateException("constructing the leaf walk for " + format, e);
        }
    }

    /** The leaf writer compiled for {@code format}'s geometry, or null where the format has none. */
    static LeafWriter leafWriter(DescriptorFormat format, PhysicalMemory memory) {
        if (!(format instanceof Vmsa64Format f)) return null;
        MethodHandle c = constructor(Vmsa64LeafWriter.class, f, LeafWriter.class, PhysicalMemory.class);
        try {
            return (LeafWriter) c.invokeExact(memory);
        } catch (Throwable e) {
            throw new IllegalStateException("constructing the leaf writer for " + format, e);
        }
    }

    /** The VMSAv9-128 leaf walk compiled for {@code start}'s geometry and start level. */
    static LeafWalk128 leafWalk128(Vmsa128Start start, PhysicalMemory memory, long root, long paLimit,
                                   boolean disableContiguous) {
        MethodHandle c = constructor(Vmsa128LeafWalk.class, start, start, LeafWalk128.class,
                PhysicalMemory.class, long.class, long.class, boolean.class);
        try {
            return (LeafWalk128) c.invokeExact(memory, root, paLimit, disableContiguous);
        } catch (Throwable e) {
            throw new IllegalStateException("constructing the VMSAv9-128 leaf walk for " + start, e);
        }
    }

    private static MethodHandle constructor(Class<?> template, Vmsa64Format format, Class<?> type,
                                            Class<?>... parameters) {
        return constructor(template, format.geometry(), format, type, parameters);
    }

    /** The constructor of {@code template}'s copy for {@code shape}, whose class data is {@code classData}. */
    private static MethodHandle constructor(Class<?> template, Object shape, Object classData, Class<?> type,
                                            Class<?>... parameters) {
        return CONSTRUCTORS.computeIfAbsent(new Key(template, shape), key -> {
            MethodHandles.Lookup copy = HiddenSpecialisation.copy(template, classData);
            try {
                return copy.findConstructor(copy.lookupClass(), MethodType.methodType(void.class, parameters))
                        .asType(MethodType.methodType(type, parameters));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("no such constructor in the copy of " + template.getName(), e);
            }
        });
    }
}
