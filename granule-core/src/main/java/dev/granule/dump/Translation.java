package dev.granule.dump;

import dev.granule.table.Mapping;

/**
 * What a dump says about one kernel virtual address: every outcome is an answer, none an error.
 * A dump that leaves pages out (makedumpfile's dump levels) can hide a table page, so the walk
 * stops there ({@link NotInDump}), or hold the tables but not the page they point at
 * ({@link Mapped#targetInDump()} false).
 */
public sealed interface Translation {

    long va();

    /**
     * The kernel's tables map {@code va} to {@code pa}; {@code target} says whether the dump holds
     * that page, left it out, or has no RAM there (device memory: the UART, the GIC).
     */
    record Mapped(long va, long pa, Mapping mapping, dev.granule.memory.PageState target) implements Translation {
        public boolean targetInDump() { return target == dev.granule.memory.PageState.PRESENT; }
    }

    /** The walk ended at an invalid descriptor: the kernel does not map {@code va}. */
    record Unmapped(long va) implements Translation {}

    /**
     * The table the walk needed next, at {@code tableLevel}, is RAM the dump left out: whether
     * {@code va} is mapped cannot be told from this dump.
     */
    record NotInDump(long va, int tableLevel, long tablePa) implements Translation {}

    /** A table descriptor points outside RAM (a corrupt table, or a dump without that memory). */
    record TableOutsideRam(long va, int tableLevel, long tablePa) implements Translation {}

    /** Not in the kernel's (TTBR1) half of the address space. */
    record NotKernelAddress(long va) implements Translation {}
}
