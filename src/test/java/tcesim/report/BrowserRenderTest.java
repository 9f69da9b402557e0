package tcesim.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Opens the HTML report in headless Chromium: the SVG elements must be in the rendered DOM, and a
 * screenshot is left in target/screenshots for people to look at. Without Chromium the test is skipped
 * locally; under CI (CI=true, as root) it installs Debian's chromium first, and fails if it cannot.
 */
class BrowserRenderTest {
    static final String[] FLAGS = {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"};

    static String chromium() throws Exception {
        for (String c : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) if (new File(c).canExecute()) return c;
        if ("true".equals(System.getenv("CI")) && "root".equals(System.getProperty("user.name")) && new File("/usr/bin/apt-get").canExecute()) {
            run(List.of("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"), 900);
            if (new File("/usr/bin/chromium").canExecute()) return "/usr/bin/chromium";
            throw new AssertionError("CI: could not install chromium");
        }
        return null;
    }

    static String run(List<String> cmd, int seconds) throws Exception {
        Path log = Files.createTempFile("tcesim-chromium", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectOutput(log.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        return Files.readString(log);
    }

    @Test
    void theReproTimelineRendersInChromium() throws Exception {
        String chromium = chromium();
        assumeTrue(chromium != null, "Chromium is not installed (apt-get install chromium)");
        Path dir = Path.of("target", "screenshots").toAbsolutePath();
        Files.createDirectories(dir);
        Path page = dir.resolve("repro.html");
        Files.writeString(page, HtmlReportTest.reproPage().html());
        Path profile = Files.createTempDirectory("tcesim-chromium-profile");
        List<String> base = new ArrayList<>(List.of(chromium));
        base.addAll(List.of(FLAGS));
        base.add("--user-data-dir=" + profile);

        List<String> dump = new ArrayList<>(base);
        dump.add("--dump-dom");
        dump.add(page.toUri().toString());
        String dom = run(dump, 120);
        assertThat(dom).contains("<svg").contains("class=\"event bad\"").contains("guest vCPU");

        Path png = dir.resolve("repro.png");
        Files.deleteIfExists(png);
        List<String> shot = new ArrayList<>(base);
        shot.add("--window-size=1600,700");
        shot.add("--screenshot=" + png);
        shot.add(page.toUri().toString());
        run(shot, 120);
        assertThat(png).exists();
        assertThat(Files.size(png)).isGreaterThan(10_000);
    }
}
