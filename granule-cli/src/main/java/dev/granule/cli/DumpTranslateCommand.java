package dev.granule.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.granule.dump.KernelDump;
import dev.granule.dump.Translation;
import dev.granule.dump.TranslationLines;
import dev.granule.geometry.Geometry;
import dev.granule.impact.BoundedLineReader;
import dev.granule.table.Mapping;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code granule dump translate FILE VA... [-f ADDRESSES|-]}: walks the dumped kernel's TTBR1 tables
 * for each address, from the arguments, then from the address files (one address per line, the
 * first word of the line; {@code #} comments), streaming: each answer is written as its address
 * is read, so millions of addresses cost no memory.
 */
@Command(name = "translate", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  granule dump translate vmcore.elf 0xffff800080000000 0xffff000002750123",
                "  granule dump translate --json vmcore.elf 0xffff800080000000", "  granule dump translate vmcore.elf -f addresses.txt"},
        description = {"Translate kernel virtual addresses through the dumped kernel's own page tables (TTBR1).",
                "Addresses come from the arguments and from -f FILE (one per line; '-' reads standard input)."})
final class DumpTranslateCommand implements Callable<Integer> {

    /** The longest line of an address list: an address or a symbol name and a comment. */
    static final int MAX_ADDRESS_LINE = 4096;

    @Mixin
    DumpSourceOptions source = new DumpSourceOptions();

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "VA",
            description = "Kernel virtual addresses, e.g. 0xffff800080000000, or symbol names with --system-map / kallsyms; '-' reads standard input.")
    List<String> addresses = new ArrayList<>();

    @Option(names = {"-f", "--addresses"}, paramLabel = "FILE",
            description = "Read addresses from FILE, one per line (the first word; '#' starts a comment); '-' is standard input. Repeatable.")
    List<String> files = new ArrayList<>();

    @Option(names = "--json", description = "Print JSON (addresses as 0x strings) instead of text.")
    boolean json;

    @Mixin
    SymbolOptions symbols = new SymbolOptions();

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Bytes of text output gathered before they go out. */
    static final int OUTPUT_BATCH = 1 << 15;

    /** Hands gathered output to the writer; nothing while none is gathered (JSON streams itself). */
    private Runnable batch = () -> { };

    /** Receives each address as it is read. */
    private interface Sink {
        void accept(long va) throws IOException;
    }

    @Override
    public Integer call() throws Exception {
        if (addresses.isEmpty() && files.isEmpty()) {
            throw new UserException("give addresses as arguments, or -f FILE (- for standard input)");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (KernelDump dump = source.open()) {
            SymbolOptions.Resolver names = symbols.resolver(dump);
            Geometry g = dump.geometry();
            if (json) {
                JsonGenerator j = new JsonFactory().createGenerator(new NonClosing(out));
                j.useDefaultPrettyPrinter();
                j.writeStartObject();
                j.writeStringField("geometry", g.label());
                j.writeStringField("root", Units.hex(dump.tables().rootPa()));
                j.writeArrayFieldStart("translations");
                feed(names, va -> writeJson(j, dump, names, va));
                j.writeEndArray();
                j.writeEndObject();
                j.flush();
                out.println();
            } else {
                out.printf("# %s, root %s%n", g.label(), Units.hex(dump.tables().rootPa()));
                // Lines are made as ASCII bytes in one buffer (TranslationLines: no objects per line)
                // and handed over in large pieces: to the process's standard output as they are, or,
                // when the command's writer is not the process's (tests, the AOT training), through it.
                // They are also handed over whenever the input has nothing more buffered, so answers
                // to a pipe still come as their addresses do.
                boolean bytes = Main.writesToProcessStdout();
                java.nio.charset.Charset charset = bytes ? System.out.charset() : java.nio.charset.StandardCharsets.UTF_8;
                TranslationLines lines = new TranslationLines(dump, charset);
                if (bytes) out.flush(); // the header first
                batch = () -> {
                    if (lines.length() == 0) return;
                    if (bytes) System.out.write(lines.buffer(), 0, lines.length());
                    else out.write(new String(lines.buffer(), 0, lines.length(), charset));
                    lines.clear();
                };
                try {
                    feed(names, va -> {
                        lines.append(va, names.symbolize(va));
                        if (lines.length() >= OUTPUT_BATCH) batch.run();
                    });
                } finally {
                    batch.run(); // the answers before a bad line are out before its error
                    if (bytes) System.out.flush();
                }
            }
        }
        out.flush();
        return 0;
    }

    /** Sends the argument addresses, then each file's, to {@code sink} as they are read. */
    private void feed(SymbolOptions.Resolver names, Sink sink) throws IOException {
        for (String a : addresses) {
            if (a.equals("-")) lines(addressLines(System.in, "standard input"), names, sink);
            else sink.accept(names.address(a));
        }
        for (String f : files) {
            if (f.equals("-")) {
                lines(addressLines(System.in, "standard input"), names, sink);
                continue;
            }
            InputFile.requireStreamable("-f " + f, Path.of(f)); // a file or a pipe; not a directory or a device
            try (BoundedLineReader r = addressLines(Files.newInputStream(Path.of(f)), f)) {
                lines(r, names, sink);
            } catch (NoSuchFileException e) {
                throw new UserException("cannot read addresses from " + f + ": no such file", e);
            }
        }
    }

    /**
     * An address list as bounded lines: any number of them (millions stream through), but none longer
     * than an address or a symbol name could be, so a file without newlines cannot fill the heap.
     */
    private static BoundedLineReader addressLines(java.io.InputStream in, String from) {
        return new BoundedLineReader(in, from, MAX_ADDRESS_LINE, Long.MAX_VALUE);
    }

    private void lines(BoundedLineReader r, SymbolOptions.Resolver names, Sink sink) throws IOException {
        // A call per line and nothing else: this loop runs once per file, so the JIT compiles it only
        // after tens of thousands of iterations (on-stack replacement) and the interpreter runs it
        // until then; line(), called per line, is compiled after a few hundred calls.
        int length;
        while ((length = r.readLineBytes()) >= 0) line(r, length, names, sink); // in place: no String per address
    }

    private void line(BoundedLineReader r, int length, SymbolOptions.Resolver names, Sink sink) throws IOException {
        byte[] line = r.lineBytes();
        int start = r.lineStart();
        int to = start + length;
        long va = plainAddress(line, start, to);
        if (va == -1) {
            while (start < to && blank(line[start])) start++;
            if (start == to || line[start] == '#') return;
            int end = start;
            while (end < to && !blank(line[end])) end++;
            va = hexAddress(line, start, end);
            if (va == -1) {
                try {
                    va = names.address(new String(line, start, end - start, java.nio.charset.StandardCharsets.ISO_8859_1));
                } catch (UserException e) {
                    throw new UserException(r + " line " + r.lineNumber() + ": " + e.getMessage(), e);
                }
            }
        }
        sink.accept(va);
        if (!r.hasBufferedInput()) batch.run(); // the next line may be a wait on a pipe
    }

    /**
     * The address of a line that is {@code 0x} and 1 to 16 hex digits from its first byte, up to its
     * end or a blank (most lines of an address list), in one pass; -1 for any other line, which
     * {@link #lines} then reads word by word (and an all-ones address, which it reads the same).
     */
    static long plainAddress(byte[] line, int start, int to) {
        if (to - start < 3 || line[start] != '0' || (line[start + 1] | 0x20) != 'x') return -1;
        if (to - start == 18) {
            // The usual line, %016x: sixteen digits without a branch each; any byte that is no digit
            // has HEX_VALUE -1, which leaves bad negative.
            long v = 0;
            int bad = 0;
            for (int i = start + 2; i < to; i++) {
                int d = HEX_VALUE[line[i] & 0xFF];
                bad |= d;
                v = v << 4 | (d & 0xF);
            }
            return bad < 0 ? -1 : v;
        }
        long v = 0;
        int i = start + 2;
        int last = Math.min(to, i + 16);
        for (int d; i < last && (d = HEX_VALUE[line[i] & 0xFF]) >= 0; i++) v = v << 4 | d;
        if (i == start + 2 || (i < to && !blank(line[i]))) return -1;
        return v;
    }

    /**
     * {@code 0x} and 1 to 16 hex digits in {@code line[start, end)}, parsed in place (most lines of
     * an address list), or -1 for anything else, which {@link SymbolOptions.Resolver#address} then
     * reads (and an all-ones address, which it reads the same).
     */
    static long hexAddress(byte[] line, int start, int end) {
        int digits = end - start - 2;
        if (digits < 1 || digits > 16 || line[start] != '0' || (line[start + 1] | 0x20) != 'x') return -1;
        long v = 0;
        for (int i = start + 2; i < end; i++) {
            int d = HEX_VALUE[line[i] & 0xFF];
            if (d < 0) return -1;
            v = v << 4 | d;
        }
        return v;
    }

    /** {@link Character#digit(char, int)} in base 16 for a line's bytes (each one char, 0-255): 0-9, a-f, A-F. */
    private static final byte[] HEX_VALUE = new byte[256];

    static {
        java.util.Arrays.fill(HEX_VALUE, (byte) -1);
        for (int c = 0; c < 256; c++) {
            int d = Character.digit(c, 16);
            if (d >= 0) HEX_VALUE[c] = (byte) d;
        }
    }

    /**
     * {@link Character#isWhitespace(char)} for a line's bytes (chars 0-255): tab to CR, the separators
     * 0x1C-0x1F, space; one compare for anything above space (an address's digits).
     */
    static boolean blank(byte b) {
        return b <= ' ' && b >= 0 && (b == ' ' || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F));
    }

    private static void writeJson(JsonGenerator j, KernelDump dump, SymbolOptions.Resolver names, long va) throws IOException {
        Geometry g = dump.geometry();
        Translation t = dump.resolve(va);
        j.writeStartObject();
        j.writeStringField("va", String.format("0x%016x", va));
        String sym = names.symbolize(va);
        if (sym != null) j.writeStringField("symbol", sym);
        j.writeBooleanField("kernelAddress", !(t instanceof Translation.NotKernelAddress));
        j.writeBooleanField("mapped", t instanceof Translation.Mapped);
        switch (t) {
            case Translation.Mapped m -> {
                Mapping x = m.mapping();
                j.writeStringField("pa", Units.hex(m.pa()));
                j.writeStringField("leafVa", Units.hex(x.va()));
                j.writeStringField("leafPa", Units.hex(x.pa()));
                j.writeNumberField("size", x.size());
                j.writeNumberField("level", x.level());
                j.writeStringField("linuxLevel", g.linuxLevelName(x.level()));
                j.writeBooleanField("contiguous", x.contiguous());
                j.writeStringField("attributes", x.attributes().summary());
                j.writeStringField("descriptor", String.format("0x%016x", x.descriptor().lo()));
                j.writeBooleanField("pageInDump", m.targetInDump());
                j.writeStringField("page", m.target().name().toLowerCase(java.util.Locale.ROOT));
            }
            case Translation.NotInDump n -> {
                j.writeStringField("notInDump", "table");
                j.writeNumberField("tableLevel", n.tableLevel());
                j.writeStringField("tablePa", Units.hex(n.tablePa()));
            }
            case Translation.TableOutsideRam o -> {
                j.writeStringField("tableOutsideRam", Units.hex(o.tablePa()));
                j.writeNumberField("tableLevel", o.tableLevel());
            }
            default -> { }
        }
        j.writeEndObject();
    }

    /** Lets the JSON generator write into the command's writer without closing it. */
    private static final class NonClosing extends Writer {
        private final Writer w;

        NonClosing(Writer w) { this.w = w; }

        @Override
        public void write(char[] c, int off, int len) throws IOException { w.write(c, off, len); }

        @Override
        public void flush() throws IOException { w.flush(); }

        @Override
        public void close() throws IOException { w.flush(); }
    }

}
