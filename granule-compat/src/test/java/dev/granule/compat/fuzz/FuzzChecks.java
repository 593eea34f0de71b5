package dev.granule.compat.fuzz;

final class FuzzChecks {
    private FuzzChecks() {}

    /** A reason a user reads: present, and one line. */
    static void oneLine(String message) {
        if (message == null || message.isBlank()) throw new AssertionError("no message");
        if (message.contains("\n")) throw new AssertionError("more than one line: " + message);
    }
}
