package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./tcesim} script: a build that fails is said to have failed, with an exit code no verdict has; the JVM
 * runs with the parallel collector unless the user named one, and with transparent huge pages where Linux offers them.
 */
class ScriptTest {
    @Test
    void aFailedFirstBuildSaysSoAndIsNotAVerdict(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/sh")) && Files.isExecutable(Path.of("/usr/bin/env")));
        // A copy of the script beside sources and no jar, and a Maven that fails as a broken build does.
        Path script = Files.copy(Path.of("tcesim"), dir.resolve("tcesim"));
        Files.createDirectories(dir.resolve("src/main"));
        Files.writeString(dir.resolve("pom.xml"), "<project/>");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path mvn = Files.writeString(bin.resolve("mvn"), "#!/bin/sh\necho '[ERROR] COMPILATION ERROR'\nexit 1\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder pb = new ProcessBuilder(script.toString(), "check", "--design", "D0");
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(70);
        assertThat(out).as("nothing on stdout").isEmpty();
        assertThat(err).startsWith("tcesim: building " + dir.resolve("target/tcesim.jar") + " (first use, or the sources changed; about half a minute)...\n")
                .contains("[ERROR] COMPILATION ERROR")
                .endsWith("tcesim: building " + dir.resolve("target/tcesim.jar") + " failed (Maven's output is above); nothing was run, this is no verdict\n");
    }

    @Test
    void runsTheParallelCollectorUnlessTheUserNamedOne(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/sh")) && Files.isExecutable(Path.of("/bin/bash")));
        // A copy of the script, its jar newer than its sources (so nothing is built) and a java that prints what it was given.
        Path script = Files.copy(Path.of("tcesim"), dir.resolve("tcesim"));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(dir.resolve("src/main"));
        Files.writeString(dir.resolve("pom.xml"), "<project/>");
        Path jar = Files.writeString(Files.createDirectories(dir.resolve("target")).resolve("tcesim.jar"), "");
        java.nio.file.attribute.FileTime later = java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000);
        Files.setLastModifiedTime(jar, later);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path java = Files.writeString(bin.resolve("java"), "#!/bin/sh\necho \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));

        // Huge pages are asked for where this machine's Linux offers them to a program that asks.
        String thp = hugePagesOffered() ? "-XX:+UseTransparentHugePages " : "";
        String rest = "-jar " + jar + " check --design D0\n";
        assertThat(run(script, bin, null, null)).isEqualTo("-XX:+UseParallelGC " + thp + rest);
        assertThat(run(script, bin, "JAVA_TOOL_OPTIONS", "-Xmx8g")).isEqualTo("-XX:+UseParallelGC " + thp + rest);
        assertThat(run(script, bin, "JAVA_TOOL_OPTIONS", "-Xmx8g -XX:+UseG1GC")).isEqualTo(thp + rest);
        assertThat(run(script, bin, "JDK_JAVA_OPTIONS", "-XX:+UseZGC")).isEqualTo(thp + rest);
    }

    /** Whether transparent huge pages are "always" or "madvise" here (the mode in brackets). */
    private static boolean hugePagesOffered() throws java.io.IOException {
        Path f = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        if (!Files.isReadable(f)) return false;
        String modes = Files.readString(f);
        return modes.contains("[always]") || modes.contains("[madvise]");
    }

    /** What the script gave java, with {@code var} set to {@code value} (none when null). */
    private static String run(Path script, Path bin, String var, String value) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(script.toString(), "check", "--design", "D0");
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        if (var != null) pb.environment().put(var, value);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.getErrorStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        return out;
    }
}
