package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C on a real JVM: the shutdown hook lets the command print its partial result and ends the JVM with the
 * command's code at once. (SIGTERM runs the same hooks as SIGINT and is what Process.destroy sends.)
 */
class InterruptTest {
    static Process start(Path dir, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String[] cmd = new String[args.length + 4];
        cmd[0] = java;
        cmd[1] = "-cp";
        cmd[2] = System.getProperty("java.class.path");
        cmd[3] = Main.class.getName();
        System.arraycopy(args, 0, cmd, 4, args.length);
        return new ProcessBuilder(cmd).redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile()).start();
    }

    /** Waits until the process's stderr contains {@code text}. */
    static void awaitErr(Path dir, Process p, String text) throws Exception {
        while (!Files.readString(dir.resolve("err"), StandardCharsets.UTF_8).contains(text)) {
            assertThat(p.isAlive()).as("still running").isTrue();
            Thread.sleep(50);
        }
    }

    @Test
    @Timeout(120)
    void anInterruptedCheckPrintsItsResultAndExitsThreeAtOnce(@TempDir Path dir) throws Exception {
        // A safe design on a configuration far too large to finish in seconds: no verdict can come before the interrupt.
        Process p = start(dir, "check", "--design", "D2", "--packets", "6");
        awaitErr(dir, p, "Progress:");
        long t0 = System.nanoTime();
        p.destroy();
        assertThat(p.waitFor(Interrupt.WAIT_MS + 5_000, TimeUnit.MILLISECONDS)).as("ended").isTrue();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(p.exitValue()).isEqualTo(3);
        assertThat(ms).as("no wait for a timeout after printing").isLessThan(Interrupt.WAIT_MS / 2);
        assertThat(Files.readString(dir.resolve("out"))).contains("Stopped: interrupted. No verdict yet.").contains("distinct states found");
    }

    @Test
    @Timeout(120)
    void anInterruptedCampaignPrintsTheReportOfTheSeedsRun(@TempDir Path dir) throws Exception {
        Process p = start(dir, "campaign", "--host", "no_vfio_tce", "--packets", "2000", "--seeds", "1..100000", "--workers", "1");
        awaitErr(dir, p, "1/100000 seeds done");
        p.destroy();
        assertThat(p.waitFor(Interrupt.WAIT_MS + 5_000, TimeUnit.MILLISECONDS)).as("ended").isTrue();
        assertThat(p.exitValue()).isEqualTo(3);
        assertThat(Files.readString(dir.resolve("out"))).containsPattern("Interrupted: [1-9][0-9]* of 100000 seeds run")
                .containsPattern("0 of [1-9][0-9]* seeds break a property");
    }
}
