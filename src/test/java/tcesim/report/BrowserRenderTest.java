package tcesim.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntBinaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/**
 * Opens both HTML pages, the compare report and the repro timeline, in headless Chromium. The rendered DOM
 * (--dump-dom, with a probe script that records the laid-out size of every SVG and of the violating mark)
 * must hold the timelines, the bar charts, their marks and the highlighted violation, all with a size on
 * screen; each page's full-size screenshot is left in target/screenshots/ for people to look at and must
 * be a real picture: a PNG of some kilobytes, many colours, the violation's red among them.
 *
 * <p>Without Chromium, when running as root with apt-get, the test installs Debian's package first; if it
 * is still missing the test is skipped, or fails under -Dtcesim.browser=required. Every Chromium call has
 * a timeout, and its exit code and standard error are checked.
 */
class BrowserRenderTest {
    static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic");
    static final int CHROMIUM_SECONDS = 60;
    static final int INSTALL_SECONDS = 300;
    static final int RED = 0xd62728;
    static final int ORANGE = 0xf39c12;
    static final String PROBE = "<script>for (const e of document.querySelectorAll('svg, .event.bad')) {"
            + " const r = e.getBoundingClientRect(); e.setAttribute('data-box', Math.round(r.width) + 'x' + Math.round(r.height)); }"
            + " document.body.setAttribute('data-height', Math.ceil(document.body.getBoundingClientRect().bottom) + 24);</script>";

    static String chromium;
    static Path screenshots;

    /** A finished command: exit code, standard output and standard error. */
    record Run(int exit, String out, String err) {}

    @BeforeAll
    static void findChromium() throws Exception {
        chromium = installed();
        String why = "Chromium is not installed (apt-get install chromium)";
        if (chromium == null && isRoot() && new File("/usr/bin/apt-get").canExecute()) {
            Run r = install();
            chromium = installed();
            why = "Chromium could not be installed: apt-get exited with " + r.exit() + ":\n" + r.err();
        }
        if (chromium == null && "required".equals(System.getProperty("tcesim.browser"))) fail(why + " (and -Dtcesim.browser=required is set)");
        assumeTrue(chromium != null, why);
        screenshots = Path.of("target", "screenshots").toAbsolutePath();
        Files.createDirectories(screenshots);
    }

    static String installed() {
        for (String c : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) if (new File(c).canExecute()) return c;
        return null;
    }

    static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    static Run install() throws Exception {
        List<String> cmd = List.of("apt-get", "install", "-y", "--no-install-recommends", "chromium");
        Run r = run(cmd, INSTALL_SECONDS);
        if (r.exit() != 0) {
            run(List.of("apt-get", "update"), INSTALL_SECONDS);
            r = run(cmd, INSTALL_SECONDS);
        }
        return r;
    }

    /** Runs a command to its end, or kills it (and what it started) after {@code seconds}: then the exit code is -1. */
    static Run run(List<String> cmd, int seconds) throws Exception {
        Path out = Files.createTempFile("tcesim-run", ".out");
        Path err = Files.createTempFile("tcesim-run", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                return new Run(-1, Files.readString(out), "timed out after " + seconds + " s\n" + Files.readString(err));
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Chromium with the test's flags and a fresh profile; a non-zero exit fails the test with Chromium's stderr. */
    static Run chromium(String... args) throws Exception {
        Path profile = Files.createTempDirectory("tcesim-chromium-profile");
        try {
            List<String> cmd = new ArrayList<>(List.of(chromium));
            cmd.addAll(FLAGS);
            cmd.add("--user-data-dir=" + profile);
            cmd.addAll(List.of(args));
            Run r = run(cmd, CHROMIUM_SECONDS);
            if (r.exit() != 0) fail("Chromium exited with " + r.exit() + ": " + String.join(" ", cmd) + "\nstderr:\n" + r.err());
            return r;
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** What Chromium made of a page: its DOM's SVGs, each parsed on its own, and the screenshot. */
    record Rendered(List<Element> svgs, BufferedImage picture) {
        List<Element> withClass(String tag, String cls) {
            return svgs.stream().flatMap(s -> HtmlReportTest.withClass(s, HtmlReportTest.SVG, tag, cls).stream()).toList();
        }
    }

    static int[] box(Element e) {
        String[] wh = e.getAttribute("data-box").split("x");
        assertThat(wh).as("laid-out size of <%s id=%s>", e.getTagName(), e.getAttribute("id")).hasSize(2);
        return new int[] {Integer.parseInt(wh[0]), Integer.parseInt(wh[1])};
    }

    /** The SVGs' declared widths or heights in {@code html}, folded with {@code op} (their maximum, their sum). */
    static int svgSizes(String html, String attribute, IntBinaryOperator op) {
        Matcher m = Pattern.compile("<svg [^>]*" + attribute + "=\"(\\d+)\"").matcher(html);
        int r = 0;
        while (m.find()) r = op.applyAsInt(r, Integer.parseInt(m.group(1)));
        return r;
    }

    /**
     * Loads {@code html} with the probe script in one Chromium run that dumps the DOM and screenshots a window
     * as wide as the widest SVG and, by a generous guess, taller than the page; the picture is then cut to the
     * page's height (a page taller than the guess is shot again) and left in target/screenshots/NAME.png.
     */
    static Rendered render(String name, String html) throws Exception {
        Files.writeString(screenshots.resolve(name + ".html"), html, StandardCharsets.UTF_8);
        Path probed = screenshots.resolve(name + "-probe.html");
        Files.writeString(probed, html.replace("</body>", PROBE + "</body>"), StandardCharsets.UTF_8);
        Path png = screenshots.resolve(name + ".png");
        Files.deleteIfExists(png);
        int w = Math.min(4000, Math.max(1280, svgSizes(html, "width", Math::max) + 80));
        int guess = Math.min(8000, svgSizes(html, "height", Integer::sum) + 1200);
        String dom;
        int height;
        try {
            dom = chromium("--hide-scrollbars", "--window-size=" + w + "," + guess, "--screenshot=" + png, "--dump-dom", probed.toUri().toString()).out();
            Matcher h = Pattern.compile("<body data-height=\"(\\d+)\"").matcher(dom);
            assertThat(h.find()).as("the probe ran; DOM:\n%s", dom.length() > 2000 ? dom.substring(0, 2000) : dom).isTrue();
            height = Math.min(8000, Integer.parseInt(h.group(1)));
            if (height > guess) chromium("--hide-scrollbars", "--window-size=" + w + "," + height, "--screenshot=" + png, probed.toUri().toString());
        } finally {
            Files.delete(probed);
        }
        List<Element> svgs = new ArrayList<>();
        Matcher m = Pattern.compile("(?s)<svg .*?</svg>").matcher(dom);
        while (m.find()) svgs.add(HtmlReportTest.parse(m.group()).getDocumentElement());
        return new Rendered(svgs, picture(png, w, height));
    }

    /** Checks Chromium's PNG (signature, size, width, many colours) and cuts it to the page's height. */
    static BufferedImage picture(Path png, int width, int height) throws Exception {
        assertThat(png).exists();
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes).as("PNG signature").startsWith(0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a);
        assertThat(bytes.length).as("PNG size").isGreaterThan(20_000);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(width);
        if (img.getHeight() > height) {
            img = img.getSubimage(0, 0, width, height);
            ImageIO.write(img, "png", png.toFile());
        }
        assertThat(colours(img).cardinality()).as("distinct colours in %s", png).isGreaterThan(64);
        return img;
    }

    static BitSet colours(BufferedImage img) {
        BitSet seen = new BitSet(1 << 24);
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) seen.set(img.getRGB(x, y) & 0xffffff);
        return seen;
    }

    static void assertTimelineRendered(Rendered r, String id) {
        Element timeline = r.svgs().stream().filter(s -> s.getAttribute("id").equals(id + "-timeline")).findFirst().orElseThrow();
        assertThat(box(timeline)[0]).isGreaterThan(800);
        assertThat(HtmlReportTest.texts(HtmlReportTest.withClass(timeline, HtmlReportTest.SVG, "text", "lane"))).containsExactly(Timeline.LANES);
        List<Element> marks = HtmlReportTest.withClass(timeline, HtmlReportTest.SVG, "g", "event");
        assertThat(marks).hasSizeGreaterThan(5);
        for (Element g : marks) {
            assertThat(HtmlReportTest.all(g, HtmlReportTest.SVG, "circle").size() + HtmlReportTest.all(g, HtmlReportTest.SVG, "rect").size()).isEqualTo(1);
        }
        List<Element> bad = HtmlReportTest.withClass(timeline, HtmlReportTest.SVG, "g", "bad");
        assertThat(bad).hasSize(1);
        assertThat(bad.get(0).getAttribute("id")).isEqualTo(id + "-violation");
        int[] size = box(bad.get(0));
        assertThat(size[0]).as("width of the violating mark").isGreaterThan(15);
        assertThat(size[1]).as("height of the violating mark").isGreaterThan(15);
        assertThat(HtmlReportTest.withClass(timeline, HtmlReportTest.SVG, "g", "chain")).isNotEmpty();
    }

    @Test
    void theCompareReportRendersItsChartsAndTimelines() throws Exception {
        Rendered r = render("compare", HtmlReportTest.comparePage().html());
        assertThat(r.svgs()).extracting(s -> s.getAttribute("id")).containsExactly("throughput-chart", "exits-chart", "D0-timeline");
        for (Element chart : r.svgs().subList(0, 2)) {
            assertThat(box(chart)[0]).isGreaterThan(300);
            assertThat(HtmlReportTest.withClass(chart, HtmlReportTest.SVG, "rect", "bar")).hasSize(2);
        }
        assertTimelineRendered(r, "D0");
        BitSet colours = colours(r.picture());
        assertThat(colours.get(RED)).as("the violation's red in the screenshot").isTrue();
        assertThat(colours.get(0x4c78a8)).as("the bars' blue in the screenshot").isTrue();
    }

    @Test
    void theReproTimelineRenders() throws Exception {
        Rendered r = render("repro", HtmlReportTest.reproPage().html());
        assertThat(r.svgs()).hasSize(1);
        assertTimelineRendered(r, "repro");
        assertThat(r.withClass("g", "gap")).isNotEmpty();
        BitSet colours = colours(r.picture());
        assertThat(colours.get(RED)).as("the violation's red in the screenshot").isTrue();
        assertThat(colours.get(ORANGE)).as("the causal chain's orange in the screenshot").isTrue();
    }

}
