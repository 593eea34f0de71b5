package dev.granule.memory;

/** An access to an address that is not RAM, misaligned, or a write to read-only memory. */
public class MemoryAccessException extends RuntimeException {
    private final long address;

    public MemoryAccessException(long address, String message) {
        super(String.format("physical address %#x: %s", address, message));
        this.address = address;
    }

    public long address() { return address; }
}
