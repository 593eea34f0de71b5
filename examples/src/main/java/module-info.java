/** A library user's module: it reads granule-core as the named module it is. */
module dev.granule.examples {
    requires dev.granule.core;
}
