package dev.granule.memory;

/**
 * What a memory holds at a physical page. A dump may leave RAM pages out (makedumpfile's dump
 * levels drop zero, cache, user and free pages), and a reader must tell that apart from an
 * address that was never RAM: the first is "not in the dump", the second an external abort.
 */
public enum PageState {
    /** The page's bytes can be read. */
    PRESENT,
    /** The machine had RAM here, but the dump does not hold the page. */
    EXCLUDED,
    /** Not RAM (nothing was ever there to dump). */
    NOT_RAM
}
