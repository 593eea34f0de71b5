package dev.granule.impact.trace;

import java.util.List;
import java.util.Locale;

/**
 * A CPU's TLBs as the replay models them: an L1 instruction TLB, an L1 data TLB and a unified L2
 * behind both (the L1s may be absent for a plain one-level TLB), and a walk cache that holds the
 * last table descriptor above the leaf, so a walk that hits it reads one descriptor, not one per level.
 *
 * <p>Sizes and associativity of the presets are the makers' (Technical Reference Manuals, section
 * named in {@link #source}). The TRMs do not give the walk cache's size: {@link #ASSUMED_WALK_CACHE}
 * entries, fully associative, for every preset, a model assumption.
 *
 * @param name      the preset's name (--cpu), or "custom"
 * @param l1i       L1 instruction TLB, or null for none
 * @param l1d       L1 data TLB, or null for none
 * @param l2        the unified L2 TLB (the only TLB of a one-level model)
 * @param walkCache the walk cache
 * @param source    where the sizes come from
 */
public record TlbConfig(String name, TlbLevel l1i, TlbLevel l1d, TlbLevel l2, TlbLevel walkCache, String source) {

    public static final int ASSUMED_WALK_CACHE = 64;
    private static final TlbLevel WALK_CACHE = TlbLevel.fullyAssociative(ASSUMED_WALK_CACHE);

    public TlbConfig {
        if ((l1i == null) != (l1d == null)) throw new IllegalArgumentException("both L1 TLBs or neither");
    }

    public static final TlbConfig CORTEX_A72 = new TlbConfig("cortex-a72", TlbLevel.fullyAssociative(48),
            TlbLevel.fullyAssociative(32), new TlbLevel(1024, 4), WALK_CACHE,
            "Arm Cortex-A72 TRM (100095), 5.2.1 L1 instruction TLB, 5.2.2 L1 data TLB, 5.2.3 L2 TLB");
    public static final TlbConfig CORTEX_A76 = new TlbConfig("cortex-a76", TlbLevel.fullyAssociative(48),
            TlbLevel.fullyAssociative(48), new TlbLevel(1280, 5), WALK_CACHE,
            "Arm Cortex-A76 TRM (100798), A5.2.1 Instruction L1 TLB, A5.2.2 Data L1 TLB, A5.2.3 L2 TLB");
    public static final TlbConfig NEOVERSE_N1 = new TlbConfig("neoverse-n1", TlbLevel.fullyAssociative(48),
            TlbLevel.fullyAssociative(48), new TlbLevel(1280, 5), WALK_CACHE,
            "Arm Neoverse N1 TRM (100616), A5.2 TLB organization");
    public static final TlbConfig NEOVERSE_V1 = new TlbConfig("neoverse-v1", TlbLevel.fullyAssociative(48),
            TlbLevel.fullyAssociative(48), new TlbLevel(2048, 8), WALK_CACHE,
            "Arm Neoverse V1 TRM (101427), A5.2 TLB organization");

    public static final List<TlbConfig> PRESETS = List.of(CORTEX_A72, CORTEX_A76, NEOVERSE_N1, NEOVERSE_V1);

    /** A single unified TLB with no L1 in front of it (--tlb-entries, --tlb-ways). */
    public static TlbConfig oneLevel(int entries, int ways) {
        return new TlbConfig("custom", null, null, new TlbLevel(entries, ways), WALK_CACHE, "given on the command line");
    }

    public static TlbConfig preset(String name) {
        String key = name.toLowerCase(Locale.ROOT).replace('_', '-');
        for (TlbConfig c : PRESETS) if (c.name.equals(key)) return c;
        throw new IllegalArgumentException("unknown CPU preset for the TLB model: '" + name + "' (known: "
                + String.join(", ", PRESETS.stream().map(TlbConfig::name).toList()) + ")");
    }

    public String describe() {
        return l1i == null ? "one " + l2 + " TLB" : "L1i " + l1i + ", L1d " + l1d + ", L2 " + l2;
    }
}
