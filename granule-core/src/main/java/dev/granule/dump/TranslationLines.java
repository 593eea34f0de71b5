package dev.granule.dump;

import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PageState;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.LeafVisitor;
import dev.granule.table.LeafWalk;
import dev.granule.table.TableWalker;

import java.nio.charset.Charset;
import java.util.Arrays;

/**
 * {@code dump translate}'s text lines without a {@link Translation} per address: the same bytes
 * {@link TranslationText} gives for {@link KernelDump#resolve}, written as ASCII straight into one
 * reused byte buffer. A batch of millions of addresses spends its time walking and writing, not
 * making a Translation, Mapping, Descriptor and Attributes per line and encoding chars.
 *
 * <p>The walk is the geometry's compiled leaf walk ({@link LeafWalk}), which answers a leaf or
 * "no leaf here"; a line for a leaf is the VA, the PA, and the leaf's text, which depends only on
 * the leaf's level and its descriptor bits outside the output address, so it is made once per such
 * pair (a kernel has a few dozen) and copied. Where it finds no leaf, the dump's general walk says
 * why, as {@link KernelDump#resolve} does: an invalid descriptor is "unmapped"; everything else (a
 * table not in the dump or outside RAM; not a kernel address; a format without a compiled walk)
 * is resolved the general way and formatted by {@link TranslationText}, from which every line's text comes.
 * Not thread-safe (one per command, as the dump's walker is).
 */
public final class TranslationLines {

    /** Where a mapped line's text after the PA starts: "0x" and 16 digits, "  -> ", "0x" and 13 digits. */
    private static final int PA_END = 18 + 5 + 15;

    /** Distinct leaf texts kept; a hostile table with more attribute sets than this only costs a re-make. */
    static final int TEXTS = 256;

    private final KernelDump dump;
    private final Geometry geometry;
    private final PhysicalMemory memory;
    private final DescriptorFormat format;
    private final TableWalker walker;
    private final LeafWalk leafWalk;
    private final TranslationText text;
    private final Charset symbolCharset;
    private final StringBuilder scratch = new StringBuilder(256);
    private final Descriptor descriptor = new Descriptor();

    /** Leaf texts by (level, descriptor without its output address): the part before and after the leaf's VA range. */
    private final long[] textKey = new long[TEXTS];
    private final int[] textLevel = new int[TEXTS];
    private final byte[][] textBefore = new byte[TEXTS][];
    private final byte[][] textAfter = new byte[TEXTS][];
    private int texts;
    private int lastText = -1;

    private byte[] buffer = new byte[1 << 16];
    private int length;

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] ARROW = ascii("  -> ");
    private static final byte[] NOT_IN_DUMP = ascii("  (page not in the dump)");
    private static final byte[] NOT_RAM = ascii("  (not RAM in the dump)");
    private static final byte[] UNMAPPED = ascii("  unmapped");

    /**
     * @param symbolCharset how the symbol names given to {@link #append} are written (the output's
     *                      charset; kernel symbols are ASCII, so this matters only for odd System.map files)
     */
    public TranslationLines(KernelDump dump, Charset symbolCharset) {
        this.dump = dump;
        this.geometry = dump.geometry();
        this.memory = dump.memory();
        this.walker = dump.kernelWalker();
        this.format = walker.format();
        // No PA limit: a table address the compiled walk would refuse goes the general way anyway.
        this.leafWalk = LeafWalk.compiled(format, memory, walker.root(), -1L);
        this.text = new TranslationText(geometry);
        this.symbolCharset = symbolCharset;
    }

    private static byte[] ascii(String s) { return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII); }

    /** The bytes gathered so far: {@code buffer()[0, length())}. */
    public byte[] buffer() { return buffer; }

    public int length() { return length; }

    /** Forgets the gathered bytes (after they were written out). */
    public void clear() { length = 0; }

    /** Appends the line for {@code va} and a line end; {@code symbol} (or null) as {@link TranslationText} puts it. */
    public void append(long va, String symbol) {
        if (buffer.length - length < 512) grow(512);
        if (leafWalk != null && walker.covers(va)) {
            long d = leafWalk.leaf(va);
            if (d != 0) {
                mapped(va, symbol, d, leafWalk.level(), leafWalk.outputAddress());
                return;
            }
            // No leaf: most often an invalid descriptor, which the general walk (as resolve walks)
            // confirms without a Translation; a table not in the dump or outside RAM goes the general way.
            outcome = NONE;
            walker.walk(va, va, probe);
            if (outcome == NONE) {
                hex(va, 16);
                if (symbol != null) symbol(symbol);
                put(UNMAPPED);
                buffer[length++] = '\n';
                return;
            }
        }
        general(va, symbol);
    }

    private static final int NONE = 0, LEAF = 1, UNREADABLE = 2;
    /** What {@link #probe} saw of the last walk. */
    private int outcome;
    private final LeafVisitor probe = new LeafVisitor() {
        @Override
        public boolean leaf(long leafVa, int level, Descriptor d) {
            outcome = LEAF;
            return false;
        }

        @Override
        public void unreadableTable(long at, int level, long table) {
            outcome = UNREADABLE;
        }
    };

    private void mapped(long va, String symbol, long d, int level, long outputBase) {
        long span = geometry.entrySpan(level);
        long pa = outputBase | (va & (span - 1));
        int t = leafText(d, level);
        hex(va, 16);
        if (symbol != null) symbol(symbol);
        put(ARROW);
        hex(pa, 13);
        put(textBefore[t]);
        long leafVa = va & -span;
        hex(leafVa, 16);
        buffer[length++] = '-';
        hex(leafVa + span, 16);
        put(textAfter[t]);
        switch (memory.pageState(pa)) {
            case EXCLUDED -> put(NOT_IN_DUMP);
            case NOT_RAM -> put(NOT_RAM);
            case PRESENT -> { }
        }
        buffer[length++] = '\n';
    }

    /**
     * The leaf text for descriptor {@code d} at {@code level}: looked up by the descriptor with its
     * output-address bits [47:shift] cleared (never an attribute bit in any VMSAv8-64 granule; other
     * address bits, such as LPA2's, stay in the key and only make more keys), made by
     * {@link TranslationText} from the record path on a miss, so the two cannot differ.
     */
    private int leafText(long d, int level) {
        long key = d & ~(((1L << 48) - 1) & -(1L << geometry.shift(level)));
        int last = lastText;
        if (last >= 0 && textKey[last] == key && textLevel[last] == level) return last;
        for (int i = 0; i < texts; i++) {
            if (textKey[i] == key && textLevel[i] == level) return lastText = i;
        }
        if (texts == TEXTS) texts = 0; // more leaf kinds than any kernel has: start over
        int i = texts++;
        long span = geometry.entrySpan(level);
        // The record path's line for a leaf at VA 0 of this descriptor, cut around its VA range.
        descriptor.set(d, 0);
        long leafVa = 0;
        var m = new dev.granule.table.Mapping(leafVa, format.translate(descriptor, level, leafVa), span, level,
                format.attributes(descriptor, level), format.contiguous(descriptor, level), new Descriptor(d, 0));
        scratch.setLength(0);
        text.append(scratch, new Translation.Mapped(leafVa, m.pa(), m, PageState.PRESENT), null);
        String line = scratch.toString();
        int open = line.indexOf(" (0x", PA_END);
        int close = line.indexOf(")  ", open);
        textKey[i] = key;
        textLevel[i] = level;
        textBefore[i] = ascii(line.substring(PA_END, open + 2)); // "  4K PTE page at level 3 ("
        textAfter[i] = ascii(line.substring(close)); // ")  RW/-- ... [CON]"
        return lastText = i;
    }

    /** The line as the record path makes it: {@link KernelDump#resolve} and {@link TranslationText}. */
    private void general(long va, String symbol) {
        scratch.setLength(0);
        text.append(scratch, dump.resolve(va), symbol);
        int n = scratch.length();
        boolean plain = true;
        for (int i = 0; i < n && plain; i++) plain = scratch.charAt(i) < 0x80;
        if (plain) {
            if (buffer.length - length < n + 1) grow(n + 1);
            for (int i = 0; i < n; i++) buffer[length++] = (byte) scratch.charAt(i);
        } else {
            put(scratch.toString().getBytes(symbolCharset));
        }
        buffer[length++] = '\n';
    }

    private void symbol(String symbol) {
        buffer[length++] = ' ';
        buffer[length++] = '<';
        put(symbol.getBytes(symbolCharset));
        buffer[length++] = '>';
    }

    private void hex(long v, int digits) {
        byte[] b = buffer;
        int at = length;
        b[at] = '0';
        b[at + 1] = 'x';
        for (int i = at + digits + 1; i >= at + 2; i--, v >>>= 4) b[i] = HEX[(int) v & 0xF];
        length = at + digits + 2;
    }

    private void put(byte[] bytes) {
        if (buffer.length - length < bytes.length + 64) grow(bytes.length + 64);
        System.arraycopy(bytes, 0, buffer, length, bytes.length);
        length += bytes.length;
    }

    private void grow(int room) {
        buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + room));
    }
}
