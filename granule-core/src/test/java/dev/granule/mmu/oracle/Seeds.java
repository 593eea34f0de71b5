package dev.granule.mmu.oracle;

/**
 * The oracles' seed: {@code -Dgranule.oracle.seed=N} replays a run; {@code random} (what the
 * nightly profile sets) draws a new one each time; by default a fixed seed, so that a red CI run is
 * a change in the model or in QEMU, never the luck of the draw.
 */
final class Seeds {

    static final long DEFAULT = 20261125L;

    private Seeds() {}

    static long oracleSeed() {
        String s = System.getProperty("granule.oracle.seed", "");
        if (s.isBlank()) return DEFAULT;
        if (s.equals("random")) return System.nanoTime();
        return Long.parseLong(s);
    }
}
