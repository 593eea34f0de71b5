package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A listing of translation tables in the spirit of Linux's arm64 ptdump
 * ({@code /sys/kernel/debug/kernel_page_tables}): one line per run of leaves that are adjacent in
 * VA and PA, at the same level, with the same attributes and Contiguous bit, plus marker lines
 * naming the regions of a layout.
 */
public final class Ptdump {

    /** One line of the listing. */
    public record Range(long va, long lastVa, long pa, int level, boolean contiguous, Attributes attributes,
                        long leaves) {
        public long size() { return lastVa - va + 1; }
    }

    /**
     * VA {@code [va, lastVa]} whose mappings cannot be listed: the table at {@code tableLevel} that
     * would describe them, at {@code tablePa}, is not readable (outside RAM, or not in a dump).
     */
    public record Unseen(long va, long lastVa, int tableLevel, long tablePa) {
        public long size() { return lastVa - va + 1; }
    }

    private Ptdump() {}

    /** Merged ranges of every leaf in {@code [first, last]}. */
    public static List<Range> ranges(TableWalker walker, long first, long last) {
        return ranges(walker, first, last, new ArrayList<>());
    }

    /** Merged ranges of every leaf in {@code [first, last]}; the spans of unreadable tables go to {@code unseen}. */
    public static List<Range> ranges(TableWalker walker, long first, long last, List<Unseen> unseen) {
        Geometry g = walker.geometry();
        List<Range> out = new ArrayList<>();
        Range[] open = {null};
        walker.walk(first, last, new LeafVisitor() {
            @Override
            public void unreadableTable(long va, int level, long tableAddress) {
                long from = va;
                long to = level < g.startLevel() ? last : va + g.entrySpan(level) - 1;
                if (Long.compareUnsigned(from, first) < 0) from = first;
                if (Long.compareUnsigned(to, last) > 0) to = last;
                unseen.add(new Unseen(from, to, level + 1, tableAddress));
            }

            @Override
            public boolean leaf(long va, int level, dev.granule.format.Descriptor d) {
                return leafRange(walker, g, out, open, va, level, d);
            }
        });
        if (open[0] != null) out.add(open[0]);
        return out;
    }

    private static boolean leafRange(TableWalker walker, Geometry g, List<Range> out, Range[] open, long va, int level,
                                     dev.granule.format.Descriptor d) {
        long pa = walker.format().translate(d, level, va);
        long span = g.entrySpan(level);
        boolean contiguous = walker.format().contiguous(d, level);
        Attributes attributes = walker.format().attributes(d, level);
        Range r = open[0];
        if (r != null && r.level == level && r.contiguous == contiguous && r.lastVa + 1 == va
                && r.pa + r.size() == pa && r.attributes.equals(attributes)) {
            open[0] = new Range(r.va, va + span - 1, r.pa, level, contiguous, r.attributes, r.leaves + 1);
        } else {
            if (r != null) out.add(r);
            open[0] = new Range(va, va + span - 1, pa, level, contiguous, attributes, 1);
        }
        return true;
    }

    /** The text listing; {@code markers} name the regions starting at their addresses (may be empty). */
    public static String render(TableWalker walker, NavigableMap<Long, String> markers) {
        Geometry g = walker.geometry();
        StringBuilder b = new StringBuilder();
        TreeMap<Long, String> pending = new TreeMap<>(Long::compareUnsigned);
        pending.putAll(markers);
        for (Range r : ranges(walker, walker.firstVa(), walker.lastVa())) {
            while (!pending.isEmpty() && Long.compareUnsigned(pending.firstKey(), r.va) <= 0) {
                b.append("---[ ").append(pending.pollFirstEntry().getValue()).append(" ]---\n");
            }
            b.append(String.format("0x%016x-0x%016x %9s %-3s %s %s  -> 0x%013x  %s%n", r.va, r.lastVa + 1,
                    size(r.size()), g.linuxLevelName(r.level), r.level == 3 ? "   " : "BLK",
                    r.contiguous ? "CON" : "   ", r.pa, r.attributes.summary()));
        }
        while (!pending.isEmpty()) b.append("---[ ").append(pending.pollFirstEntry().getValue()).append(" ]---\n");
        return b.toString();
    }

    /** Sizes as ptdump prints them: the largest binary unit that divides exactly. */
    static String size(long bytes) {
        String[] units = {"", "K", "M", "G", "T", "P"};
        int u = 0;
        while (u < units.length - 1 && bytes % 1024 == 0 && bytes >= 1024) {
            bytes /= 1024;
            u++;
        }
        return bytes + units[u];
    }
}
