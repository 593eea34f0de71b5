package dev.granule.geometry;

/** A geometry the architecture does not allow, or a request that cannot be resolved to one. */
public class GeometryException extends IllegalArgumentException {
    public GeometryException(String message) {
        super(message);
    }
}
