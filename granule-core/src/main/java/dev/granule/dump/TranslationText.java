package dev.granule.dump;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.table.Mapping;

import java.util.HashMap;
import java.util.Map;

/**
 * One line of text per {@link Translation}, as {@code granule dump translate} prints it, written
 * into a reused {@link StringBuilder} with hand-rolled hex so that formatting costs about what the
 * walk costs (String.format would cost ten times the walk):
 *
 * <pre>
 * 0xffff000002750123  -> 0x0000042750123  4K PTE page at level 3 (0x...-0x...)  RW/-- PXN UXN AF    ISH MT1
 * 0xffff000002750123  not in the dump: the level 3 (PTE) table at PA 0x41234000 was left out
 * </pre>
 */
public final class TranslationText {

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final String[] SIZE_SUFFIX = {"", "K", "M", "G", "T", "P", "E"};

    private final Geometry geometry;
    /** Attribute summaries by value: a kernel has a handful of distinct attribute sets. */
    private final Map<Attributes, String> summaries = new HashMap<>();
    /** {@link #size} of each power of two, made once: a line costs no string of its own. */
    private final String[] sizes = new String[64];
    private final char[] digitScratch = new char[18];
    private Attributes lastAttributes;
    private String lastSummary;

    public TranslationText(Geometry geometry) {
        this.geometry = geometry;
    }

    /** Appends {@code 0x} and {@code digits} hex digits of {@code v}, zero-padded. */
    public static StringBuilder hex(StringBuilder b, long v, int digits) {
        b.append('0').append('x');
        for (int i = digits - 1; i >= 0; i--) b.append(HEX[(int) (v >>> (i * 4)) & 0xF]);
        return b;
    }

    /** As {@link #hex(StringBuilder, long, int)}, one append of a reused buffer rather than one per digit. */
    private StringBuilder hexLine(StringBuilder b, long v, int digits) {
        char[] c = digitScratch;
        c[0] = '0';
        c[1] = 'x';
        for (int i = digits + 1; i >= 2; i--, v >>>= 4) c[i] = HEX[(int) v & 0xF];
        return b.append(c, 0, digits + 2);
    }

    /** Appends {@code 0x} and the hex digits of {@code v} without leading zeros. */
    public static StringBuilder hex(StringBuilder b, long v) {
        int digits = Math.max(1, (67 - Long.numberOfLeadingZeros(v)) / 4);
        return hex(b, v, digits);
    }

    /** A power-of-two size as 4K, 2M, 1G (other sizes in bytes). */
    public static String size(long bytes) {
        int unit = 0;
        long v = bytes;
        while (unit < SIZE_SUFFIX.length - 1 && v >= 1024 && v % 1024 == 0) {
            v /= 1024;
            unit++;
        }
        return v + SIZE_SUFFIX[unit];
    }

    /** The summary of {@code a}: consecutive lines mostly share one set, so the last one is tried before the map. */
    private String summary(Attributes a) {
        if (a.equals(lastAttributes)) return lastSummary;
        lastSummary = summaries.computeIfAbsent(a, Attributes::summary);
        lastAttributes = a;
        return lastSummary;
    }

    private String sizeOf(long bytes) {
        if (Long.bitCount(bytes) != 1) return size(bytes);
        int i = Long.numberOfTrailingZeros(bytes);
        String s = sizes[i];
        return s != null ? s : (sizes[i] = size(bytes));
    }

    /** Appends the line for {@code t} (without a line end); {@code symbol} is appended as {@code  <symbol>} if not null. */
    public StringBuilder append(StringBuilder b, Translation t, String symbol) {
        hexLine(b, t.va(), 16);
        if (symbol != null) b.append(" <").append(symbol).append('>');
        b.append("  ");
        switch (t) {
            case Translation.Mapped m -> {
                Mapping x = m.mapping();
                b.append("-> ");
                hexLine(b, m.pa(), 13).append("  ").append(sizeOf(x.size())).append(' ').append(geometry.linuxLevelName(x.level()))
                        .append(x.isBlock() ? " block" : " page").append(" at level ").append(x.level()).append(" (");
                hexLine(b, x.va(), 16).append('-');
                hexLine(b, x.va() + x.size(), 16).append(")  ").append(summary(x.attributes()));
                if (x.contiguous()) b.append(" CON");
                switch (m.target()) {
                    case EXCLUDED -> b.append("  (page not in the dump)");
                    case NOT_RAM -> b.append("  (not RAM in the dump)");
                    case PRESENT -> { }
                }
            }
            case Translation.Unmapped u -> b.append("unmapped");
            case Translation.NotInDump n -> {
                b.append("not in the dump: the level ").append(n.tableLevel()).append(" (")
                        .append(geometry.linuxLevelName(n.tableLevel())).append(") table at PA ");
                hex(b, n.tablePa()).append(" was left out");
            }
            case Translation.TableOutsideRam o -> {
                b.append("table outside RAM: the level ").append(o.tableLevel()).append(" table at PA ");
                hex(b, o.tablePa()).append(" is not in the dump's memory");
            }
            case Translation.NotKernelAddress k -> b.append("not a kernel (TTBR1) address for a ").append(geometry.vaBits())
                    .append("-bit VA");
        }
        return b;
    }
}
