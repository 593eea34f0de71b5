package dev.granule.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.geometry.Boot;
import dev.granule.geometry.BootResult;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.GeometryException;

/**
 * Any command line and any CPU either resolve to a geometry the CPU runs or fail with a
 * GeometryException whose message is not empty; nothing else may escape.
 */
class BootCommandLineFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyCommandLineResolvesOrFailsWithAMessage(String commandLine, long mmfr0, long mmfr2, long mmfr3) {
        CpuFeatures cpu = new CpuFeatures(mmfr0, mmfr2, mmfr3);
        BootResult r;
        try {
            r = Boot.resolve(commandLine, cpu);
        } catch (GeometryException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("empty message", e);
            return;
        }
        Geometry g = r.geometry();
        if (!cpu.supports(g.granule())) throw new AssertionError("unsupported granule " + g);
        if (g.vaBits() > cpu.maxVaBits(g.granule(), g.format())) throw new AssertionError("VA too wide " + g);
        if (r.fallbacks().isEmpty() && r.ignored().isEmpty() && g.levels() < 1) throw new AssertionError(g.toString());
    }
}
