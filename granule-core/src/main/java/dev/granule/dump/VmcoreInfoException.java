package dev.granule.dump;

/** A VMCOREINFO entry that is missing or does not parse; the message names the key and its text. */
public class VmcoreInfoException extends IllegalArgumentException {
    public VmcoreInfoException(String message) {
        super(message);
    }
}
