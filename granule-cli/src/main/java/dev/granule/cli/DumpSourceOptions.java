package dev.granule.cli;

import dev.granule.dump.DumpOptions;
import dev.granule.dump.GeometrySearch;
import dev.granule.dump.KernelDump;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The dump file and what the user knows about it beyond its bytes (shared by the dump subcommands). */
final class DumpSourceOptions {

    /** How much raw image the VMCOREINFO search reads at most: the RAM of a large server. */
    static final long MAX_RAW_SCAN_BYTES = 256L << 30;

    @Parameters(index = "0", paramLabel = "FILE", description = "An arm64 dump: ELF core (kdump vmcore, QEMU dump-guest-memory), makedumpfile's kdump-compressed or flattened file, or, with --raw, a raw memory image.")
    Path file;

    @Option(names = "--raw", paramLabel = "PA", converter = AddressConverter.class,
            description = "Read FILE as a raw physical memory image starting at physical address PA.")
    Long rawBase;

    @Option(names = "--page-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Page size the kernel ran with (4K, 16K, 64K); overrides VMCOREINFO.")
    Long pageSize;

    @Option(names = "--va-bits", paramLabel = "N", description = "Kernel VA size in bits; overrides VMCOREINFO.")
    Integer vaBits;

    @Option(names = "--root", paramLabel = "PA", converter = AddressConverter.class,
            description = "Physical address of the TTBR1 root table (swapper_pg_dir); overrides VMCOREINFO.")
    Long root;

    @Option(names = "--ttbr1", paramLabel = "VALUE", converter = AddressConverter.class,
            description = "TTBR1_EL1 value; the root is its BADDR field.")
    Long ttbr1;

    @Option(names = "--no-vmcoreinfo", description = "Ignore VMCOREINFO (note and copies in RAM); use the options and the candidate search.")
    boolean noVmcoreInfo;

    @Option(names = "--expect", paramLabel = "VA[=PA]",
            description = "An address the kernel maps (and where to), to rule out candidate geometries. Repeatable.")
    List<String> expect = new ArrayList<>();

    DumpOptions options() {
        List<GeometrySearch.Expectation> x = new ArrayList<>();
        for (String e : expect) {
            int eq = e.indexOf('=');
            x.add(eq < 0 ? new GeometrySearch.Expectation(AddressConverter.parse(e), -1)
                    : new GeometrySearch.Expectation(AddressConverter.parse(e.substring(0, eq)), AddressConverter.parse(e.substring(eq + 1))));
        }
        if (root != null && ttbr1 != null) throw new UserException("give --root or --ttbr1, not both");
        try {
            return new DumpOptions(rawBase == null ? -1 : rawBase, pageSize == null ? 0 : pageSize,
                    vaBits == null ? 0 : vaBits, root == null ? -1 : root, ttbr1 == null ? -1 : ttbr1, !noVmcoreInfo, x);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
    }

    KernelDump open() throws IOException {
        // Dumps are memory-mapped, not read, so their size is no limit; their kind and readability are.
        long size = InputFile.requireReadable("dump " + file, file, Long.MAX_VALUE);
        // A raw image without a VMCOREINFO note is searched page by page for the kernel's copy of it:
        // beyond some size (a sparse file of any length is cheap to make) that is a read without end.
        if (rawBase != null && !noVmcoreInfo && size > MAX_RAW_SCAN_BYTES) {
            throw new UserException("dump " + file + ": is " + Units.bytes(size) + ", more than the " + Units.bytes(MAX_RAW_SCAN_BYTES)
                    + " of raw image granule searches for VMCOREINFO; give --no-vmcoreinfo with --root or --ttbr1");
        }
        try {
            return KernelDump.open(file, options());
        } catch (NoSuchFileException e) {
            throw new UserException("cannot read dump " + file + ": no such file", e);
        }
    }
}
