package dev.granule.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.granule.dump.KernelDump;
import dev.granule.dump.Translation;
import dev.granule.dump.TranslationText;
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

    /** Chars of text output gathered before they go to the writer. */
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
                TranslationText text = new TranslationText(g);
                // Lines gather in one buffer handed to the writer in large pieces (one copy per
                // OUTPUT_BATCH chars, not per line); it is also handed over whenever the input has
                // nothing more buffered, so answers to a pipe still come as their addresses do.
                StringBuilder lines = new StringBuilder(OUTPUT_BATCH + 512);
                batch = () -> {
                    out.append(lines);
                    lines.setLength(0);
                };
                try {
                    feed(names, va -> {
                        text.append(lines, dump.resolve(va), names.symbolize(va)).append('\n');
                        if (lines.length() >= OUTPUT_BATCH) batch.run();
                    });
                } finally {
                    batch.run(); // the answers before a bad line are out before its error
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
        String from = r.toString();
        String line;
        long n = 0;
        while ((line = r.readLine()) != null) {
            n++;
            int start = 0;
            while (start < line.length() && Character.isWhitespace(line.charAt(start))) start++;
            if (start == line.length() || line.charAt(start) == '#') continue;
            int end = start;
            while (end < line.length() && !Character.isWhitespace(line.charAt(end))) end++;
            long va = hexAddress(line, start, end);
            if (va == -1) {
                try {
                    va = names.address(line.substring(start, end));
                } catch (UserException e) {
                    throw new UserException(from + " line " + n + ": " + e.getMessage(), e);
                }
            }
            sink.accept(va);
            if (!r.hasBufferedInput()) batch.run(); // the next line may be a wait on a pipe
        }
    }

    /**
     * {@code 0x} and 1 to 16 hex digits in {@code line[start, end)}, parsed in place (most lines of
     * an address list), or -1 for anything else, which {@link SymbolOptions.Resolver#address} then
     * reads (and an all-ones address, which it reads the same).
     */
    static long hexAddress(String line, int start, int end) {
        int digits = end - start - 2;
        if (digits < 1 || digits > 16 || line.charAt(start) != '0' || (line.charAt(start + 1) | 0x20) != 'x') return -1;
        long v = 0;
        for (int i = start + 2; i < end; i++) {
            int d = Character.digit(line.charAt(i), 16);
            if (d < 0) return -1;
            v = v << 4 | d;
        }
        return v;
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
