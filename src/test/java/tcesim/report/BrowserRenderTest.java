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
 * Opens the HTML pages, the compare report, the repro timeline and the designs page, in headless Chromium. The rendered DOM
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
    /**
     * Run in the page after its own script: records the laid-out size of every SVG and of the violating mark; in every
     * SVG, each pair of texts whose boxes overlap (data-overlaps), each mark of a chart ({@code g.mark}) whose circle
     * overlaps another's or a text (data-mark-faults), and each arrow (a path with an arrowhead and the ids
     * of the marks it joins) whose arrowhead's tip is not on the edge of its mark, whose arrowhead covers a text, or
     * that points back in time, leftwards (data-arrow-faults); and the page's height.
     */
    static final String PROBE = """
            <script>
            (() => {
              const clean = s => String(s).replace(/[<>&"]/g, '?').replace(/\\s+/g, ' ').trim();
              for (const e of document.querySelectorAll('svg, .event.bad')) {
                const r = e.getBoundingClientRect();
                e.setAttribute('data-box', Math.round(r.width) + 'x' + Math.round(r.height));
              }
              const inside = (b, x, y) => x > b.left + 0.5 && x < b.right - 0.5 && y > b.top + 0.5 && y < b.bottom - 0.5;
              for (const svg of document.querySelectorAll('svg')) {
                const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim() !== '').map(t => ({t, b: t.getBoundingClientRect()}));
                const overlaps = [];
                for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
                  const a = texts[i].b, b = texts[j].b;
                  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                  if (w > 0.5 && h > 0.5) overlaps.push(clean(texts[i].t.textContent) + ' | ' + clean(texts[j].t.textContent));
                }
                svg.setAttribute('data-overlaps', overlaps.join(' ;; '));
                const faults = [];
                for (const p of svg.querySelectorAll('path[marker-end][data-to]')) {
                  const m = p.getScreenCTM(), len = p.getTotalLength();
                  const at = l => { const q = p.getPointAtLength(l); return new DOMPoint(q.x, q.y).matrixTransform(m); };
                  const end = at(len), back = at(Math.max(0, len - 1));
                  let dx = end.x - back.x, dy = end.y - back.y;
                  const d = Math.hypot(dx, dy);
                  dx /= d; dy /= d;
                  // the arrowhead: a marker 10 units long whose point 9 lies on the path's end, 0.7 px a unit per px of stroke
                  const u = 0.7 * parseFloat(p.getAttribute('stroke-width'));
                  const tip = {x: end.x + dx * u, y: end.y + dy * u}, base = {x: end.x - dx * 9 * u, y: end.y - dy * 9 * u};
                  const c1 = {x: base.x - dy * 5 * u, y: base.y + dx * 5 * u}, c2 = {x: base.x + dy * 5 * u, y: base.y - dx * 5 * u};
                  const name = clean(p.getAttribute('data-from') + ' to ' + p.getAttribute('data-to'));
                  const to = document.getElementById(p.getAttribute('data-to')), from = document.getElementById(p.getAttribute('data-from'));
                  if (!to || !from) { faults.push(name + ': a mark it joins is missing'); continue; }
                  const shape = g => g.querySelector('circle, rect').getBoundingClientRect();
                  const tb = shape(to), fb = shape(from);
                  const tc = {x: (tb.left + tb.right) / 2, y: (tb.top + tb.bottom) / 2}, fx = (fb.left + fb.right) / 2;
                  const dist = Math.hypot(tip.x - tc.x, tip.y - tc.y);
                  if (dist > tb.width / 2 + 2.5) faults.push(name + ': its arrowhead ends ' + dist.toFixed(1) + ' px from the centre of its mark, of radius ' + (tb.width / 2).toFixed(1));
                  if (fx >= tc.x) faults.push(name + ': it points back in time');
                  const pts = [tip, c1, c2, base, end, {x: (tip.x + c1.x + c2.x) / 3, y: (tip.y + c1.y + c2.y) / 3}];
                  for (const t of texts) if (pts.some(q => inside(t.b, q.x, q.y))) faults.push(name + ': its arrowhead lies on the text ' + clean(t.t.textContent));
                }
                svg.setAttribute('data-arrow-faults', faults.join(' ;; '));
                const marks = [...svg.querySelectorAll('g.mark circle')].map(c => ({c, b: c.getBoundingClientRect()}));
                const covered = [];
                const hit = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
                for (let i = 0; i < marks.length; i++) {
                  const name = clean(marks[i].c.parentNode.id);
                  for (let j = i + 1; j < marks.length; j++) if (hit(marks[i].b, marks[j].b)) covered.push(name + ' | ' + clean(marks[j].c.parentNode.id));
                  for (const t of texts) if (hit(marks[i].b, t.b)) covered.push(name + ' | ' + clean(t.t.textContent));
                }
                svg.setAttribute('data-mark-faults', covered.join(' ;; '));
              }
              document.body.setAttribute('data-height', Math.ceil(document.body.getBoundingClientRect().bottom) + 24);
            })();
            </script>""";

    /** The first screen a person sees: the window, and where each violating mark's circle and its lane names' right edge are in it. */
    static final String FIRST_SCREEN_PROBE = """
            <script>
            (() => {
              const out = [];
              for (const bad of document.querySelectorAll('.event.bad')) {
                const r = bad.querySelector('circle').getBoundingClientRect();
                const names = bad.closest('.strip').querySelector('.lane-names').getBoundingClientRect();
                out.push([bad.id, r.left, r.top, r.right, r.bottom, names.right].map(v => typeof v === 'number' ? v.toFixed(1) : v).join(','));
              }
              document.body.setAttribute('data-first-screen', innerWidth + 'x' + innerHeight + ';' + out.join(';'));
            })();
            </script>""";
    static final int SCREEN_W = 1400;
    static final int SCREEN_H = 900;

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
    record Rendered(List<Element> svgs, BufferedImage picture, String dom) {
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
        int w = Math.min(4000, Math.max(1280, svgSizes(html, "width", Math::max) + 200)); // the widest timeline and its lane names
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
        return new Rendered(svgs, picture(png, w, height), dom);
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
        Element names = r.svgs().get(r.svgs().indexOf(timeline) - 1);
        assertThat(names.getAttribute("class")).isEqualTo("lane-names");
        assertThat(HtmlReportTest.texts(HtmlReportTest.withClass(names, HtmlReportTest.SVG, "text", "lane"))).containsExactly(Timeline.LANES);
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
        assertThat(HtmlReportTest.withClass(timeline, HtmlReportTest.SVG, "path", "msg")).isNotEmpty();
    }

    /**
     * As Chromium laid the page out: in no SVG do two texts' boxes overlap; every arrow's head ends on the edge of the
     * mark it points to and covers no text, and it goes from left to right, from a step to the same or a later one.
     */
    static void assertReadable(Rendered r) {
        for (Element svg : r.svgs()) {
            String name = svg.getAttribute("id").isEmpty() ? svg.getAttribute("class") : svg.getAttribute("id");
            assertThat(svg.getAttribute("data-overlaps")).as("texts whose boxes overlap in %s", name).isEmpty();
            assertThat(svg.getAttribute("data-arrow-faults")).as("arrows in %s", name).isEmpty();
            List<Element> arrows = HtmlReportTest.all(svg, HtmlReportTest.SVG, "path").stream().filter(p -> p.hasAttribute("data-to")).toList();
            for (Element p : arrows) {
                long from = step(svg, p.getAttribute("data-from")), to = step(svg, p.getAttribute("data-to"));
                assertThat(from).as("the step of %s, the arrow to %s starts at", p.getAttribute("data-from"), p.getAttribute("data-to")).isLessThanOrEqualTo(to);
            }
        }
        assertThat(r.withClass("path", "msg")).as("arrows the probe looked at").allMatch(p -> p.hasAttribute("data-to"));
        assertThat(r.svgs()).as("SVGs the probe looked at").allMatch(s -> s.hasAttribute("data-overlaps") && s.hasAttribute("data-arrow-faults"));
    }

    /** The step of the mark with element id {@code id} in {@code svg}, from its tooltip ("step N: ..."). */
    static long step(Element svg, String id) {
        Element mark = HtmlReportTest.all(svg, HtmlReportTest.SVG, "g").stream().filter(g -> id.equals(g.getAttribute("id"))).findFirst()
                .orElseThrow(() -> new AssertionError("no mark " + id));
        Matcher m = Pattern.compile("step (\\d+):").matcher(HtmlReportTest.all(mark, HtmlReportTest.SVG, "title").get(0).getTextContent());
        assertThat(m.lookingAt()).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * Where a violating mark's circle is on the first screen, the right edge of its timeline's lane names, and the
     * viewport's height (headless Chromium may take some of the window for a toolbar it does not draw: the height
     * then checked is less than the window's, which is only stricter).
     */
    record OnScreen(String id, double left, double top, double right, double bottom, double namesRight, int viewportHeight) {}

    /**
     * Opens {@code html} as a person would, in a {@value #SCREEN_W} x {@value #SCREEN_H} window, and returns where each
     * violating mark is on that first screen; the screenshot is left in target/screenshots/NAME-first-screen.png.
     */
    static List<OnScreen> firstScreen(String name, String html) throws Exception {
        Path probed = screenshots.resolve(name + "-first-screen-probe.html");
        Files.writeString(probed, html.replace("</body>", FIRST_SCREEN_PROBE + "</body>"), StandardCharsets.UTF_8);
        Path png = screenshots.resolve(name + "-first-screen.png");
        Files.deleteIfExists(png);
        String dom;
        try {
            dom = chromium("--hide-scrollbars", "--window-size=" + SCREEN_W + "," + SCREEN_H, "--screenshot=" + png, "--dump-dom", probed.toUri().toString()).out();
        } finally {
            Files.delete(probed);
        }
        Matcher m = Pattern.compile("data-first-screen=\"([^\"]*)\"").matcher(dom);
        assertThat(m.find()).as("the first-screen probe ran").isTrue();
        String[] parts = m.group(1).split(";");
        String[] viewport = parts[0].split("x");
        assertThat(Integer.parseInt(viewport[0])).as("the viewport's width").isEqualTo(SCREEN_W);
        int height = Integer.parseInt(viewport[1]);
        assertThat(height).as("the viewport's height").isBetween(SCREEN_H / 2, SCREEN_H);
        List<OnScreen> out = new ArrayList<>();
        for (String part : List.of(parts).subList(1, parts.length)) {
            String[] f = part.split(",");
            out.add(new OnScreen(f[0], Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5]), height));
        }
        assertThat(ImageIO.read(png.toFile()).getWidth()).isEqualTo(SCREEN_W);
        return out;
    }

    /** The mark lies between its lane names and the window's right edge: not scrolled away, not under the names. */
    static void assertInViewHorizontally(OnScreen o) {
        assertThat(o.left()).as("left edge of %s on the first screen (its lane names end at %s)", o.id(), o.namesRight()).isGreaterThanOrEqualTo(o.namesRight());
        assertThat(o.right()).as("right edge of %s on the first screen", o.id()).isLessThanOrEqualTo(SCREEN_W);
    }

    @Test
    void theCompareReportRendersItsChartsAndTimelines() throws Exception {
        Rendered r = render("compare", HtmlReportTest.comparePage().html());
        assertThat(r.svgs()).extracting(s -> s.getAttribute("id")).containsExactly("throughput-chart", "exits-chart", "D0-head", "D0-legend", "", "D0-timeline");
        for (Element chart : r.svgs().subList(0, 2)) {
            assertThat(box(chart)[0]).isGreaterThan(300);
            assertThat(HtmlReportTest.withClass(chart, HtmlReportTest.SVG, "rect", "bar")).hasSize(2);
        }
        assertTimelineRendered(r, "D0");
        assertReadable(r);
        BitSet colours = colours(r.picture());
        assertThat(colours.get(RED)).as("the violation's red in the screenshot").isTrue();
        assertThat(colours.get(0x4c78a8)).as("the bars' blue in the screenshot").isTrue();
    }

    @Test
    void theDesignsPageDrawsItsFrontierWithNoLabelCoveringAnother() throws Exception {
        Rendered r = render("designs", HtmlReportTest.designsPage());
        assertThat(r.svgs()).extracting(s -> s.getAttribute("id")).containsExactly("throughput-frontier", "cpu-frontier", "latency-frontier");
        for (Element chart : r.svgs()) {
            assertThat(box(chart)[0]).isGreaterThan(800);
            List<Element> marks = HtmlReportTest.withClass(chart, HtmlReportTest.SVG, "g", "mark");
            assertThat(marks).hasSize(10);
            for (Element m : marks) assertThat(HtmlReportTest.all(m, HtmlReportTest.SVG, "circle")).hasSize(1);
            // every mark can be seen: its circle covers no other and no text, and no text covers it
            assertThat(chart.getAttribute("data-mark-faults")).as("marks covering another or a text in %s", chart.getAttribute("id")).isEmpty();
        }
        assertReadable(r);
        BitSet colours = colours(r.picture());
        assertThat(colours.get(RED)).as("the stale access's stripes in the screenshot").isTrue();
        assertThat(colours.get(0x4c78a8)).as("the safe blue in the screenshot").isTrue();
    }

    @Test
    void theReproTimelineRenders() throws Exception {
        Rendered r = render("repro", HtmlReportTest.reproPage().html());
        assertThat(r.svgs()).extracting(s -> s.getAttribute("class")).containsExactly("timeline-caption", "timeline-legend", "lane-names", "timeline");
        assertTimelineRendered(r, "repro");
        assertReadable(r);
        assertThat(r.withClass("g", "gap")).isNotEmpty();
        BitSet colours = colours(r.picture());
        assertThat(colours.get(RED)).as("the violation's red in the screenshot").isTrue();
        assertThat(colours.get(ORANGE)).as("the causal chain's orange in the screenshot").isTrue();
    }

    @Test
    void theD4TimelinesArrowsJoinOnlyCausesAndEffectsAndNoTextsOverlap() throws Exception {
        HtmlReportTest.Replayed d4 = HtmlReportTest.counterexample(tcesim.sim.Design.D4);
        Rendered r = render("d4", HtmlReport.repro("D4", d4.violation(), d4.events(), "./tcesim repro --design D4"));
        assertTimelineRendered(r, "repro");
        assertReadable(r);
    }

    @Test
    void theReproPageOpensWithTheViolationOnTheFirstScreen() throws Exception {
        List<OnScreen> marks = firstScreen("repro", HtmlReportTest.reproPage().html());
        assertThat(marks).extracting(OnScreen::id).containsExactly("repro-violation");
        OnScreen o = marks.get(0);
        assertInViewHorizontally(o);
        assertThat(o.top()).as("top of the violation on the first screen").isGreaterThanOrEqualTo(0);
        assertThat(o.bottom()).as("bottom of the violation on the first screen").isLessThanOrEqualTo(o.viewportHeight());
    }

    @Test
    void eachCounterexampleOfTheCompareReportOpensScrolledToItsViolation() throws Exception {
        List<OnScreen> marks = firstScreen("compare", HtmlReportTest.comparePage().html());
        assertThat(marks).extracting(OnScreen::id).containsExactly("D0-violation");
        // the page is long: a timeline further down is seen when scrolled to, already showing its violation
        marks.forEach(BrowserRenderTest::assertInViewHorizontally);
    }
}
