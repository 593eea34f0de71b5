package dev.granule.cli;

import dev.granule.compat.ElfReport;
import dev.granule.compat.Finding;
import dev.granule.compat.PageSizes;
import dev.granule.compat.PageVerdict;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SARIF 2.1.0 (OASIS) for CI code scanning: one result per ELF and page size that will not load (error),
 * per weakening (warning), per "may fail" evidence (warning) and per broken input (error). The artifact is the
 * input file; the path through archives is the result's logical location.
 */
final class CompatSarif {

    static final String NOT_LOADABLE = "GRANULE-COMPAT-1";
    static final String WEAKENED = "GRANULE-COMPAT-2";
    static final String MAY_FAIL = "GRANULE-COMPAT-3";
    static final String BROKEN = "GRANULE-COMPAT-4";

    private CompatSarif() {}

    static Map<String, Object> document(List<Finding> findings, List<Long> asked) {
        List<Object> results = new ArrayList<>();
        for (Finding f : findings) {
            switch (f) {
                case Finding.ElfFound e -> {
                    ElfReport r = e.report();
                    for (PageVerdict v : CompatCommand.shown(r, asked)) {
                        for (String p : v.problems()) {
                            results.add(result(NOT_LOADABLE, "error", "Does not load at " + PageSizes.name(v.pageSize()) + " pages: " + p
                                    + r.fix().map(x -> " (fix: " + x + ")").orElse(""), e.container(), r.path()));
                        }
                        for (String w : v.warnings()) {
                            results.add(result(WEAKENED, "warning", "At " + PageSizes.name(v.pageSize()) + " pages: " + w, e.container(), r.path()));
                        }
                    }
                    for (ElfReport.MayFail m : r.mayFail()) {
                        results.add(result(MAY_FAIL, "warning", "May fail: " + m.what() + " [" + m.evidence() + "]", e.container(), r.path()));
                    }
                }
                case Finding.Broken b -> results.add(result(BROKEN, "error", "Cannot read: " + b.reason(), b.container(), b.path()));
                case Finding.PackageNote n -> { }
            }
        }
        Map<String, Object> driver = new LinkedHashMap<>();
        driver.put("name", "granule compat");
        driver.put("version", "0.1.0");
        driver.put("rules", List.of(
                rule(NOT_LOADABLE, "ElfNotLoadableAtPageSize", "A PT_LOAD segment's p_align or offset/address congruence does not allow this page size (glibc dl-load.c, kernel binfmt_elf.c)."),
                rule(WEAKENED, "ElfWeakenedAtPageSize", "Loads, but segments with different permissions share a page, or RELRO does not end on a page boundary."),
                rule(MAY_FAIL, "CompiledInPageSize", "Static evidence of a compiled-in page size (e.g. jemalloc's LG_PAGE)."),
                rule(BROKEN, "BrokenInput", "A file or archive member could not be read.")));
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("tool", Map.of("driver", driver));
        run.put("results", results);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
        doc.put("version", "2.1.0");
        doc.put("runs", List.of(run));
        return doc;
    }

    private static Map<String, Object> rule(String id, String name, String text) {
        return Map.of("id", id, "name", name, "shortDescription", Map.of("text", text));
    }

    private static Map<String, Object> result(String rule, String level, String text, String container, String path) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ruleId", rule);
        r.put("level", level);
        r.put("message", Map.of("text", text));
        Map<String, Object> location = new LinkedHashMap<>();
        location.put("physicalLocation", Map.of("artifactLocation", Map.of("uri", uri(container))));
        location.put("logicalLocations", List.of(Map.of("fullyQualifiedName", path, "kind", "module")));
        r.put("locations", List.of(location));
        return r;
    }

    /** A relative path stays relative (CI tools resolve it against the checkout); others become file: URIs. */
    private static String uri(String container) {
        Path p = Path.of(container);
        return p.isAbsolute() ? p.toUri().toString() : container.replace('\\', '/');
    }
}
