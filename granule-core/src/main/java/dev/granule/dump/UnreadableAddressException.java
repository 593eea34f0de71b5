package dev.granule.dump;

/**
 * A read of kernel virtual memory reached a page it cannot read: unmapped, not a kernel address,
 * a table or the target page not in the dump. {@link #translation()} says which; the message names
 * the page.
 */
public class UnreadableAddressException extends IllegalArgumentException {
    private final Translation translation;

    public UnreadableAddressException(Translation translation, String message) {
        super(message);
        this.translation = translation;
    }

    public Translation translation() { return translation; }
}
