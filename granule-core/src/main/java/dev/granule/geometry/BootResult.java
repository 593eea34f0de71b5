package dev.granule.geometry;

import java.util.List;

/**
 * A resolved boot: the geometry, the CPU it was resolved for, the fallbacks that were applied
 * (each naming the parameter and the reason) and the parameters that were ignored as unknown.
 */
public record BootResult(Geometry geometry, CpuFeatures cpu, List<String> fallbacks, List<String> ignored) {
    public BootResult {
        fallbacks = List.copyOf(fallbacks);
        ignored = List.copyOf(ignored);
    }

    /** Human-readable warnings: one per fallback and per ignored parameter. */
    public List<String> warnings() {
        var all = new java.util.ArrayList<String>(fallbacks);
        for (String token : ignored) {
            all.add("unknown parameter '" + token + "' ignored");
        }
        return all;
    }
}
