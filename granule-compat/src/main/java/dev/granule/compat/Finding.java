package dev.granule.compat;

/** What a scan reports, in the order found. {@code container} is the outermost input the finding came from. */
public sealed interface Finding {

    String container();

    /** An ELF and its verdicts. */
    record ElfFound(String container, ElfReport report) implements Finding {}

    /** An input or member that could not be read; the scan went on. */
    record Broken(String container, String path, String reason) implements Finding {}

    /** Something about a package rather than one ELF (an APK's manifest, an AAB's limits). */
    record PackageNote(String container, String path, String message) implements Finding {}
}
