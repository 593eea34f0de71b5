package dev.granule.memory;

/**
 * A read of a RAM page the dump left out ({@link PageState#EXCLUDED}). Callers that can say
 * "not in the dump" ask {@link PhysicalMemory#pageState} first; this is what a read that did not
 * ask gets, so that it stops with the page named instead of reading made-up zeros.
 */
public class PageNotInDumpException extends MemoryAccessException {
    public PageNotInDumpException(long address, String message) {
        super(address, message);
    }
}
