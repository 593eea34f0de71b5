package dev.granule.compat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.granule.compat.Archives.entries;
import static org.assertj.core.api.Assertions.assertThat;

class ScannerTest {

    @TempDir
    Path dir;

    static final byte[] ALIGNED_64K = ElfBuilder.sharedObject(0x10000).build();
    static final byte[] ALIGNED_4K = ElfBuilder.sharedObject(0x1000).build();

    List<Finding> scan(ScanLimits limits, Path... paths) {
        List<Finding> out = new ArrayList<>();
        Scanner s = new Scanner(limits, out::add, n -> {});
        for (Path p : paths) s.scan(p);
        return out;
    }

    List<Finding> scan(Path... paths) {
        return scan(ScanLimits.DEFAULT, paths);
    }

    static List<String> elfNames(List<Finding> f) {
        return f.stream().filter(x -> x instanceof Finding.ElfFound).map(x -> ((Finding.ElfFound) x).report().path()).toList();
    }

    static List<String> broken(List<Finding> f) {
        return f.stream().filter(x -> x instanceof Finding.Broken).map(x -> ((Finding.Broken) x).path() + ": " + ((Finding.Broken) x).reason()).toList();
    }

    Path write(String name, byte[] data) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, data);
        return p;
    }

    @Test
    void nestedJarsAreReadInPlaceAndEachElfIsNamedThroughTheArchives() throws IOException {
        byte[] inner = Archives.zip(entries("lib/arm64-v8a/libfoo.so", ALIGNED_4K, "README", "text".getBytes()));
        Path outer = write("app.jar", Archives.zip(entries("META-INF/lib/inner.aar", inner, "native/libbar.so", ALIGNED_64K)));
        List<Finding> f = scan(outer);
        assertThat(elfNames(f)).containsExactlyInAnyOrder(outer + "!/META-INF/lib/inner.aar!/lib/arm64-v8a/libfoo.so", outer + "!/native/libbar.so");
        assertThat(broken(f)).isEmpty();
        assertThat(Files.list(dir).count()).as("nothing extracted to disk").isEqualTo(1);
    }

    @Test
    void debianPackagesAndCompressedTarsAreRead() throws IOException {
        byte[] data = Archives.tar(entries("./usr/lib/aarch64-linux-gnu/libx.so.1", ALIGNED_64K, "./usr/share/doc/x/copyright", "c".getBytes()));
        Path deb = write("x.deb", Archives.ar(entries("debian-binary", "2.0\n".getBytes(),
                "control.tar.xz", Archives.xz(Archives.tar(entries("./control", "Package: x\n".getBytes()))),
                "data.tar.xz", Archives.xz(data))));
        Path gz = write("x.tar.gz", Archives.gzip(data));
        Path zst = write("x.tar.zst", Archives.zstd(data));
        Path debZst = write("y.deb", Archives.ar(entries("debian-binary", "2.0\n".getBytes(), "data.tar.zst", Archives.zstd(data))));
        List<Finding> f = scan(deb, gz, zst, debZst);
        assertThat(broken(f)).isEmpty();
        assertThat(elfNames(f)).containsExactly(
                deb + "!/data.tar.xz!/usr/lib/aarch64-linux-gnu/libx.so.1",
                gz + "!/usr/lib/aarch64-linux-gnu/libx.so.1",
                zst + "!/usr/lib/aarch64-linux-gnu/libx.so.1",
                debZst + "!/data.tar.zst!/usr/lib/aarch64-linux-gnu/libx.so.1");
    }

    @Test
    void directoriesAreWalkedWithoutFollowingLinksOutOfTheTree() throws IOException {
        Path tree = dir.resolve("tree");
        write("tree/a/libok.so", ALIGNED_64K);
        write("tree/b/notes.txt", "hello".getBytes());
        Path outside = write("outside/libout.so", ALIGNED_4K);
        Files.createSymbolicLink(tree.resolve("b/link-out.so"), outside);
        Files.createSymbolicLink(tree.resolve("dirlink"), outside.getParent());
        List<Finding> f = scan(tree);
        assertThat(elfNames(f)).containsExactly(tree.resolve("a/libok.so").toString());
        assertThat(broken(f)).isEmpty();
    }

    @Test
    void aZipBombIsRefusedAfterRoughlyRatioTimesItsSize() throws IOException {
        byte[] zeros = new byte[64 << 20];
        zeros[0] = 0x7f; zeros[1] = 'E'; zeros[2] = 'L'; zeros[3] = 'F';   // looks like an ELF, so it must be read
        Path bomb = write("bomb.zip", Archives.zip(entries("big.so", zeros)));
        assertThat(Files.size(bomb)).isLessThan(1 << 20);
        List<Finding> f = scan(new ScanLimits(8, 512L << 20, 8L << 30, 100), bomb);
        assertThat(broken(f)).singleElement().asString().startsWith(bomb + "!/big.so: refused: decompresses to more than");
        assertThat(elfNames(f)).isEmpty();
    }

    @Test
    void deepNestingIsRefusedAtTheDepthBoundAndSiblingsAreStillScanned() throws IOException {
        byte[] z = Archives.zip(entries("libdeep.so", ALIGNED_64K));
        for (int i = 0; i < 12; i++) z = Archives.zip(entries("n" + i + ".zip", z));
        Path p = write("deep.zip", Archives.zip(entries("nest.zip", z, "libtop.so", ALIGNED_64K)));
        List<Finding> f = scan(p);
        assertThat(broken(f)).singleElement().asString().contains("archives nested deeper than 8 levels");
        assertThat(elfNames(f)).containsExactly(p + "!/libtop.so");
    }

    @Test
    void aBrokenMemberIsOneLineAndTheScanGoesOn() throws IOException {
        byte[] truncatedElf = java.util.Arrays.copyOf(ALIGNED_64K, 70);
        byte[] badGz = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3};
        Path p = write("mixed.jar", Archives.zip(entries("a.so", truncatedElf, "b.tar.gz", badGz, "c.so", ALIGNED_64K)));
        Path garbage = write("garbage.jar", "PK\u0003\u0004 not really a zip".getBytes());
        List<Finding> f = scan(p, garbage, dir.resolve("missing.so"));
        assertThat(elfNames(f)).containsExactly(p + "!/c.so");
        assertThat(broken(f)).hasSize(4);
        assertThat(broken(f).get(0)).isEqualTo(p + "!/a.so: ELF: program header table at e_phoff 0x40 (2 x 56 bytes) runs past the end of the file (0x46)");
        assertThat(broken(f)).allMatch(s -> !s.contains("\n"));
    }

    @Test
    void anApkWithMisalignedStoredLibrariesAndExtractNativeLibsFalseFailsAt16K() throws IOException {
        byte[] manifest = AxmlTest.manifest(false);
        var content = entries("AndroidManifest.xml", manifest, "classes.dex", "dex\n035".getBytes(), "lib/arm64-v8a/libok.so", ALIGNED_64K);
        // zipalign's classic -p: 4 KiB alignment for .so files, which is not 16 KiB alignment here (0x1000 past it).
        Path misaligned = write("misaligned.apk", Archives.zip(content, true, 4096));
        Path aligned = write("aligned.apk", Archives.zip(content, true, 16384));
        ElfReport bad = elfNames(scan(misaligned)).isEmpty() ? null : ((Finding.ElfFound) scan(misaligned).stream()
                .filter(x -> x instanceof Finding.ElfFound).findFirst().orElseThrow()).report();
        assertThat(bad).isNotNull();
        assertThat(bad.verdict(4096).orElseThrow().loads()).isTrue();
        assertThat(bad.verdict(16384).orElseThrow().problems()).singleElement().asString()
                .contains("stored uncompressed at APK offset 0x").contains("not a multiple of 16K").contains("android:extractNativeLibs=\"false\"");
        ElfReport good = ((Finding.ElfFound) scan(aligned).stream().filter(x -> x instanceof Finding.ElfFound).findFirst().orElseThrow()).report();
        assertThat(good.verdict(16384).orElseThrow().loads()).isTrue();
        long offset = Long.parseLong(good.verdict(65536).orElseThrow().problems().getFirst().replaceAll(".*offset 0x([0-9a-f]+),.*", "$1"), 16);
        assertThat(offset % 16384).isZero();
        assertThat(offset % 65536).as("64K is judged too: AArch64 has it, though Android does not").isNotZero();
        // With extractNativeLibs="true" the same misaligned APK loads: the library is extracted at install.
        Path extracted = write("extracted.apk", Archives.zip(entries("AndroidManifest.xml", AxmlTest.manifest(true),
                "classes.dex", "dex\n035".getBytes(), "lib/arm64-v8a/libok.so", ALIGNED_64K), true, 0));
        ElfReport ok = ((Finding.ElfFound) scan(extracted).stream().filter(x -> x instanceof Finding.ElfFound).findFirst().orElseThrow()).report();
        assertThat(ok.verdict(16384).orElseThrow().loads()).isTrue();
        assertThat(ok.verdict(16384).orElseThrow().warnings()).singleElement().asString().contains("extracted at install");
    }

    @Test
    void aLibraryInAnUnsupportedCompressionMethodIsReportedOtherMembersAreNot() throws IOException {
        byte[] zip = Archives.zip(entries("lib/x.so", ALIGNED_64K, "res/pic.png", "png".getBytes()), true, 0);
        // Method 97 (WavPack, APPNOTE 4.4.5), which commons-compress cannot read: in each local header
        // (offset 8) and each central directory header (offset 10).
        for (int i = 0; i + 4 <= zip.length; i++) {
            if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 3 && zip[i + 3] == 4) zip[i + 8] = 97;
            if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 1 && zip[i + 3] == 2) zip[i + 10] = 97;
        }
        Path p = write("wavpack.jar", zip);
        List<Finding> f = scan(p);
        assertThat(elfNames(f)).isEmpty();
        assertThat(broken(f)).singleElement().asString().startsWith(p + "!/lib/x.so: cannot read: ");
    }
}
