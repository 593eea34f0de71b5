package dev.granule.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.granule.cli.BootCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

class CompatCommandTest {

    @TempDir
    Path dir;

    /** An AArch64 ET_DYN with two PT_LOADs at p_align {@code align}, laid out from the gABI (Elf64_Ehdr, Elf64_Phdr). */
    static byte[] library(long align) {
        ByteBuffer b = ByteBuffer.allocate(0x1000).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1}).position(16);
        b.putShort((short) 3).putShort((short) 183).putInt(1).putLong(0).putLong(64).putLong(0)
                .putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) 2).putShort((short) 0).putShort((short) 0).putShort((short) 0);
        b.putInt(1).putInt(5).putLong(0).putLong(0).putLong(0).putLong(0x800).putLong(0x800).putLong(align);
        b.putInt(1).putInt(6).putLong(0x800).putLong(align + 0x800).putLong(align + 0x800).putLong(0x100).putLong(0x100).putLong(align);
        return b.array();
    }

    @Test
    void aFourKLibraryFailsAt16KWithExitStatusOneAndTheFix() throws Exception {
        Path lib = dir.resolve("lib4k.so");
        Files.write(lib, library(0x1000));
        var r = run("compat", lib.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.out()).contains("4K ok 16K NO 64K NO  largest 4K").contains("fix: relink with -Wl,-z,max-page-size=65536");
        var at4k = run("compat", "--page-size", "4k", lib.toString());
        assertThat(at4k.exit()).isZero();
    }

    @Test
    void jsonAndSarifCarryTheVerdicts() throws Exception {
        Path lib = dir.resolve("lib16k.so");
        Files.write(lib, library(0x4000));
        var j = run("compat", "--json", lib.toString());
        assertThat(j.exit()).isEqualTo(1);
        JsonNode elf = new ObjectMapper().readTree(j.out()).get("inputs").get(0).get("elfs").get(0);
        assertThat(elf.get("largestPageSize").asLong()).isEqualTo(16384);
        assertThat(elf.get("verdicts").get(2).get("loads").asBoolean()).isFalse();
        var s = run("compat", "--sarif", "--page-size", "64k", lib.toString());
        JsonNode sarif = new ObjectMapper().readTree(s.out());
        assertThat(sarif.get("version").asText()).isEqualTo("2.1.0");
        JsonNode result = sarif.get("runs").get(0).get("results").get(0);
        assertThat(result.get("ruleId").asText()).isEqualTo("GRANULE-COMPAT-1");
        assertThat(result.get("level").asText()).isEqualTo("error");
        assertThat(result.get("locations").get(0).get("physicalLocation").get("artifactLocation").get("uri").asText()).startsWith("file:");
    }

    @Test
    void aBrokenInputIsOneLineExitTwoAndTheOthersAreStillReported() throws Exception {
        Path good = dir.resolve("good.so");
        Files.write(good, library(0x10000));
        Path bad = dir.resolve("bad.so");
        Files.write(bad, java.util.Arrays.copyOf(library(0x10000), 80));
        var r = run("compat", bad.toString(), good.toString(), dir.resolve("nothing").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().lines().toList()).hasSize(2).allMatch(l -> l.startsWith("granule: compat: "));
        assertThat(r.out()).contains("4K ok 16K ok 64K ok  largest 64K");
        assertThat(run("compat", "--page-size", "8k", good.toString()).exit()).isEqualTo(2);
    }

    @Test
    void ignoredLibrariesAreLeftOutOfTheReportAndOfTheExitStatusEvenInsideAJar() throws Exception {
        Path jar = dir.resolve("app.jar");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("native/Linux/aarch64/libx.so"));
            zip.write(library(0x10000));
            zip.putNextEntry(new java.util.zip.ZipEntry("native/Linux/android-aarch64/libx.so"));
            zip.write(library(0x1000));
        }
        var all = run("compat", "--page-size", "16k", jar.toString());
        assertThat(all.exit()).as(all.out()).isEqualTo(1);
        assertThat(all.out()).contains("!/native/Linux/android-aarch64/libx.so").contains("2 ELF files, 1 will not load at 16K");

        var linuxOnly = run("compat", "--page-size", "16k", "--ignore", "**/android-*/**", jar.toString());
        assertThat(linuxOnly.exit()).as(linuxOnly.out()).isZero();
        assertThat(linuxOnly.out()).doesNotContain("android-aarch64").contains("!/native/Linux/aarch64/libx.so")
                .contains("1 ELF files, 0 will not load at 16K").contains("1 ELF files left out by --ignore");

        // A glob that matches nothing changes nothing; one that is not a glob is a usage error in one line.
        assertThat(run("compat", "--page-size", "16k", "--ignore", "**/windows/**", jar.toString()).exit()).isEqualTo(1);
        var bad = run("compat", "--ignore", "[a", jar.toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err().lines().toList()).singleElement().asString().startsWith("granule: error: --ignore [a: not a glob");
    }
}
