package dev.granule.cli;

import dev.granule.dump.KernelDump;
import dev.granule.dump.UnreadableAddressException;
import dev.granule.dump.TranslationText;
import dev.granule.memory.MemoryAccessException;
import dev.granule.memory.PageState;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.Callable;

/**
 * {@code granule dump read FILE ADDRESS [LENGTH]}: memory at a kernel virtual address (each page
 * translated on its own) or, with {@code --phys}, at a physical address, as a hex dump, words,
 * a C string or raw bytes. A page that is unmapped or not in the dump ends the read with a message
 * naming it, after what could be read was printed.
 */
@Command(name = "read",
        footerHeading = "%nExamples:%n",
        footer = {"  granule dump read vmcore.kdump init_uts_ns 64", "  granule dump read vmcore.kdump --phys 0x41858000 --u64 32", "  granule dump read vmcore.elf 0xffff800081a00000 --string"}, mixinStandardHelpOptions = true,
        description = {"Read dumped memory at a kernel virtual address (or --phys a physical one): hex and ASCII,",
                "--u64, --u32, --string or --binary bytes to standard output. Stops at the first page it cannot read, naming it."})
final class DumpReadCommand implements Callable<Integer> {

    /** Larger reads are refused: a hex dump of more is not read by anyone, and --binary has dd for that. */
    static final long MAX_LENGTH = 1L << 30;

    @Mixin
    DumpSourceOptions source = new DumpSourceOptions();

    @Parameters(index = "1", paramLabel = "ADDRESS", description = "Kernel VA (or a symbol, name+0xoff), or a PA with --phys.")
    String address;

    @Parameters(index = "2", arity = "0..1", paramLabel = "LENGTH", converter = SizeConverter.class,
            description = "Bytes to read (default: 64; with --string, at most 4K up to the NUL).")
    Long length;

    @Option(names = "--phys", description = "ADDRESS is a physical address.")
    boolean phys;

    static final class Format {
        @Option(names = "--u64", description = "64-bit little-endian words, with symbols for those that are kernel addresses.") boolean u64;
        @Option(names = "--u32", description = "32-bit little-endian words.") boolean u32;
        @Option(names = "--string", description = "A NUL-terminated string.") boolean string;
        // Not --raw: that option names a raw image's base address for every dump command.
        @Option(names = "--binary", description = "The bytes themselves, to standard output.") boolean raw;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Format format = new Format();

    @Mixin
    SymbolOptions symbols = new SymbolOptions();

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (KernelDump dump = source.open()) {
            SymbolOptions.Resolver names = format.raw ? new SymbolOptions.Resolver(java.util.Optional.empty()) : symbols.resolver(dump);
            long start = phys ? AddressConverter.parse(address) : names.address(address);
            long n = length != null ? length : format.string ? 4096 : 64;
            if (n <= 0 || n > MAX_LENGTH) throw new UserException("LENGTH must be 1 to 1G bytes, was " + n);
            if (format.u64 && (n % 8 != 0) || format.u32 && (n % 4 != 0)) {
                throw new UserException("LENGTH must be a multiple of the word size, was " + n);
            }
            long page = dump.geometry().pageSize();
            byte[] buf = new byte[(int) Math.min(n, 1 << 20)];
            String stop = null;
            long done = 0;
            boolean ended = false;
            OutputStream rawOut = format.raw ? System.out : null;
            while (done < n && stop == null && !ended) {
                // Up to the end of the page (each page is translated on its own), then print what was read.
                int want = (int) Math.min(Math.min(buf.length, n - done), page - ((start + done) & (page - 1)));
                long at = start + done;
                try {
                    if (phys) readPhysical(dump, at, buf, want);
                    else dump.readVirtual(at, buf, 0, want);
                } catch (UnreadableAddressException e) {
                    stop = e.getMessage();
                    break;
                } catch (MemoryAccessException e) {
                    stop = e.getMessage();
                    break;
                }
                if (rawOut != null) rawOut.write(buf, 0, want);
                else ended = print(out, names, at, buf, want, done);
                done += want;
            }
            if (format.string && !ended && stop == null) out.println();
            if (rawOut != null) rawOut.flush();
            out.flush();
            if (stop != null) {
                if (done == 0) throw new UserException(stop);
                // What was read is out; the reason it ends goes to stderr so that --raw output stays bytes.
                spec.commandLine().getErr().printf("granule: read stopped after %d bytes: %s%n", done, stop);
                spec.commandLine().getErr().flush();
                return ErrorHandler.USER_ERROR;
            }
        }
        return 0;
    }

    private static void readPhysical(KernelDump dump, long pa, byte[] buf, int n) {
        PageState s = dump.memory().pageState(pa);
        if (s != PageState.PRESENT) {
            throw new MemoryAccessException(pa, s == PageState.EXCLUDED ? "the page is RAM the dump left out (not in the dump)"
                    : "not RAM in this dump");
        }
        dump.memory().read(pa, buf, 0, n);
    }

    /** Prints {@code n} bytes read at {@code va}; returns true when a --string ended. */
    private boolean print(PrintWriter out, SymbolOptions.Resolver names, long va, byte[] b, int n, long done) throws IOException {
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder line = new StringBuilder(120);
        if (format.string) {
            for (int i = 0; i < n; i++) {
                if (b[i] == 0) {
                    out.println();
                    return true;
                }
                char c = (char) (b[i] & 0xFF);
                if (c >= 0x20 && c < 0x7F || c == '\n' || c == '\t') out.print(c);
                else out.printf("\\x%02x", b[i] & 0xFF);
            }
            return false;
        }
        int step = format.u64 ? 8 : format.u32 ? 4 : 16;
        for (int i = 0; i < n; i += step) {
            line.setLength(0);
            TranslationText.hex(line, va + i, 16);
            if (!phys && (done + i) % 64 == 0 || done + i == 0) {
                String sym = phys ? null : names.symbolize(va + i);
                if (sym != null) line.append(" <").append(sym).append('>');
            }
            line.append(": ");
            if (format.u64) {
                long v = le.getLong(i);
                TranslationText.hex(line, v, 16);
                String sym = names.symbolize(v);
                if (sym != null) line.append("  <").append(sym).append('>');
            } else if (format.u32) {
                TranslationText.hex(line, Integer.toUnsignedLong(le.getInt(i)), 8);
            } else {
                int k = Math.min(16, n - i);
                for (int j = 0; j < 16; j++) {
                    if (j < k) line.append(Character.forDigit((b[i + j] >> 4) & 0xF, 16)).append(Character.forDigit(b[i + j] & 0xF, 16));
                    else line.append("  ");
                    line.append(j == 7 ? "  " : " ");
                }
                line.append(" |");
                for (int j = 0; j < k; j++) {
                    char c = (char) (b[i + j] & 0xFF);
                    line.append(c >= 0x20 && c < 0x7F ? c : '.');
                }
                line.append('|');
            }
            out.append(line).append('\n');
        }
        return false;
    }
}
