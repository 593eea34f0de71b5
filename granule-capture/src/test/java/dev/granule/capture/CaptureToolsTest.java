package dev.granule.capture;

import dev.granule.dump.VmcoreInfo;
import dev.granule.memory.MappedMemory;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pieces of the capture pipeline that do not need QEMU. */
class CaptureToolsTest {

    @Test
    void cpioNewcHeadersAreThirteenHexFieldsAndEverythingIsPaddedToFour() {
        byte[] a = new CpioWriter().file("init", 0755, "#!/bin/sh\n".getBytes(StandardCharsets.US_ASCII)).finish();
        String s = new String(a, StandardCharsets.US_ASCII);
        // magic, ino 1, mode 0100755 = 0x81ED, uid, gid, nlink 1, mtime, filesize 10, maj, min, rmaj, rmin, namesize 5, check
        assertThat(s).startsWith("070701" + "00000001" + "000081ED" + "00000000" + "00000000" + "00000001" + "00000000"
                + "0000000A" + "00000000" + "00000000" + "00000000" + "00000000" + "00000005" + "00000000" + "init\0");
        // 110-byte header + "init\0" = 115, padded to 116; data 10 bytes padded to 12: the trailer starts at 128.
        assertThat(s.substring(116, 126)).isEqualTo("#!/bin/sh\n");
        assertThat(s.substring(128, 134)).isEqualTo("070701");
        assertThat(s.substring(128 + 110, 128 + 110 + 11)).isEqualTo("TRAILER!!!\0");
        assertThat(a.length % 4).isZero();
    }

    @Test
    void qmpStringsAreQuotedAndUnescapedAsJson() {
        assertThat(QmpClient.quote("gva2gpa 0x1 \"x\" \\")).isEqualTo("\"gva2gpa 0x1 \\\"x\\\" \\\\\"");
        assertThat(QmpClient.quote("a\nb")).isEqualTo("\"a\\u000ab\"");
        assertThat(QmpClient.unescape("gpa: 0x40210000\\r\\n")).isEqualTo("gpa: 0x40210000\r\n");
        assertThat(QmpClient.unescape("\\u0041\\\"")).isEqualTo("A\"");
    }

    @Test
    void oracleLinesRoundTrip() {
        Probe p = new Probe("symbol:swapper_pg_dir", 0xffffa6b702058000L, 0x41858000L);
        assertThat(Probe.parse(p.toLine())).isEqualTo(p);
        Probe u = new Probe("random", 0xfff0_1234_5678_0000L, -1);
        assertThat(u.toLine()).endsWith("\tunmapped");
        assertThat(Probe.parse(u.toLine())).isEqualTo(u);
        assertThatThrownBy(() -> Probe.parse("just one field")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void packageVersionsCompareNumerically() {
        assertThat(DebianKernel.compareVersions("linux-image-6.1.0-9-arm64", "linux-image-6.1.0-56-arm64")).isNegative();
        assertThat(DebianKernel.compareVersions("linux-image-6.12.117+deb12", "linux-image-6.12.17+deb12")).isPositive();
        assertThat(DebianKernel.Flavour.ARM64.debPattern().matcher("linux-image-6.1.0-56-arm64-unsigned_6.1.192-2_arm64.deb").matches()).isTrue();
        assertThat(DebianKernel.Flavour.ARM64.debPattern().matcher("linux-image-6.1.0-56-cloud-arm64-unsigned_6.1.192-2_arm64.deb").matches()).isFalse();
        assertThat(DebianKernel.Flavour.ARM64.debPattern().matcher("linux-image-6.12.117+deb12-arm64-16k-unsigned_6.12.117-1~deb12u1_arm64.deb").matches()).isFalse();
        assertThat(DebianKernel.Flavour.ARM64_16K.debPattern().matcher("linux-image-6.12.117+deb12-arm64-16k-unsigned_6.12.117-1~deb12u1_arm64.deb").matches()).isTrue();
    }

    @Test
    void probesCoverEveryRegionTheKernelPublished() {
        VmcoreInfo info = VmcoreInfo.parse("""
                PAGESIZE=4096
                BUILD-ID=00
                SYMBOL(swapper_pg_dir)=ffff800081858000
                SYMBOL(_stext)=ffff800080010000
                SIZE(page)=64
                NUMBER(VA_BITS)=48
                NUMBER(VMEMMAP_START)=0xfffffc0000000000
                NUMBER(PHYS_OFFSET)=0x40000000
                NUMBER(TCR_EL1_T1SZ)=0x10
                """);
        List<String> console = List.of("noise", "GRANULE-KALLSYMS-BEGIN", "ffff800080010000 T _stext",
                "ffff800081000000 D _etext", "ffff800000001000 t fw_cfg_probe\t[qemu_fw_cfg]", "GRANULE-KALLSYMS-END",
                "GRANULE-VMALLOC-BEGIN\r", "0xffff800008000000-0xffff800008005000   20480 kernel_clone+0xa0/0x4b0 pages=4 vmalloc\r",
                "GRANULE-VMALLOC-END");
        Map<Long, String> probes = ProbeSet.choose(info, List.of(new MappedMemory.Segment(0x4000_0000L, 0, 1L << 30, 1L << 30)), console, 1);
        assertThat(probes).containsEntry(0xffff800081858000L, "symbol:swapper_pg_dir")
                .containsEntry(0xffff800000001000L, "kallsyms:fw_cfg_probe[qemu_fw_cfg]")
                .containsEntry(0xffff800008000000L, "vmalloc").containsEntry(0xffff800008004000L, "vmalloc-guard")
                // the last byte of RAM through the linear map: PAGE_OFFSET + (end - 8 - PHYS_OFFSET)
                .containsEntry(0xffff000000000000L + (1L << 30) - 8, "linear")
                // vmemmap of PA 0x40000000: VMEMMAP_START - (PHYS_OFFSET >> 12) * 64 + (0x40000000 >> 12) * 64
                .containsEntry(0xfffffc0000000000L, "vmemmap");
        assertThat(probes.values()).contains("text", "random");
    }
}
