package dev.granule.table;

import dev.granule.format.Vmsa128Format;
import dev.granule.geometry.Geometry;

/**
 * What a copy of {@link Vmsa128LeafWalk} is compiled for: the VMSAv9-128 geometry and the level its
 * walks start at (the geometry's start level plus TTBR.SKL). Both are constants in the copy's code.
 */
record Vmsa128Start(Vmsa128Format format, int startLevel) {

    Vmsa128Start {
        Geometry g = format.geometry();
        if (startLevel < g.startLevel() || startLevel > Geometry.MAX_LEVEL) {
            throw new IllegalArgumentException("start level " + startLevel + " is outside "
                    + g.startLevel() + ".." + Geometry.MAX_LEVEL + " for " + g.label());
        }
    }
}
