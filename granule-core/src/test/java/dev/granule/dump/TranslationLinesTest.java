package dev.granule.dump;

import dev.granule.geometry.Geometry;
import dev.granule.memory.SparseMemory;
import dev.granule.table.KernelLayout;
import dev.granule.table.LeafWalk;
import dev.granule.table.Mapping;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link TranslationLines} (dump translate's lean path) writes, byte for byte, what the record path
 * ({@link KernelDump#resolve} then {@link TranslationText}) writes, on kernels of every granule and VA
 * size built by the engine: leaves' first and last bytes, random kernel addresses, user addresses,
 * with and without symbols; and on a KDUMP file that leaves out zero pages and one table page (mapped
 * pages not in the dump, "not in the dump" tables). The real crash files are checked the same way in
 * granule-capture's RealCrashDumpLinesTest.
 */
class TranslationLinesTest {

    @TempDir
    Path dir;

    static List<Geometry> geometries() {
        return SyntheticKernelDumpTest.geometries().toList();
    }

    /** The record path's text for {@code vas}, one line each. */
    static String recordPath(KernelDump dump, long[] vas, String[] symbols) {
        TranslationText text = new TranslationText(dump.geometry());
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < vas.length; i++) text.append(b, dump.resolve(vas[i]), symbols == null ? null : symbols[i]).append('\n');
        return b.toString();
    }

    static String leanPath(KernelDump dump, long[] vas, String[] symbols) {
        TranslationLines lines = new TranslationLines(dump, StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < vas.length; i++) {
            lines.append(vas[i], symbols == null ? null : symbols[i]);
            if (lines.length() > 10_000 || i == vas.length - 1) {
                b.append(new String(lines.buffer(), 0, lines.length(), StandardCharsets.UTF_8));
                lines.clear();
            }
        }
        // Most lines come from the walk cache (a region walked once serves its other addresses), so
        // comparing them with the record path checks the cache's answers, not only the walks'.
        assertThat(lines.cachedLines()).as("lines the walk cache answered").isGreaterThan(vas.length / 2);
        return b.toString();
    }

    /** Leaves' first and last byte and one inside (every leaf, or 4,000 spread over them), random kernel and user addresses. */
    static long[] addresses(List<Mapping> leaves, long firstVa, long seed) {
        Random r = new Random(seed);
        List<Long> out = new ArrayList<>();
        int stride = Math.max(1, leaves.size() / 4_000); // 4K kernels map the linear map with 10^5 pages
        for (int i = r.nextInt(stride); i < leaves.size(); i += stride) {
            Mapping m = leaves.get(i);
            out.add(m.va());
            out.add(m.lastVa());
            out.add(m.va() + (r.nextLong(m.size()) & -8));
        }
        for (int i = 0; i < 5_000; i++) out.add(firstVa + (r.nextLong(-firstVa) & -8));
        for (int i = 0; i < 200; i++) out.add(r.nextLong(1L << 40));
        out.add(-1L);
        out.add(firstVa);
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static String[] someSymbols(int n) {
        String[] s = new String[n];
        for (int i = 0; i < n; i += 3) s[i] = i % 9 == 0 ? "start_kernel+0x" + Integer.toHexString(i) : "\u00e9t\u00e9_" + i; // one non-ASCII name
        return s;
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void everyLineIsTheRecordPathsLineOnAnElfCoreOfEachGeometry(Geometry g) throws IOException {
        KernelLayout layout = KernelLayout.virt(g, 512L << 20);
        KernelLayout.Built built = layout.build(true);
        Path file = dir.resolve("vmcore.elf");
        ElfCoreWriter.write(file, built.memory(), List.of(ElfCoreWriter.Note.vmcoreInfo(layout.vmcoreInfo(built.space().root()))));
        try (SparseMemory ignored = built.memory(); KernelDump dump = KernelDump.open(file)) {
            List<Mapping> leaves = dump.kernelWalker().mappings();
            long[] vas = addresses(leaves, dump.kernelWalker().firstVa(), g.hashCode());
            String expected = recordPath(dump, vas, null);
            assertThat(expected).contains("  -> 0x").contains("unmapped").contains("not a kernel (TTBR1) address");
            assertThat(leanPath(dump, vas, null)).isEqualTo(expected);
            String[] symbols = someSymbols(vas.length);
            assertThat(leanPath(dump, vas, symbols)).isEqualTo(recordPath(dump, vas, symbols));
        }
    }

    @Test
    void aKdumpFileWithPagesAndATableLeftOutGivesTheRecordPathsLines() throws IOException {
        Geometry g = Geometry.FOUR_K_48;
        KernelLayout layout = KernelLayout.virt(g, 256L << 20);
        KernelLayout.Built built = layout.build(true);
        try (SparseMemory ram = built.memory()) {
            // Leave out every zero page (dump level 1) and the PTE table of the first page-mapped linear-map leaf.
            Mapping page = built.space().walker().mappings().stream().filter(m -> m.level() == 3)
                    .filter(m -> Long.compareUnsigned(m.va(), layout.pageEnd()) < 0).findFirst().orElseThrow();
            long table = built.space().walker().mappings().isEmpty() ? -1 : ExcludedPagesTest.pteTable(ram, built.space().root(), page.va());
            KdumpBytes k = new KdumpBytes(4096, layout.dram().end() / 4096);
            for (Map.Entry<Long, byte[]> chunk : ram.snapshot().chunks().entrySet()) {
                byte[] bytes = chunk.getValue();
                for (int off = 0; off < bytes.length; off += 4096) {
                    long pa = chunk.getKey() + off;
                    byte[] p = Arrays.copyOfRange(bytes, off, off + 4096);
                    if (!Arrays.equals(p, new byte[4096]) && pa != table) k.page(pa / 4096, p, KdumpBytes.LZO);
                }
            }
            for (long pa = layout.dram().base(); pa < layout.dram().end(); pa += 4096) {
                if (!k.pages.containsKey(pa / 4096)) k.excluded.add(pa / 4096);
            }
            k.vmcoreInfo = layout.vmcoreInfo(built.space().root());
            Path file = dir.resolve("vmcore.kdump");
            Files.write(file, k.build());
            try (KernelDump dump = KernelDump.open(file)) {
                List<Mapping> leaves = built.space().walker().mappings();
                long[] vas = addresses(leaves, dump.kernelWalker().firstVa(), 7);
                String expected = recordPath(dump, vas, null);
                assertThat(expected).contains("not in the dump: the level 3 (PTE) table").contains("(page not in the dump)");
                assertThat(leanPath(dump, vas, null)).isEqualTo(expected);
            }
        }
    }

    /**
     * More distinct leaf kinds than the lean path keeps texts for: tables whose leaves carry every
     * combination of the attribute bits a page descriptor has (AttrIndx, AP, SH, nG, the software
     * bits, PXN/UXN, Contiguous) still give the record path's lines, through the text cache's refill.
     */
    @Test
    void moreLeafKindsThanTheCacheHoldsStillGiveTheRecordPathsLines() throws IOException {
        Geometry g = Geometry.FOUR_K_48;
        KernelLayout layout = KernelLayout.virt(g, 256L << 20);
        KernelLayout.Built built = layout.build(true);
        try (SparseMemory ram = built.memory()) {
            // Rewrite the first PTE table of the linear map: 512 pages, each with different attribute bits.
            Mapping page = built.space().walker().mappings().stream().filter(m -> m.level() == 3)
                    .filter(m -> Long.compareUnsigned(m.va(), layout.pageEnd()) < 0).findFirst().orElseThrow();
            long table = ExcludedPagesTest.pteTable(ram, built.space().root(), page.va());
            long base = page.va() & -(2L << 20);
            Random r = new Random(3);
            for (int i = 0; i < 512; i++) {
                long d = ram.readLong(table + 8L * i);
                long attrs = (r.nextLong() & 0x0078_0000_0000_0FFCL) | (1L << 10) | 3; // [58:55],[54:53],[52] and [11:2]
                ram.writeLong(table + 8L * i, (d & 0x0000_FFFF_FFFF_F000L) | attrs);
            }
            Path file = dir.resolve("attrs.elf");
            ElfCoreWriter.write(file, ram, List.of(ElfCoreWriter.Note.vmcoreInfo(layout.vmcoreInfo(built.space().root()))));
            try (KernelDump dump = KernelDump.open(file)) {
                long[] vas = new long[3 * 512];
                for (int i = 0; i < vas.length; i++) vas[i] = base + (long) (i % 512) * 4096 + (i / 512) * 8L;
                String expected = recordPath(dump, vas, null);
                assertThat(expected.lines().map(l -> l.substring(l.indexOf(")  ") + 3)).distinct().count())
                        .as("distinct attribute texts").isGreaterThan(TranslationLines.TEXTS);
                assertThat(leanPath(dump, vas, null)).isEqualTo(expected);
            }
        }
    }

    /**
     * A 64K region whose level-3 table starts with more invalid entries than a walk-cache fill reads
     * (2,000 of 8,192, against {@link WalkCache#FILL_READS}) is not cached, and its addresses, walked
     * one by one, still give the record path's lines: the 2,000 unmapped and the mapped rest.
     */
    @Test
    void aRegionTooSparseToClassifyIsWalkedPerAddress() throws IOException {
        Geometry g = Geometry.SIXTY_FOUR_K_48;
        KernelLayout layout = KernelLayout.virt(g, 1024L << 20);
        KernelLayout.Built built = layout.build(true);
        try (SparseMemory ram = built.memory()) {
            Mapping page = built.space().walker().mappings().stream().filter(m -> m.level() == 3)
                    .filter(m -> Long.compareUnsigned(m.va(), layout.pageEnd()) < 0).findFirst().orElseThrow();
            LeafWalk walk = LeafWalk.compiled(built.space().walker().format(), ram, built.space().root(), -1L);
            assertThat(walk.leaf(page.va())).isNotZero();
            long table = walk.leafAddress() & -g.pageSize();
            long region = page.va() & -g.entrySpan(2);
            for (int i = 0; i < 2_000; i++) ram.writeLong(table + 8L * i, 0);
            Path file = dir.resolve("sparse.elf");
            ElfCoreWriter.write(file, ram, List.of(ElfCoreWriter.Note.vmcoreInfo(layout.vmcoreInfo(built.space().root()))));
            try (KernelDump dump = KernelDump.open(file)) {
                long[] vas = new long[8192 / 3 + 1];
                for (int i = 0; i < vas.length; i++) vas[i] = region + (long) (3 * i) * g.pageSize() + 8L * i;
                String expected = recordPath(dump, vas, null);
                assertThat(expected.lines().filter(l -> l.endsWith("unmapped")).count()).isEqualTo(667); // pages 0, 3, ..., 1998
                assertThat(expected).contains("  -> 0x");
                TranslationLines lines = new TranslationLines(dump, StandardCharsets.UTF_8);
                for (long va : vas) lines.append(va, null);
                assertThat(new String(lines.buffer(), 0, lines.length(), StandardCharsets.UTF_8)).isEqualTo(expected);
                assertThat(lines.cachedLines()).as("lines the walk cache answered").isZero();
            }
        }
    }

    /** The 8-digit words the lines are written with, against {@link Integer#toHexString} (zero-padded). */
    @Test
    void hexDigitsAreTheHexOfEachNibble() {
        Random r = new Random(18);
        java.util.stream.IntStream ints = java.util.stream.IntStream.concat(java.util.stream.IntStream.of(0, -1, 0x0123_4567, 0x89ab_cdef, 0xa0a0_a0a0),
                r.ints(100_000));
        ints.forEach(v -> {
            long word = TranslationLines.hexDigits(v);
            byte[] b = java.nio.ByteBuffer.allocate(8).putLong(word).array(); // big-endian: the first digit first
            assertThat(new String(b, StandardCharsets.US_ASCII)).isEqualTo("%8s".formatted(Integer.toHexString(v)).replace(' ', '0'));
        });
    }
}
