package dev.granule.mmu;

/** The kind of access a translation is checked for. */
public enum Access {
    // The order is Tlb's permission bit order (R, W, X); Permissions relies on it.
    READ, WRITE, EXECUTE;

    public boolean isData() { return this != EXECUTE; }
}
