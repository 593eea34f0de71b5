package dev.granule.dump;

import dev.granule.geometry.Geometry;
import dev.granule.memory.SparseMemory;
import dev.granule.table.KernelLayout;
import dev.granule.table.Mapping;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A kernel's tables (built with the engine, 4K/48, rodata=full so the linear map has PTE tables)
 * written as a kdump-compressed file that leaves pages out, as {@code makedumpfile -d} does: the
 * all-zero pages (dump level 1), and in one file also one PTE table page. Translation must walk as
 * far as the dump allows and say which table page at which level it could not read.
 */
class ExcludedPagesTest {

    @TempDir
    Path dir;

    private static final long PAGE = 4096;

    /** Writes the model's RAM, leaving out zero pages and {@code alsoExclude}; returns the file. */
    private Path write(KernelLayout layout, KernelLayout.Built built, long alsoExclude) throws IOException {
        SparseMemory ram = built.memory();
        long end = layout.dram().end();
        KdumpBytes k = new KdumpBytes((int) PAGE, end / PAGE);
        for (Map.Entry<Long, byte[]> chunk : ram.snapshot().chunks().entrySet()) {
            byte[] bytes = chunk.getValue();
            for (int off = 0; off < bytes.length; off += PAGE) {
                long pa = chunk.getKey() + off;
                byte[] page = Arrays.copyOfRange(bytes, off, off + (int) PAGE);
                boolean zero = Arrays.equals(page, new byte[(int) PAGE]);
                if (!zero && pa != alsoExclude) k.page(pa / PAGE, page, KdumpBytes.ZLIB);
            }
        }
        for (long pa = layout.dram().base(); pa < end; pa += PAGE) {
            if (!k.pages.containsKey(pa / PAGE)) k.excluded.add(pa / PAGE);
        }
        k.vmcoreInfo = layout.vmcoreInfo(built.space().root());
        Path file = dir.resolve("vmcore-" + Long.toHexString(alsoExclude) + ".kdump");
        Files.write(file, k.build());
        return file;
    }

    /** The level-3 table the walk of {@code va} reads, found by reading descriptors as the Arm ARM says (4K: OA bits [47:12]); TranslationLinesTest's too. */
    static long pteTable(SparseMemory ram, long root, long va) {
        long table = root;
        for (int level = 0; level < 3; level++) {
            int shift = 39 - 9 * level;
            long d = ram.readLong(table + ((va >>> shift) & 511) * 8);
            assertThat(d & 3).as("level %d entry for %#x is a table descriptor", level, va).isEqualTo(3);
            table = d & 0x0000_FFFF_FFFF_F000L;
        }
        return table;
    }

    @Test
    void aMissingTablePageIsNotInTheDumpWithItsLevelAndAddress() throws IOException {
        Geometry g = Geometry.FOUR_K_48;
        KernelLayout layout = KernelLayout.virt(g, 256L << 20);
        KernelLayout.Built built = layout.build(true);
        try (SparseMemory ram = built.memory()) {
            // A linear-map address the tables map with a page (rodata=full), and the PTE table that maps it.
            Mapping page = built.space().walker().mappings().stream().filter(m -> m.level() == 3)
                    .filter(m -> Long.compareUnsigned(m.va(), layout.pageEnd()) < 0).findFirst().orElseThrow();
            long va = page.va() + 0x123;
            long table = pteTable(ram, built.space().root(), va);
            Path file = write(layout, built, table);
            try (KernelDump dump = KernelDump.open(file)) {
                assertThat(dump.format()).isEqualTo(KernelDump.Format.KDUMP);
                assertThat(dump.geometry()).isEqualTo(g);
                assertThat(dump.resolve(va)).isEqualTo(new Translation.NotInDump(va, 3, table));
                // Every VA that table maps (2 MiB) is unknown; the next 2 MiB walks on.
                assertThat(dump.resolve((va & -(2L << 20)) + (2L << 20) - 8)).isInstanceOf(Translation.NotInDump.class);
                assertThat(dump.translate(va)).isEmpty();
                // The kernel image is mapped and its pages are in the dump (not zero).
                long text = layout.kimageVaddr() + 0x40;
                Translation t = dump.resolve(text);
                assertThat(t).isInstanceOf(Translation.Mapped.class);
                assertThat(((Translation.Mapped) t).pa()).isEqualTo(layout.imagePa() + 0x40);
                assertThat(dump.resolve(0x0000_1234_0000_0000L)).isEqualTo(new Translation.NotKernelAddress(0x0000_1234_0000_0000L));
                // ptdump sees everything but the 2 MiB that table maps, and says which table hid it.
                java.util.List<dev.granule.table.Ptdump.Unseen> unseen = new java.util.ArrayList<>();
                var ranges = dev.granule.table.Ptdump.ranges(dump.kernelWalker(), dump.kernelWalker().firstVa(),
                        dump.kernelWalker().lastVa(), unseen);
                long span = va & -(2L << 20);
                assertThat(unseen).containsExactly(new dev.granule.table.Ptdump.Unseen(span, span + (2L << 20) - 1, 3, table));
                long seen = ranges.stream().mapToLong(dev.granule.table.Ptdump.Range::size).sum();
                long all = built.space().walker().mappings().stream().mapToLong(Mapping::size).sum();
                assertThat(seen).isEqualTo(all - (2L << 20));
            }
        }
    }

    @Test
    void aMappedPageTheDumpLeftOutIsTranslatedAndSaysSo() throws IOException {
        Geometry g = Geometry.FOUR_K_48;
        KernelLayout layout = KernelLayout.virt(g, 256L << 20);
        KernelLayout.Built built = layout.build(true);
        try (SparseMemory ram = built.memory()) {
            Path file = write(layout, built, -1);
            // The last page of DRAM: mapped by the linear map, never written, so zero and left out.
            long pa = layout.dram().end() - PAGE + 8;
            assertThat(ram.readLong(pa)).isZero();
            long va = layout.linearVa(pa);
            try (KernelDump dump = KernelDump.open(file)) {
                Translation t = dump.resolve(va);
                assertThat(t).isInstanceOf(Translation.Mapped.class);
                Translation.Mapped m = (Translation.Mapped) t;
                assertThat(m.pa()).isEqualTo(pa);
                assertThat(m.targetInDump()).isFalse();
                assertThat(m.target()).isEqualTo(dev.granule.memory.PageState.EXCLUDED);
                assertThat(new TranslationText(g).append(new StringBuilder(), t, null).toString()).endsWith("  (page not in the dump)")
                        .startsWith(String.format("0x%016x  -> 0x%013x  4K PTE page at level 3", va, pa));
                assertThat(dump.memory().pageState(pa)).isEqualTo(dev.granule.memory.PageState.EXCLUDED);
            }
        }
    }
}
