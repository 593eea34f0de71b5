package dev.granule.cli;

import dev.granule.compat.ElfReport;
import dev.granule.compat.Finding;
import dev.granule.compat.PageSizes;
import dev.granule.compat.PageVerdict;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/** The text report of {@code granule compat}: one block per input, one row per ELF, reasons indented below. */
final class CompatTable {

    private CompatTable() {}

    static void print(PrintWriter out, List<Finding> findings, List<Long> asked) {
        int elfs = 0;
        int failing = 0;
        for (Map.Entry<String, List<Finding>> group : CompatCommand.byContainer(findings).entrySet()) {
            out.println(group.getKey());
            for (Finding f : group.getValue()) {
                switch (f) {
                    case Finding.ElfFound e -> {
                        elfs++;
                        if (e.report().failsAt(asked)) failing++;
                        row(out, group.getKey(), e.report(), asked);
                    }
                    case Finding.Broken b -> out.println("  " + inner(group.getKey(), b.path()) + "  BROKEN: " + b.reason());
                    case Finding.PackageNote n -> out.println("  " + inner(group.getKey(), n.path()) + "  note: " + n.message());
                }
            }
        }
        out.println();
        out.println(elfs + " ELF files, " + failing + " will not load at " + (asked.isEmpty() ? "some page size of their architecture"
                : PageSizes.name(asked.getFirst())));
    }

    private static void row(PrintWriter out, String container, ElfReport r, List<Long> asked) {
        StringBuilder line = new StringBuilder("  ").append(inner(container, r.path())).append("  ")
                .append(r.architecture().displayName()).append(' ').append(r.elfClass()).append(' ').append(r.type()).append(' ');
        List<PageVerdict> shown = CompatCommand.shown(r, asked);
        if (r.verdicts().isEmpty()) {
            line.append(" not judged");
        } else if (shown.isEmpty()) {
            line.append(" ").append(PageSizes.name(asked.getFirst())).append(": n/a (").append(r.architecture().displayName()).append(" has no such page)");
        } else {
            for (PageVerdict v : shown) {
                line.append(' ').append(PageSizes.name(v.pageSize())).append(v.loads() ? (v.warnings().isEmpty() ? " ok" : " ok*") : " NO");
            }
            line.append("  largest ").append(r.largestPageSize() == 0 ? "none" : PageSizes.name(r.largestPageSize()));
        }
        out.println(line);
        for (PageVerdict v : shown) {
            for (String p : v.problems()) out.println("      " + PageSizes.name(v.pageSize()) + ": " + p);
            for (String w : v.warnings()) out.println("      " + PageSizes.name(v.pageSize()) + " (warning): " + w);
        }
        if (shown.stream().anyMatch(v -> !v.loads() || !v.warnings().isEmpty())) r.fix().ifPresent(fix -> out.println("      fix: " + fix));
        for (ElfReport.MayFail m : r.mayFail()) out.println("      may fail: " + m.what() + " [" + m.evidence() + "]");
        for (String n : r.notes()) out.println("      note: " + n);
    }

    /** The part of a path inside its container ("!/lib/x.so"), or the whole path for a file of a directory scan. */
    static String inner(String container, String path) {
        return path.startsWith(container + "!/") ? path.substring(container.length()) : path;
    }
}
