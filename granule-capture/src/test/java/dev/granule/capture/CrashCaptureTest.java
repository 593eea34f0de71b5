package dev.granule.capture;

import dev.granule.memory.MappedMemory;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The parts of the crash capture that run on the host without QEMU. */
class CrashCaptureTest {

    /** /proc/iomem as Linux prints it (kernel/resource.c: "%0*llx-%0*llx : %s", children indented by two spaces). */
    @Test
    void systemRamIsTheTopLevelSystemRamRangesOfProcIomem() {
        List<String> console = List.of("noise", "GRANULE-IOMEM-BEGIN",
                "09000000-09000fff : pl011@9000000",
                "40000000-67ffffff : System RAM",
                "4010000000-401fffffff : PCI ECAM",
                "80000000-8fffffff : System RAM",
                "GRANULE-IOMEM-END", "90000000-9fffffff : System RAM");
        List<MappedMemory.Segment> ram = CrashCapture.systemRam(console);
        assertThat(ram).extracting(MappedMemory.Segment::pa).containsExactly(0x40000000L, 0x80000000L);
        assertThat(ram).extracting(MappedMemory.Segment::memorySize).containsExactly(0x28000000L, 0x10000000L);
    }

    @Test
    void everyMakedumpfileFileHasItsOwnName() {
        List<String> names = CrashCapture.COMPRESSIONS.stream()
                .flatMap(c -> CrashCapture.DUMP_LEVELS.stream().map(d -> CrashCapture.kdumpName(c, d))).toList();
        assertThat(names).doesNotHaveDuplicates().hasSize(8).contains("vmcore-c-d31.kdump", "vmcore-z-d0.kdump");
        String script = CrashCapture.initScript(false);
        for (String n : names) assertThat(script).contains("/out/" + n);
        assertThat(script).contains("makedumpfile -F -c -d 31 /proc/vmcore > /out/" + CrashCapture.FLATTENED);
        assertThat(script).doesNotContain("/trixie/");
    }

    @Test
    void trixiesMakedumpfileWritesZstdFilesThroughItsOwnLoader() {
        String script = CrashCapture.initScript(true);
        for (int d : CrashCapture.ZSTD_LEVELS) {
            assertThat(script).contains("save " + CrashCapture.zstdName(d) + " /trixie/lib/ld-linux-aarch64.so.1 --library-path "
                    + "/trixie/lib /trixie/makedumpfile -z -d " + d + " /proc/vmcore /out/" + CrashCapture.zstdName(d));
        }
        assertThat(CrashCapture.zstdName(31)).isNotIn(CrashCapture.COMPRESSIONS.stream()
                .flatMap(c -> CrashCapture.DUMP_LEVELS.stream().map(d -> CrashCapture.kdumpName(c, d))).toList());
    }
}
