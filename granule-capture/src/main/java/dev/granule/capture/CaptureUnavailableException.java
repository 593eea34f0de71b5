package dev.granule.capture;

/**
 * A capture step could not run on this machine (no QEMU, no apt, no network to the package
 * archive): the reason a test that needs a real kernel is skipped rather than failed.
 */
public class CaptureUnavailableException extends Exception {
    public CaptureUnavailableException(String message) {
        super(message);
    }

    public CaptureUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
