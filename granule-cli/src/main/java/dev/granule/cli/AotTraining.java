package dev.granule.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training run for JDK 25's ahead-of-time cache (JEP 483/514/515): runs the common commands
 * once each in one JVM, so that the classes they load and link, and the profiles of what they
 * execute, go into the cache that {@code -XX:AOTCacheOutput} writes when this JVM exits. Output
 * is discarded; a failing command fails the training, so a broken cache is never built silently.
 */
public final class AotTraining {

    private AotTraining() {}

    public static void main(String[] args) throws IOException {
        Path image = Files.createTempFile("granule-training", ".bin");
        // Output is discarded below System.out and System.err rather than by giving picocli writers of
        // its own, so the commands print the way the tool does (picocli's writer over System.out and its
        // charset encoder), and those classes are in the cache too.
        PrintStream out = System.out, err = System.err;
        System.setOut(new PrintStream(OutputStream.nullOutputStream(), true, out.charset()));
        System.setErr(new PrintStream(OutputStream.nullOutputStream(), true, err.charset()));
        try {
            Files.write(image, fourLevelTables());
            String img = image + "@0x40000000";
            run("--version");
            run("boot", "arm64.pagesize=16k granule.va_bits=47");
            run("boot", "--json", "arm64.pagesize=64k granule.va_bits=52");
            run("boot", "--cpu", "cortex-a76", "arm64.pagesize=4k");
            run("translate", "--tcr", "0x500800010", "--ttbr0", "0x40000000", "--image", img, "0x1234", "0x2000");
            run("translate", "--json", "--tcr", "0x500800010", "--ttbr0", "0x40000000", "--image", img, "0x1234");
            run("ptdump", "arm64.pagesize=4k", "--rodata", "on", "--dram", "1G");
            run("boot", "--help");
        } finally {
            System.setOut(out);
            System.setErr(err);
            Files.deleteIfExists(image);
        }
        // The tool ends through System.exit, whose exit logging loads the System.Logger machinery
        // (about 20 classes, and a service look-up); ending the same way puts them in the cache too.
        System.exit(0);
    }

    private static void run(String... args) {
        int exit = Main.commandLineFor(args).execute(args);
        if (exit != 0) throw new IllegalStateException("training command failed (exit " + exit + "): " + String.join(" ", args));
    }

    /**
     * 4K granule, 48-bit VA tables at PA 0x40000000: level 0, 1, 2 tables chained through entry 0,
     * level 3 entry 1 a page at PA 0x80000000 (VA 0x1000-0x1fff). Table descriptor: bits [1:0] = 0b11
     * with the next table's address; page descriptor: 0b11, AF (bit 10), output address.
     */
    static byte[] fourLevelTables() {
        ByteBuffer b = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0x4000_1000L | 0b11);
        b.putLong(4096, 0x4000_2000L | 0b11);
        b.putLong(2 * 4096, 0x4000_3000L | 0b11);
        b.putLong(3 * 4096 + 8, 0x8000_0000L | 1L << 10 | 0b11);
        return b.array();
    }
}
