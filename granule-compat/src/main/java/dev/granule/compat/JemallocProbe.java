package dev.granule.compat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Finds a jemalloc whose page size is compiled in. jemalloc fixes PAGE = 1 << LG_PAGE at build time
 * (configure's --with-lg-page, default: the build machine's page size) and its {@code pages_boot()} refuses
 * to start on a larger system page: {@code if (os_page > PAGE) malloc_write("<jemalloc>: Unsupported system
 * page size\n")} (src/pages.c) — the failure users of 16K Asahi Linux and Raspberry Pi 5 kernels met.
 *
 * <p>Evidence, in order: (1) jemalloc's own message in the file; (2) on AArch64, the code that prints it:
 * the ADRP+ADD pair that forms the message's address, the conditional branch (B.HI) into that block,
 * and the compare just before the branch, {@code CMP Xn, #PAGE} (SUBS XZR, Xn, #imm12{, LSL #12}), whose
 * immediate is the compiled-in PAGE. Without (2) the page size is reported as unknown, never guessed.
 */
final class JemallocProbe {

    static final byte[] MARKER = "<jemalloc>: Unsupported system page size".getBytes(StandardCharsets.US_ASCII);

    private JemallocProbe() {}

    static Optional<ElfReport.MayFail> probe(Elf elf) {
        long at = indexOf(elf.data(), MARKER);
        if (at < 0) return Optional.empty();
        String found = "jemalloc's \"Unsupported system page size\" message at file offset 0x" + Long.toHexString(at);
        if (elf.e_machine() == Architecture.EM_AARCH64 && elf.byteOrder() == ByteOrder.LITTLE_ENDIAN) {
            Optional<ElfReport.MayFail> decoded = Aarch64PageCheck.find(elf, at).map(c -> new ElfReport.MayFail(
                    "jemalloc built for pages up to " + PageSizes.name(c.page()) + " aborts on larger pages", c.page(),
                    found + "; CMP #0x" + Long.toHexString(c.page()) + " at 0x" + Long.toHexString(c.cmpVaddr())
                            + " guards the branch at 0x" + Long.toHexString(c.branchVaddr()) + " to its print at 0x"
                            + Long.toHexString(c.printVaddr())));
            if (decoded.isPresent()) return decoded;
        }
        return Optional.of(new ElfReport.MayFail("jemalloc with a compiled-in page size (its value was not found in the code)", 0,
                found));
    }

    /**
     * First occurrence of {@code needle} in {@code data}, or -1: Boyer-Moore-Horspool over chunks copied out of the
     * segment, so most bytes are skipped (the needle is 40 bytes) — this runs over every ELF's whole file.
     */
    static long indexOf(MemorySegment data, byte[] needle) {
        int m = needle.length;
        int[] shift = new int[256];
        java.util.Arrays.fill(shift, m);
        for (int i = 0; i < m - 1; i++) shift[needle[i] & 0xff] = m - 1 - i;
        long size = data.byteSize();
        int chunk = (int) Math.min(1 << 20, Math.max(size, 1));   // a small file gets a small buffer
        byte[] buf = new byte[chunk + m];
        for (long base = 0; base < size; base += chunk) {
            int n = (int) Math.min(buf.length, size - base);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, base, buf, 0, n);
            int i = 0;
            while (i + m <= n) {
                int k = m - 1;
                while (k >= 0 && buf[i + k] == needle[k]) k--;
                if (k < 0) return base + i;
                i += shift[buf[i + m - 1] & 0xff];
            }
        }
        return -1;
    }
}
