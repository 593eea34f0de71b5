package dev.granule.mmu;

/** The kind of access a translation is checked for. */
public enum Access {
    READ, WRITE, EXECUTE;

    public boolean isData() { return this != EXECUTE; }
}
