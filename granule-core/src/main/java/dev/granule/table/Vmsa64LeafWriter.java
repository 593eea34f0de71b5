package dev.granule.table;

import dev.granule.format.Vmsa64Format;
import dev.granule.memory.PhysicalMemory;

import java.lang.invoke.MethodHandles;

/**
 * The map's inner loop for VMSAv8-64 descriptors, as a template that {@link GeometryCopies} copies
 * once per geometry, like {@link Vmsa64Walk}: in each copy {@link #FORMAT} is a constant, so encoding
 * an output address (OA bits in place, OA[51:50] in bits [9:8] with LPA2, OA[51:48] in bits [15:12]
 * for 64K pages) folds to the few operations that geometry needs. Free of lambdas, enum switches and
 * nested classes, which a copy would share by name with the template.
 */
final class Vmsa64LeafWriter implements LeafWriter {

    /** This copy's format: the class data of a hidden copy, null in the template itself. */
    private static final Vmsa64Format FORMAT =
            HiddenSpecialisation.classData(MethodHandles.lookup(), Vmsa64Format.class);

    private final PhysicalMemory memory;

    Vmsa64LeafWriter(PhysicalMemory memory) {
        if (FORMAT == null) throw new IllegalStateException("the template is not for use; see GeometryCopies");
        this.memory = memory;
    }

    @Override
    public void writeFresh(long table, int index, long template, long pa, int count, int level) {
        Vmsa64Format f = FORMAT;
        long span = f.geometry().entrySpan(level);
        long address = table + ((long) index << 3);
        for (int i = 0; i < count; i++) {
            memory.writeLong(address, f.withOutputAddress(template, pa, level));
            address += 8;
            pa += span;
        }
    }
}
