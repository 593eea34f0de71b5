package dev.granule.cli;

import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.CpuPreset;
import picocli.CommandLine.Option;

/** Chooses the CPU a boot is resolved for: a named preset or raw ID register values. */
public final class CpuOptions {
    @Option(names = "--cpu", paramLabel = "PRESET", converter = PresetConverter.class,
            completionCandidates = PresetNames.class,
            description = "CPU preset: ${COMPLETION-CANDIDATES}. Default: all (every feature).")
    CpuPreset preset;

    static final class PresetNames extends java.util.ArrayList<String> {
        PresetNames() {
            for (CpuPreset p : CpuPreset.values()) add(p.option());
        }
    }

    static final class PresetConverter implements picocli.CommandLine.ITypeConverter<CpuPreset> {
        @Override
        public CpuPreset convert(String value) {
            for (CpuPreset p : CpuPreset.values()) {
                if (p.option().equalsIgnoreCase(value) || p.name().equalsIgnoreCase(value)) return p;
            }
            throw new picocli.CommandLine.TypeConversionException("unknown CPU preset '" + value + "'; expected one of "
                    + String.join(", ", new PresetNames()));
        }
    }

    @Option(names = "--mmfr0", paramLabel = "HEX", description = "ID_AA64MMFR0_EL1 value (overrides --cpu).")
    String mmfr0;

    @Option(names = "--mmfr2", paramLabel = "HEX", description = "ID_AA64MMFR2_EL1 value (with --mmfr0; default 0).")
    String mmfr2;

    @Option(names = "--mmfr3", paramLabel = "HEX", description = "ID_AA64MMFR3_EL1 value (with --mmfr0; default 0).")
    String mmfr3;

    @Option(names = "--mmfr1", paramLabel = "HEX",
            description = "ID_AA64MMFR1_EL1 value (with --mmfr0; default 0): HAFDBS [3:0] 0b0011 is FEAT_HAFT.")
    String mmfr1;

    @Option(names = "--mmfr4", paramLabel = "HEX",
            description = "ID_AA64MMFR4_EL1 value (with --mmfr0; default 0): ASID2 [11:8] is FEAT_ASID2.")
    String mmfr4;

    @Option(names = "--pfr1", paramLabel = "HEX",
            description = "ID_AA64PFR1_EL1 value (with --mmfr0; default 0): THE [51:48] is FEAT_THE (TCR2.PnCH).")
    String pfr1;

    public CpuFeatures features() {
        if (mmfr0 != null) {
            return new CpuFeatures(parseHex("--mmfr0", mmfr0), parseHex("--mmfr2", mmfr2), parseHex("--mmfr3", mmfr3),
                    parseHex("--mmfr1", mmfr1), parseHex("--mmfr4", mmfr4), parseHex("--pfr1", pfr1));
        }
        if (mmfr1 != null || mmfr2 != null || mmfr3 != null || mmfr4 != null || pfr1 != null) {
            throw new UserException("--mmfr1/--mmfr2/--mmfr3/--mmfr4/--pfr1 need --mmfr0 as well");
        }
        return preset == null ? CpuFeatures.ALL : preset.features();
    }

    public String describe() {
        if (mmfr0 != null) return features().toString();
        return preset == null ? "all (every feature)" : preset.displayName();
    }

    static long parseHex(String option, String text) {
        if (text == null) return 0;
        String t = text.trim().replace("_", "");
        if (t.startsWith("0x") || t.startsWith("0X")) t = t.substring(2);
        try {
            return Long.parseUnsignedLong(t, 16);
        } catch (NumberFormatException e) {
            throw new UserException(option + " " + text + ": not a 64-bit hex value");
        }
    }
}
