package dev.granule.format;

/**
 * A value that a descriptor format cannot express: an unaligned or too wide address, an attribute
 * the format has no bit for (DBM in Armv7 descriptors, a domain in VMSAv8-64), a block at a level
 * that holds none. The engine turns it into a refused edit that leaves the tables unchanged.
 */
public class DescriptorEncodingException extends IllegalArgumentException {
    public DescriptorEncodingException(String message) {
        super(message);
    }
}
