package dev.granule.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The documented Maven gate on a sample project (src/test/resources/dev/granule/cli/compat-gate/pom.xml):
 * a nested {@code mvn verify} with snappy-java 1.1.10.8 as its dependency fails at 16K (its
 * Linux/android-aarch64 library has p_align 0x1000, FACTS.md), passes at 4K, and passes at 16K when the
 * Android builds are left out with {@code -Dgranule.ignore='**}{@code /android-*}{@code /**'}.
 */
class CompatMavenGateTest {

    @TempDir
    Path dir;

    record Result(int exit, String output) {}

    Result mvn(String pageSize, String... properties) throws IOException, InterruptedException {
        Path project = dir.resolve("sample-" + pageSize + "-" + properties.length);
        Files.createDirectories(project);
        try (var in = getClass().getResourceAsStream("compat-gate/pom.xml")) {
            Files.copy(in, project.resolve("pom.xml"));
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of("mvn", "-B", "-q", "verify", "-Dgranule.pageSize=" + pageSize,
                "-Dgranule.java=" + java, "-Dgranule.cp=" + System.getProperty("java.class.path")));
        cmd.addAll(List.of(properties));
        if (Boolean.getBoolean("granule.maven.offline")) cmd.add("-o");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(project.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            assumeTrue(false, "mvn is not on the PATH: " + e.getMessage());
            throw e;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        return new Result(p.exitValue(), out);
    }

    @Test
    void theSampleBuildFailsAt16KOnSnappysAndroidLibraryAndPassesAt4K() throws Exception {
        Result at16k = mvn("16k");
        assumeTrue(!at16k.output().contains("Could not resolve") && !at16k.output().contains("Could not transfer"),
                "Maven could not resolve the sample's plugins or snappy-java: " + at16k.output().lines().findFirst().orElse(""));
        assertThat(at16k.exit()).as(at16k.output()).isNotZero();
        assertThat(at16k.output()).contains("snappy-java-1.1.10.8.jar").contains("!/org/xerial/snappy/native/Linux/android-aarch64/libsnappyjava.so")
                .contains("16K NO").contains("Exit value: 1");
        Result at4k = mvn("4k");
        assertThat(at4k.exit()).as(at4k.output()).isZero();
        // A Linux-only project leaves the Android builds out: the same dependency passes at 16K.
        Result linuxOnly = mvn("16k", "-Dgranule.ignore=**/android-*/**");
        assertThat(linuxOnly.exit()).as(linuxOnly.output()).isZero();
    }
}
