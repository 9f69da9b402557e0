package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code ./tcesim} script: a build that fails is said to have failed, with an exit code no verdict has. */
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
}
