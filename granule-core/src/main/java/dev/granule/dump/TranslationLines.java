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
 * pair (a kernel has a few dozen) and copied. A batch's walks mostly end in level-3 tables and
 * blocks they reached before, and a dump never changes, so a {@link WalkCache} keeps where each 2M
 * (4K pages) region's walk ends: most lines read one descriptor, and an invalid one there is
 * "unmapped" at once. Outside cached regions, where the compiled walk finds no leaf the dump's
 * general walk says why, as {@link KernelDump#resolve} does: an invalid descriptor is "unmapped"; everything else (a
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
    /** Where a batch's walks end in the same level-3 table or block again and again; null without a compiled walk. */
    private final WalkCache cache;
    private final int pageShift;
    private final long pteMask;
    private final long pageSpan;
    /** A page descriptor's output-address bits [47:shift] (see {@link #textAddress}). */
    private final long pteAddressBits;
    private long cachedLines;
    private final TranslationText text;
    private final Charset symbolCharset;
    private final StringBuilder scratch = new StringBuilder(256);
    private final Descriptor descriptor = new Descriptor();

    /** Leaf texts by (level, descriptor without its output address): the part before and after the leaf's VA range. */
    private final long[] textKey = new long[TEXTS];
    private final int[] textLevel = new int[TEXTS];
    private final byte[][] textBefore = new byte[TEXTS][];
    private final byte[][] textAfter = new byte[TEXTS][];
    /**
     * The output-address bits a leaf's descriptor holds outside [47:shift] (LPA2's [51:50] in bits
     * [9:8], 64K's [51:48] in [15:12]): the same for every descriptor of one text key, since the key
     * keeps those bits. A page's output address is its bits [47:shift] and these (the decode is
     * bit by bit; Vmsa64Format.outputAddress).
     */
    private final long[] textAddress = new long[TEXTS];
    private int texts;
    private int lastText = -1;

    private byte[] buffer = new byte[1 << 16];
    private int length;

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
        this.cache = WalkCache.of(walker, memory, leafWalk);
        this.pageShift = geometry.shift(3);
        this.pteMask = geometry.entries(3) - 1;
        this.pageSpan = geometry.entrySpan(3);
        this.pteAddressBits = ((1L << 48) - 1) & -pageSpan;
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
            if (cache != null && cached(va, symbol)) return;
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
                unmapped(va, symbol);
                return;
            }
        }
        general(va, symbol);
    }

    /**
     * The line for {@code va} from the walk cache: one descriptor read in a cached level-3 table, a
     * cached block, or a region without leaves; false where the region is not cached (see {@link WalkCache}).
     */
    private boolean cached(long va, String symbol) {
        WalkCache c = cache;
        // The cache's look-up is here so that C1 (short batches) makes no call for a hit; WalkCache.miss fills.
        long region = va >>> c.regionShift;
        int s = WalkCache.pair(region);
        if (c.tag[s] == region) c.recent[s >> 1] = 0;
        else if (c.tag[++s] == region) c.recent[s >> 1] = 1;
        else s = c.miss(s - 1, region, va);
        switch (c.kind[s]) {
            case WalkCache.TABLE -> {
                long d = memory.readLong(c.address[s] + (((va >>> pageShift) & pteMask) << 3));
                // A level-3 descriptor is a page where bits [1:0] are 0b11; invalid or reserved (unmapped) otherwise.
                if ((d & 3) == 3) {
                    int t = leafText(d, 3);
                    line(va, symbol, t, pageSpan, (d & pteAddressBits) | textAddress[t] | (va & (pageSpan - 1)));
                } else {
                    unmapped(va, symbol);
                }
            }
            case WalkCache.BLOCK -> mapped(va, symbol, c.block[s], c.level[s], c.address[s]);
            case WalkCache.UNMAPPED -> unmapped(va, symbol);
            default -> {
                return false;
            }
        }
        cachedLines++;
        return true;
    }

    /** Lines the walk cache answered (for tests and measurements). */
    public long cachedLines() { return cachedLines; }

    private void unmapped(long va, String symbol) {
        hex16(va);
        if (symbol != null) symbol(symbol);
        put(UNMAPPED);
        buffer[length++] = '\n';
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
        line(va, symbol, leafText(d, level), span, outputBase | (va & (span - 1)));
    }

    /** The line of {@code va}, mapped to {@code pa} by a leaf of {@code span} bytes whose text is {@code t}. */
    private void line(long va, String symbol, int t, long span, long pa) {
        hex16(va);
        if (symbol != null) symbol(symbol);
        arrowPa(pa);
        put(textBefore[t]);
        long leafVa = va & -span;
        hex16(leafVa);
        buffer[length++] = '-';
        hex16(leafVa + span);
        put(textAfter[t]);
        PageState target = memory.pageState(pa);
        if (target != PageState.PRESENT) put(target == PageState.EXCLUDED ? NOT_IN_DUMP : NOT_RAM);
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
        textAddress[i] = format.outputAddress(new Descriptor(key, 0), level);
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

    // The hex below is written with the nibble spreading of hexDigits and byte stores spelled out in
    // each method rather than called: a short batch runs in C1, which inlines only methods of a few
    // bytecodes and would make 16 calls per line; C2 merges the byte stores into word stores.

    /** {@code 0x} and the 16 hex digits of {@code v}. */
    private void hex16(long v) {
        byte[] b = buffer;
        int at = length;
        b[at] = '0';
        b[at + 1] = 'x';
        long x = v >>> 32; // digits 15..8, one per byte (see hexDigits)
        x = (x | x << 16) & 0x0000_FFFF_0000_FFFFL;
        x = (x | x << 8) & 0x00FF_00FF_00FF_00FFL;
        x = (x | x << 4) & 0x0F0F_0F0F_0F0F_0F0FL;
        x += 0x3030_3030_3030_3030L + (((x + 0x0606_0606_0606_0606L) >>> 4) & 0x0101_0101_0101_0101L) * ('a' - '0' - 10);
        long y = v & 0xFFFF_FFFFL; // digits 7..0
        y = (y | y << 16) & 0x0000_FFFF_0000_FFFFL;
        y = (y | y << 8) & 0x00FF_00FF_00FF_00FFL;
        y = (y | y << 4) & 0x0F0F_0F0F_0F0F_0F0FL;
        y += 0x3030_3030_3030_3030L + (((y + 0x0606_0606_0606_0606L) >>> 4) & 0x0101_0101_0101_0101L) * ('a' - '0' - 10);
        b[at + 2] = (byte) (x >>> 56);
        b[at + 3] = (byte) (x >>> 48);
        b[at + 4] = (byte) (x >>> 40);
        b[at + 5] = (byte) (x >>> 32);
        b[at + 6] = (byte) (x >>> 24);
        b[at + 7] = (byte) (x >>> 16);
        b[at + 8] = (byte) (x >>> 8);
        b[at + 9] = (byte) x;
        b[at + 10] = (byte) (y >>> 56);
        b[at + 11] = (byte) (y >>> 48);
        b[at + 12] = (byte) (y >>> 40);
        b[at + 13] = (byte) (y >>> 32);
        b[at + 14] = (byte) (y >>> 24);
        b[at + 15] = (byte) (y >>> 16);
        b[at + 16] = (byte) (y >>> 8);
        b[at + 17] = (byte) y;
        length = at + 18;
    }

    /**
     * {@code "  -> 0x"} and the 13 hex digits of {@code pa} (a 52-bit PA): the low 13 of its 16,
     * as the record path prints it.
     */
    private void arrowPa(long pa) {
        byte[] b = buffer;
        int at = length;
        long x = (pa >>> 32) & 0xF_FFFFL; // digits 12..8 (see hexDigits)
        x = (x | x << 16) & 0x0000_FFFF_0000_FFFFL;
        x = (x | x << 8) & 0x00FF_00FF_00FF_00FFL;
        x = (x | x << 4) & 0x0F0F_0F0F_0F0F_0F0FL;
        x += 0x3030_3030_3030_3030L + (((x + 0x0606_0606_0606_0606L) >>> 4) & 0x0101_0101_0101_0101L) * ('a' - '0' - 10);
        long y = pa & 0xFFFF_FFFFL; // digits 7..0
        y = (y | y << 16) & 0x0000_FFFF_0000_FFFFL;
        y = (y | y << 8) & 0x00FF_00FF_00FF_00FFL;
        y = (y | y << 4) & 0x0F0F_0F0F_0F0F_0F0FL;
        y += 0x3030_3030_3030_3030L + (((y + 0x0606_0606_0606_0606L) >>> 4) & 0x0101_0101_0101_0101L) * ('a' - '0' - 10);
        b[at] = ' ';
        b[at + 1] = ' ';
        b[at + 2] = '-';
        b[at + 3] = '>';
        b[at + 4] = ' ';
        b[at + 5] = '0';
        b[at + 6] = 'x';
        b[at + 7] = (byte) (x >>> 32);
        b[at + 8] = (byte) (x >>> 24);
        b[at + 9] = (byte) (x >>> 16);
        b[at + 10] = (byte) (x >>> 8);
        b[at + 11] = (byte) x;
        b[at + 12] = (byte) (y >>> 56);
        b[at + 13] = (byte) (y >>> 48);
        b[at + 14] = (byte) (y >>> 40);
        b[at + 15] = (byte) (y >>> 32);
        b[at + 16] = (byte) (y >>> 24);
        b[at + 17] = (byte) (y >>> 16);
        b[at + 18] = (byte) (y >>> 8);
        b[at + 19] = (byte) y;
        length = at + 20;
    }

    /**
     * The 8 hex digits of {@code v} as 8 ASCII bytes in a long, the first digit in the top byte:
     * each nibble spread into a byte of its own, then '0' added, and 'a' - '0' - 10 more to the
     * bytes whose nibble is 10 or more (found as a carry out of the nibble after adding 6), all
     * bytes at once. {@link #hex16} and {@link #arrowPa} spell this out; the tests check it here.
     */
    static long hexDigits(int v) {
        long x = v & 0xFFFF_FFFFL;
        x = (x | x << 16) & 0x0000_FFFF_0000_FFFFL;
        x = (x | x << 8) & 0x00FF_00FF_00FF_00FFL;
        x = (x | x << 4) & 0x0F0F_0F0F_0F0F_0F0FL;
        long letters = ((x + 0x0606_0606_0606_0606L) >>> 4) & 0x0101_0101_0101_0101L;
        return x + 0x3030_3030_3030_3030L + letters * ('a' - '0' - 10);
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
