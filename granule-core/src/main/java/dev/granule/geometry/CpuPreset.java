package dev.granule.geometry;

/**
 * ID register values of real cores, so a boot can be resolved as it would be on that machine.
 *
 * <p>The Arm cores' values are those QEMU's models of them use (target/arm/tcg/cpu64.c, each
 * taken from the core's Technical Reference Manual, "AArch64 registers by functional group").
 * Only the fields granule decodes matter: PARange, TGran4/16/64 (MMFR0), VARange (MMFR2), D128
 * (MMFR3). No core here implements FEAT_D128, so MMFR3 is zero for all of them.
 */
public enum CpuPreset {
    ALL("all", "every feature granule models", CpuFeatures.ALL),
    /** 44-bit PA; no 16K granule (TGran16 = 0). */
    CORTEX_A72("cortex-a72", "Cortex-A72 TRM via QEMU: MMFR0 0x1124", new CpuFeatures(0x0000_0000_0000_1124L, 0, 0)),
    /** 40-bit PA; 4K, 16K and 64K, no 52-bit forms. */
    CORTEX_A76("cortex-a76", "Cortex-A76 TRM via QEMU: MMFR0 0x101122, MMFR2 0x1011",
            new CpuFeatures(0x0000_0000_0010_1122L, 0x1011L, 0)),
    /** 48-bit PA; 4K, 16K and 64K. */
    NEOVERSE_N1("neoverse-n1", "Neoverse N1 TRM via QEMU: MMFR0 0x101125, MMFR2 0x1011",
            new CpuFeatures(0x0000_0000_0010_1125L, 0x1011L, 0)),
    /** 48-bit PA; 4K, 16K and 64K, stage-2 granule fields set; no LPA/LPA2/LVA. */
    NEOVERSE_N2("neoverse-n2", "Neoverse N2 TRM via QEMU: MMFR0 0x22200101125, MMFR2 0x1221011112101011",
            new CpuFeatures(0x0000_0222_0010_1125L, 0x1221_0111_1210_1011L, 0)),
    /** 48-bit PA; like N2 for translation. */
    NEOVERSE_V1("neoverse-v1", "Neoverse V1 TRM via QEMU: MMFR0 0x101125, MMFR2 0x220011102101011",
            new CpuFeatures(0x0000_0000_0010_1125L, 0x0220_0111_0210_1011L, 0)),
    /** 40-bit PA; no 16K granule. */
    A64FX("a64fx", "Fujitsu A64FX via QEMU: MMFR0 0x1122", new CpuFeatures(0x0000_0000_0000_1122L, 0x1011L, 0)),
    /**
     * QEMU's {@code -cpu max} with lpa2=on (the default): PARange 52 bits, TGran4 = 1 and
     * TGran16 = 2 (FEAT_LPA2), TGran64 supported with FEAT_LPA, VARange = 1 (FEAT_LVA). Only
     * the translation fields are reproduced.
     */
    QEMU_MAX("qemu-max", "QEMU -cpu max (target/arm/tcg/cpu64.c, lpa2=on)",
            new CpuFeatures(0x0000_0222_1020_1126L, 0x1021_0110_1001_1011L, 0)),
    /**
     * Apple M1 (Firestorm/Icestorm): 4K and 16K granules but no 64K (TGran64 = 0xF), 42-bit PA.
     * Composed from those documented properties (Asahi Linux), not a register dump; the other
     * fields are zero.
     */
    APPLE_M1("apple-m1", "Apple M1 as documented by Asahi Linux: no 64K granule, 42-bit PA (composed)",
            new CpuFeatures(0x0000_0000_0F10_0003L, 0, 0));

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
