package dev.granule.cli;

import dev.granule.compat.ElfReport;
import dev.granule.compat.Finding;
import dev.granule.compat.PageSizes;
import dev.granule.compat.PageVerdict;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON form of a compat scan: inputs, each with its ELFs (verdicts by page size), broken members and notes. */
final class CompatJson {

    private CompatJson() {}

    static Map<String, Object> document(List<Finding> findings, List<Long> asked) {
        List<Object> inputs = new ArrayList<>();
        for (var group : CompatCommand.byContainer(findings).entrySet()) {
            List<Object> elfs = new ArrayList<>();
            List<Object> broken = new ArrayList<>();
            List<Object> notes = new ArrayList<>();
            for (Finding f : group.getValue()) {
                switch (f) {
                    case Finding.ElfFound e -> elfs.add(elf(e.report(), asked));
                    case Finding.Broken b -> broken.add(Map.of("path", b.path(), "reason", b.reason()));
                    case Finding.PackageNote n -> notes.add(Map.of("path", n.path(), "message", n.message()));
                }
            }
            Map<String, Object> input = new LinkedHashMap<>();
            input.put("input", group.getKey());
            input.put("elfs", elfs);
            input.put("broken", broken);
            input.put("notes", notes);
            inputs.add(input);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("pageSize", asked.isEmpty() ? null : asked.getFirst());
        doc.put("inputs", inputs);
        doc.put("exitStatus", CompatCommand.exitStatus(findings, asked));
        return doc;
    }

    static Map<String, Object> elf(ElfReport r, List<Long> asked) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", r.path());
        m.put("class", r.elfClass());
        m.put("byteOrder", r.byteOrder());
        m.put("machine", r.architecture().displayName());
        m.put("e_machine", r.e_machine());
        m.put("type", r.type());
        m.put("loader", r.loader().map(Enum::name).orElse(null));
        List<Object> verdicts = new ArrayList<>();
        for (PageVerdict v : CompatCommand.shown(r, asked)) {
            Map<String, Object> vm = new LinkedHashMap<>();
            vm.put("pageSize", v.pageSize());
            vm.put("name", PageSizes.name(v.pageSize()));
            vm.put("loads", v.loads());
            vm.put("problems", v.problems());
            vm.put("warnings", v.warnings());
            verdicts.add(vm);
        }
        m.put("verdicts", verdicts);
        m.put("largestPageSize", r.largestPageSize());
        m.put("fix", r.fix().orElse(null));
        List<Object> mayFail = new ArrayList<>();
        for (ElfReport.MayFail f : r.mayFail()) {
            mayFail.add(Map.of("what", f.what(), "upTo", f.upTo(), "evidence", f.evidence()));
        }
        m.put("mayFail", mayFail);
        m.put("notes", r.notes());
        return m;
    }
}
