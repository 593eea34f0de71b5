package dev.granule.table;

import dev.granule.format.Descriptor;
import dev.granule.memory.PhysicalMemory;

/**
 * A handle to one descriptor slot: table base, index and descriptor size. Code never computes a
 * descriptor's address by hand; it positions a slot and reads or writes through it.
 *
 * <p>A slot is a reusable flyweight (repositioned with {@link #at}), so walking and editing
 * allocate nothing. It reads into and writes from a 128-bit {@link Descriptor} whatever the
 * format's size, and narrows on write: writing a value that does not fit the slot is a bug in a
 * format, caught here rather than silently truncated.
 */
public final class Slot {

    private final PhysicalMemory memory;
    private final int descriptorShift;
    private final Journal journal;
    private long table;
    private int index;

    /** A slot that writes straight to memory. */
    public Slot(PhysicalMemory memory, int descriptorShift) {
        this(memory, descriptorShift, null);
    }

    /** A slot whose writes are recorded in {@code journal} so that a failed edit can be undone. */
    Slot(PhysicalMemory memory, int descriptorShift, Journal journal) {
        if (descriptorShift < 2 || descriptorShift > 4) {
            throw new IllegalArgumentException("descriptors are 4, 8 or 16 bytes; shift was " + descriptorShift);
        }
        this.memory = memory;
        this.descriptorShift = descriptorShift;
        this.journal = journal;
    }

    public Slot at(long table, int index) {
        this.table = table;
        this.index = index;
        return this;
    }

    /**
     * Positions the slot at entry {@code index} of {@code table}, for tables of any size: a walker
     * following a VMSAv9-128 table that skips levels may index 2^32 entries and more.
     */
    public Slot at(long table, long index) {
        long whole = index & ~0x7FFF_FFFFL;
        this.table = table + (whole << descriptorShift);
        this.index = (int) (index - whole);
        return this;
    }

    public long table() { return table; }

    public int index() { return index; }

    /** Physical address of the descriptor. */
    public long address() { return table + ((long) index << descriptorShift); }

    public int descriptorBytes() { return 1 << descriptorShift; }

    /** Whether {@code bytes} from {@code address} lie in the slot's memory: a table the walk may read whole. */
    public boolean readable(long address, long bytes) { return memory.contains(address, bytes); }

    public Slot next() {
        index++;
        return this;
    }

    public Slot previous() {
        index--;
        return this;
    }

    /** Reads the descriptor, widened to 128 bits, into {@code into}; returns it. */
    public Descriptor read(Descriptor into) {
        long a = address();
        return switch (descriptorShift) {
            case 2 -> into.set(memory.readInt(a) & 0xFFFF_FFFFL, 0);
            case 3 -> into.set(memory.readLong(a), 0);
            default -> into.set(memory.readLong(a), memory.readLong(a + 8));
        };
    }

    /** Bits [63:0] of the descriptor: enough for formats up to 64 bits, without touching a Descriptor. */
    public long readLow() {
        long a = address();
        return descriptorShift == 2 ? memory.readInt(a) & 0xFFFF_FFFFL : memory.readLong(a);
    }

    /** Writes {@code d}, narrowed to the slot's size. */
    public void write(Descriptor d) {
        write(d, journal != null);
    }

    /**
     * Writes into a table allocated by the current edit: no undo record is needed, because a
     * rollback returns the whole frame zeroed. This is what keeps mapping millions of pages from
     * filling the journal.
     */
    void writeFresh(Descriptor d) {
        write(d, false);
    }

    private void write(Descriptor d, boolean log) {
        long a = address();
        switch (descriptorShift) {
            case 2 -> {
                if (d.hi() != 0 || (d.lo() >>> 32) != 0) throw narrowing(d);
                if (log) journal.record(a, memory.readInt(a) & 0xFFFF_FFFFL, 0, descriptorShift);
                memory.writeInt(a, (int) d.lo());
            }
            case 3 -> {
                if (d.hi() != 0) throw narrowing(d);
                if (log) journal.record(a, memory.readLong(a), 0, descriptorShift);
                memory.writeLong(a, d.lo());
            }
            default -> {
                if (log) journal.record(a, memory.readLong(a), memory.readLong(a + 8), descriptorShift);
                memory.writeLong(a, d.lo());
                memory.writeLong(a + 8, d.hi());
            }
        }
    }

    /** Writes an all-zero (invalid) descriptor. */
    public void clear() {
        long a = address();
        switch (descriptorShift) {
            case 2 -> {
                if (journal != null) journal.record(a, memory.readInt(a) & 0xFFFF_FFFFL, 0, descriptorShift);
                memory.writeInt(a, 0);
            }
            case 3 -> {
                if (journal != null) journal.record(a, memory.readLong(a), 0, descriptorShift);
                memory.writeLong(a, 0);
            }
            default -> {
                if (journal != null) journal.record(a, memory.readLong(a), memory.readLong(a + 8), descriptorShift);
                memory.writeLong(a, 0);
                memory.writeLong(a + 8, 0);
            }
        }
    }

    private IllegalStateException narrowing(Descriptor d) {
        return new IllegalStateException("descriptor " + d + " does not fit a " + descriptorBytes()
                + "-byte slot at PA 0x" + Long.toHexString(address()));
    }

    @Override
    public String toString() {
        return String.format("Slot[table=0x%x index=%d pa=0x%x]", table, index, address());
    }
}
