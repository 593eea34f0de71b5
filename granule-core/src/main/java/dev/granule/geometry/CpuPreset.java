package dev.granule.geometry;

/**
 * ID register values of real cores, so a boot can be resolved as it would be on that machine.
 * Each value is the one the core's Technical Reference Manual (or, where noted, QEMU's model of
 * the core) gives for ID_AA64MMFR0_EL1, ID_AA64MMFR2_EL1 and ID_AA64MMFR3_EL1.
 */
public enum CpuPreset {
    ALL("all", "every feature granule models", CpuFeatures.ALL);

    private final String option;
    private final String source;
    private final CpuFeatures features;

    CpuPreset(String option, String source, CpuFeatures features) {
        this.option = option;
        this.source = source;
        this.features = features;
    }

    public CpuFeatures features() { return features; }

    public String option() { return option; }

    /** Where the register values come from. */
    public String source() { return source; }

    public String displayName() { return option + " (" + source + ")"; }

    @Override
    public String toString() { return option; }
}
