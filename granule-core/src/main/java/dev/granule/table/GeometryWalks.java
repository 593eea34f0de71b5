package dev.granule.table;

import dev.granule.format.DescriptorFormat;
import dev.granule.format.Vmsa64Format;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Makes and caches the per-geometry copies of the specialised walks. */
final class GeometryWalks {

    private GeometryWalks() {}

    private static final MethodType CONSTRUCTOR = MethodType.methodType(void.class, PhysicalMemory.class);

    /**
     * One copy per geometry, made on first use and kept: geometries are few (granule x VA bits x PA
     * bits x format), so a process defines tens of classes at most, each a few hundred bytes.
     */
    private static final Map<Geometry, MethodHandle> COPIES = new ConcurrentHashMap<>();

    /** The specialised walk for {@code format} over {@code memory}, or null where the format has none. */
    static GeometryWalk of(DescriptorFormat format, PhysicalMemory memory) {
        if (!(format instanceof Vmsa64Format f)) return null;
        MethodHandle constructor = COPIES.computeIfAbsent(f.geometry(), g -> copy(f));
        try {
            return (GeometryWalk) constructor.invokeExact(memory);
        } catch (Throwable e) {
            throw new IllegalStateException("specialising the walk for " + format, e);
        }
    }

    private static MethodHandle copy(Vmsa64Format format) {
        MethodHandles.Lookup copy = HiddenSpecialisation.copy(Vmsa64Walk.class, format);
        try {
            return copy.findConstructor(copy.lookupClass(), CONSTRUCTOR)
                    .asType(MethodType.methodType(GeometryWalk.class, PhysicalMemory.class));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("no constructor in the copy of " + Vmsa64Walk.class.getName(), e);
        }
    }
}
