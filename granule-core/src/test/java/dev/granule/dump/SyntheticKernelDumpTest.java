package dev.granule.dump;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.memory.MappedMemory;
import dev.granule.memory.SparseMemory;
import dev.granule.table.KernelLayout;
import dev.granule.table.Mapping;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kernels with geometries no packaged kernel offers (16K/47, 64K/42, 64K/48, 64K/52 ...): tables
 * built with the engine's {@link KernelLayout}, written as an ELF core with a VMCOREINFO note as
 * the kernel would write it, and read back. The reader must give back every byte and every leaf,
 * and detect the geometry from the note, and without it from the tables alone.
 */
class SyntheticKernelDumpTest {

    @TempDir
    Path dir;

    static Stream<Geometry> geometries() {
        return Stream.of(Geometry.FOUR_K_39, Geometry.FOUR_K_48, Geometry.of(Granule.FOUR_K, 52, 52),
                Geometry.SIXTEEN_K_47, Geometry.SIXTEEN_K_48, Geometry.of(Granule.SIXTEEN_K, 52, 52),
                Geometry.SIXTY_FOUR_K_42, Geometry.SIXTY_FOUR_K_48, Geometry.SIXTY_FOUR_K_52);
    }

    static String vmcoreInfo(KernelLayout layout, long root) {
        return layout.vmcoreInfo(root);
    }

    record Written(Path file, KernelLayout layout, KernelLayout.Built built) {}

    private Written write(Geometry g, boolean note) throws IOException {
        KernelLayout layout = KernelLayout.virt(g, 512L << 20);
        KernelLayout.Built built = layout.build(false);
        Path file = dir.resolve("vmcore-" + g.pageSize() + "-" + g.vaBits() + ".elf");
        ElfCoreWriter.write(file, built.memory(), note
                ? List.of(ElfCoreWriter.Note.vmcoreInfo(vmcoreInfo(layout, built.space().root()))) : List.of());
        return new Written(file, layout, built);
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void writtenCoresReadBackByteForByteAndLeafForLeaf(Geometry g) throws IOException {
        Written w = write(g, true);
        try (SparseMemory memory = w.built().memory(); KernelDump dump = KernelDump.open(w.file())) {
            assertThat(dump.geometry()).isEqualTo(g);
            assertThat(dump.tables().rootPa()).isEqualTo(w.built().space().root());
            assertThat(dump.memory().ranges()).containsExactlyElementsOf(memory.ranges());
            MappedMemory read = dump.mappedMemory().orElseThrow();
            for (Map.Entry<Long, byte[]> chunk : memory.snapshot().chunks().entrySet()) {
                byte[] back = new byte[chunk.getValue().length];
                read.read(chunk.getKey(), back, 0, back.length);
                assertThat(back).as("chunk at %#x", chunk.getKey()).isEqualTo(chunk.getValue());
            }
            List<Mapping> expected = w.built().space().walker().mappings();
            assertThat(dump.kernelWalker().mappings()).containsExactlyElementsOf(expected);
            long textVa = w.layout().kimageVaddr() + 0x1234;
            assertThat(dump.translate(textVa).orElseThrow().translate(textVa)).isEqualTo(w.layout().imagePa() + 0x1234);
            long linear = w.layout().linearVa(0x4000_0000L + (300L << 20) + 8);
            assertThat(dump.translate(linear).orElseThrow().translate(linear)).isEqualTo(0x4000_0000L + (300L << 20) + 8);
        }
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void withoutVmcoreInfoTheCandidateSearchFindsTheGeometryFromTheRootAlone(Geometry g) throws IOException {
        Written w = write(g, false);
        long root = w.built().space().root();
        try (SparseMemory ignored = w.built().memory();
             KernelDump dump = KernelDump.open(w.file(), DumpOptions.defaults().withRoot(root))) {
            assertThat(dump.vmcoreInfoSource()).isEqualTo("none");
            GeometrySearch.Result r = dump.search().orElseThrow();
            assertThat(dump.geometry().granule()).as(describe(r)).isEqualTo(g.granule());
            assertThat(dump.geometry().vaBits()).as(describe(r)).isEqualTo(g.vaBits());
            // Every candidate of another page size fails, with a reason.
            assertThat(r.candidates()).filteredOn(c -> c.geometry() != null && c.geometry().granule() != g.granule())
                    .allSatisfy(c -> {
                        assertThat(c.valid()).as(c.geometry().label() + " " + c.reasons()).isFalse();
                        assertThat(c.reasons()).isNotEmpty();
                    });
        }
    }

    private static String describe(GeometrySearch.Result r) {
        StringBuilder b = new StringBuilder();
        for (var c : r.candidates()) {
            b.append('\n').append(c.valid() ? "valid   " : "invalid ").append(c.geometry() == null ? "-" : c.geometry().label())
                    .append(' ').append(c.reasons());
        }
        return b.toString();
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void aWrongExpectationRejectsTheOtherwiseChosenGeometry(Geometry g) throws IOException {
        Written w = write(g, false);
        long root = w.built().space().root();
        long textVa = w.layout().kimageVaddr();
        try (SparseMemory ignored = w.built().memory(); KernelDump dump = KernelDump.open(w.file(), new DumpOptions(-1,
                g.pageSize(), 0, root, -1, false, List.of(new GeometrySearch.Expectation(textVa, w.layout().imagePa()))))) {
            assertThat(dump.geometry()).isEqualTo(g);
        }
        var wrong = new DumpOptions(-1, g.pageSize(), 0, root, -1, false,
                List.of(new GeometrySearch.Expectation(textVa, w.layout().imagePa() + g.pageSize())));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KernelDump.open(w.file(), wrong).close())
                .isInstanceOf(VmcoreInfoException.class).hasMessageContaining("no candidate geometry validates");
    }

    @org.junit.jupiter.api.Test
    void anIncompleteVmcoreInfoGivesWayToTheRootOption() throws IOException {
        Geometry g = Geometry.SIXTEEN_K_47;
        KernelLayout layout = KernelLayout.virt(g, 512L << 20);
        KernelLayout.Built built = layout.build(false);
        long root = built.space().root();
        Path file = dir.resolve("incomplete.elf");
        String info = vmcoreInfo(layout, root).replaceAll("SYMBOL\\(swapper_pg_dir\\)=[0-9a-f]+\n", "");
        ElfCoreWriter.write(file, built.memory(), List.of(ElfCoreWriter.Note.vmcoreInfo(info)));
        built.memory().close();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KernelDump.open(file).close())
                .isInstanceOf(VmcoreInfoException.class).hasMessageContaining("SYMBOL(swapper_pg_dir)").hasMessageContaining("--root");
        try (KernelDump dump = KernelDump.open(file, DumpOptions.defaults().withRoot(root))) {
            assertThat(dump.geometry()).isEqualTo(g);
            assertThat(dump.warnings()).anyMatch(w -> w.contains("VMCOREINFO does not describe the tables"));
        }
    }

    /**
     * 64K tables for a 48-bit VA read alike as 64K/52 (the root page's other 960 entries are zero)
     * and the synthetic kernel has no fixmap to tell them apart: the smaller VA is chosen and the
     * result says the choice was a tie-break.
     */
    @org.junit.jupiter.api.Test
    void geometriesThatReadTheTablesAlikeAreReportedAsAmbiguous() throws IOException {
        Written w = write(Geometry.SIXTY_FOUR_K_48, false);
        try (SparseMemory ignored = w.built().memory();
             KernelDump dump = KernelDump.open(w.file(), DumpOptions.defaults().withRoot(w.built().space().root()))) {
            GeometrySearch.Result r = dump.search().orElseThrow();
            assertThat(r.ambiguous()).isTrue();
            assertThat(r.candidates()).filteredOn(GeometrySearch.Candidate::valid)
                    .extracting(c -> c.geometry().vaBits()).containsExactlyInAnyOrder(48, 52);
            assertThat(dump.geometry().vaBits()).isEqualTo(48);
            assertThat(dump.warnings()).anyMatch(x -> x.contains("several geometries validate alike"));
        }
    }

    /** binutils' readelf reads what the writer wrote: the header, every PT_LOAD and the VMCOREINFO note. */
    @org.junit.jupiter.api.Test
    void readelfAcceptsTheWrittenCore() throws Exception {
        Written w = write(Geometry.SIXTEEN_K_47, true);
        w.built().memory().close();
        Process p;
        try {
            p = new ProcessBuilder("readelf", "-h", "-l", "-n", "-W", w.file().toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("readelf (binutils) is not installed: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("CORE (Core file)").contains("AArch64").doesNotContain("Warning").doesNotContain("Error");
        try (KernelDump dump = KernelDump.open(w.file())) {
            long loads = out.lines().filter(l -> l.trim().startsWith("LOAD")).count();
            assertThat(loads).isEqualTo(dump.elf().orElseThrow().segments().size());
            String note = dump.elf().orElseThrow().notes().getFirst().descText(1 << 16);
            assertThat(out).contains(String.format("VMCOREINFO           0x%08x", note.length()));
        }
    }
}
