package tcesim.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import tcesim.cli.StackOptions;
import tcesim.explore.Checker;
import tcesim.sim.Chooser;
import tcesim.sim.CostModel;
import tcesim.sim.Design;
import tcesim.sim.Event;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * The HTML pages as documents: well-formed XHTML with every SVG well-formed on its own, the compare page's
 * sections (verdict x cost table, throughput and exits-per-packet bar charts, one swimlane per unsafe
 * design with the six lanes and the stale access highlighted, the cost table citing the user for an
 * override), and the repro page's causal chain, gap markers, arrows and caption.
 */
class HtmlReportTest {
    static final String SVG = "http://www.w3.org/2000/svg";
    /** The pages' HTML elements are in no namespace. */
    static final String HTML = null;

    /** A page and the violation it draws. */
    record Page(String html, Violation violation) {}

    private static Page comparePage;
    private static Page reproPage;

    /** The seed's crash (vhost's IOTLB raised to 32768 entries) drawn as {@code repro --html} draws it; drawn once per test run. */
    static synchronized Page reproPage() {
        if (reproPage == null) reproPage = drawRepro();
        return reproPage;
    }

    /** The compare page of {@link #drawCompare}; drawn once per test run. */
    static synchronized Page comparePage() {
        if (comparePage == null) comparePage = drawCompare();
        return comparePage;
    }

    private static Page drawRepro() {
        Stack st = new Stack(StackConfig.seed().toBuilder().maxIotlbEntries(32768).build(), new Trace());
        Violation v = Simulation.run(st, Chooser.seeded(1), 5_000_000).violation();
        return new Page(HtmlReport.repro("crash", v, HtmlReport.reproEvents(st.trace(), v), "./tcesim repro --seed 1"), v);
    }

    /**
     * A compare page as {@code compare --html} draws it, for D0 (unsafe: the checker's counterexample on the
     * small configuration, replayed) and D2 (safe), with exit.qemu overridden.
     */
    private static Page drawCompare() {
        StackConfig small = Design.D0.applyTo(StackOptions.small().toConfig());
        Checker.Result r = new Checker(() -> new Stack(small, Trace.off()), Checker.Options.defaults()).run();
        Stack st = new Stack(small, new Trace(1 << 16, 24));
        Simulation.run(st, Chooser.scripted(r.choices()), 10_000_000);
        List<Event> events = st.trace().recent().stream().filter(e -> e.step() > 0).toList();
        Violation v = st.oracles().first();
        CostModel model = CostModel.defaults().with("exit.qemu", 9000);
        CostSummary s = CostSummary.measure(StackConfig.seed().toBuilder().rxPackets(50).txPackets(50).build(), "TCP_STREAM", model);
        List<HtmlReport.Row> rows = List.of(new HtmlReport.Row("D0", "2019 & <today>", "unsafe", v.property().label(), s, s),
                new HtmlReport.Row("D2", "table kept in QEMU", "safe", null, s, s));
        String html = HtmlReport.compare(rows, model, List.of(new HtmlReport.Counterexample("D0", v, events, "./tcesim repro --choices 1")), "./tcesim compare");
        return new Page(html, v);
    }

    private static String designsPage;

    /**
     * A designs page as {@code designs --html} draws it, from figures made up for the layout (the command's own page is
     * tested with the command): seven guests; a class safe against every guest; three designs at one cost in a class
     * (their marks and labels must stack); two classes that break one property each and a class that breaks two; and
     * costs close enough that labels would cover each other on one line. Drawn once per test run.
     */
    static synchronized String designsPage() {
        if (designsPage != null) return designsPage;
        List<HtmlReport.Guest> guests = new ArrayList<>();
        for (String g : new String[] {"Linux", "no STUFF_TCE", "no IND", "no clear", "DDW", "takes RX back", "hostile"}) {
            guests.add(new HtmlReport.Guest(g, g, g.equals("hostile") ? "--hostile-guest --packets 1 --window-kib 32768" : "", "every property", "why " + g));
        }
        List<String> safe = List.of("safe", "safe", "safe", "safe", "safe", "safe", "safe");
        List<String> hostile = List.of("safe", "safe", "safe", "safe", "safe", "safe", "host memory overrun");
        List<String> noClear = List.of("safe", "safe", "safe", "stale access", "safe", "safe", "safe");
        List<String> most = List.of("stale access", "stale access", "stale access", "stale access", "safe", "stale access", "host memory overrun");
        List<HtmlReport.FrontierClass> classes = List.of(
                new HtmlReport.FrontierClass("safe against every guest", safe, List.of(row("D4+drop-late-update+tce-perm<x>", safe, 0.80, 1.31, 1.15))),
                new HtmlReport.FrontierClass("breaks hostile", hostile, List.of(row("D4+drop-late-update+tce-perm", hostile, 0.85, 1.28, 1.13),
                        row("D4+drop-late-update+single-miss+tce-perm", hostile, 0.85, 1.28, 1.13), row("D4k+drop-late-update+tce-perm", hostile, 0.85, 1.28, 1.13))),
                new HtmlReport.FrontierClass("breaks no clear", noClear, List.of(row("D2+tce-perm", noClear, 0.34, 2.32, 1.74), row("D3b+tce-perm", noClear, 0.55, 1.29, 1.19))),
                new HtmlReport.FrontierClass("breaks most", most, List.of(row("D0", most, 1, 1, 1), row("D3a", most, 1.17, 0.96, 1.0),
                        row("D0+single-miss", most, 1.26, 0.89, 1.0), row("D3a+single-miss", most, 1.24, 0.93, 1.0))));
        List<HtmlReport.DesignRow> rows = new ArrayList<>();
        classes.forEach(c -> rows.addAll(c.designs()));
        rows.add(new HtmlReport.DesignRow("D1", "kvm-table+stuff-exit+today+rw", most, 5, 0.48, 1.87, 1.40, "breaks most", false, List.of("not drawn")));
        designsPage = HtmlReport.designs(guests, rows, classes, "host powernv; relative to D0: 1.14 Gbit/s", CostModel.defaults(), "./tcesim designs");
        return designsPage;
    }

    private static HtmlReport.DesignRow row(String design, List<String> verdicts, double throughput, double cpu, double latency) {
        return new HtmlReport.DesignRow(design, "kvm-table+link", verdicts, 1000, throughput, cpu, latency, "class", true, List.of("patch of " + design, "and more"));
    }

        static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    static List<Element> all(Node root, String ns, String tag) {
        NodeList l = root instanceof Document d ? d.getElementsByTagNameNS(ns, tag) : ((Element) root).getElementsByTagNameNS(ns, tag);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < l.getLength(); i++) out.add((Element) l.item(i));
        return out;
    }

    static List<Element> withClass(Node root, String ns, String tag, String cls) {
        return all(root, ns, tag).stream().filter(e -> List.of(e.getAttribute("class").split(" ")).contains(cls)).toList();
    }

    static Element byId(Document d, String id) {
        return all(d, "*", "*").stream().filter(e -> id.equals(e.getAttribute("id"))).findFirst().orElseThrow(() -> new AssertionError("no element with id " + id));
    }

    static List<String> texts(List<Element> es) {
        return es.stream().map(Element::getTextContent).toList();
    }

    /** The text of an SVG group, its text elements joined by spaces. */
    static String words(Element g) {
        return String.join(" ", texts(all(g, SVG, "text")));
    }

    /** "step N ACTION" from an event mark's tooltip ("step N: ACTOR ACTION: DETAIL"). */
    static String stepAndAction(Element mark) {
        Matcher m = Pattern.compile("step (\\d+): \\S+ (\\S+):").matcher(all(mark, SVG, "title").get(0).getTextContent());
        assertThat(m.lookingAt()).isTrue();
        return "step " + m.group(1) + " " + m.group(2);
    }

    @Test
    void everyPageIsWellFormedAndSoIsEachSvgOnItsOwn() throws Exception {
        for (String html : List.of(comparePage().html(), reproPage().html(), designsPage())) {
            parse(html);
            Matcher m = Pattern.compile("(?s)<svg .*?</svg>").matcher(html);
            int n = 0;
            while (m.find()) {
                assertThat(parse(m.group()).getDocumentElement().getNamespaceURI()).isEqualTo(SVG);
                n++;
            }
            assertThat(n).isPositive();
        }
    }

    @Test
    void theComparePageHasTheVerdictCostTableWithARowPerDesign() throws Exception {
        Document d = parse(comparePage().html());
        Element verdicts = byId(d, "verdicts");
        List<String> heads = texts(all(verdicts, HTML, "th"));
        assertThat(heads).contains("design", "verdict (exhaustive check)", "TCP_STREAM Gbit/s", "exits / packet", "CPU ns / packet (STREAM)");
        List<Element> rows = all(verdicts, HTML, "tr");
        assertThat(rows).hasSize(3);
        assertThat(texts(withClass(verdicts, HTML, "td", "unsafe"))).containsExactly("unsafe: stale access");
        assertThat(texts(withClass(verdicts, HTML, "td", "safe"))).containsExactly("safe");
        assertThat(comparePage().html()).contains("2019 &amp; &lt;today&gt;");
        for (String id : new String[] {"verdicts", "charts", "timelines", "costs"}) assertThat(byId(d, id).getTagName()).isEqualTo("section");
    }

    @Test
    void theComparePageHasTheThroughputAndExitsBarCharts() throws Exception {
        Document d = parse(comparePage().html());
        Element charts = byId(d, "charts");
        List<Element> svgs = all(charts, SVG, "svg");
        assertThat(svgs).extracting(e -> e.getAttribute("id")).containsExactly("throughput-chart", "exits-chart");
        assertThat(svgs.get(0).getTextContent()).contains("throughput");
        assertThat(svgs.get(1).getTextContent()).contains("Exits to QEMU per packet");
        String unsafe = "unsafe: " + comparePage().violation().property().label();
        for (Element chart : svgs) {
            List<Element> bars = withClass(chart, SVG, "rect", "bar");
            assertThat(bars).hasSize(2);
            // D0 broke a property: its bar is striped and says so; D2's is plain
            String id = chart.getAttribute("id").replace("-chart", "");
            assertThat(bars).extracting(b -> b.getAttribute("class"), b -> b.getAttribute("fill"))
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("bar unsafe", "url(#" + id + "-unsafe-0)"), org.assertj.core.groups.Tuple.tuple("bar", "#4c78a8"));
            assertThat(all(bars.get(0), SVG, "title").get(0).getTextContent()).isEqualTo("D0: " + unsafe);
            assertThat(all(chart, SVG, "pattern")).extracting(e -> e.getAttribute("id")).containsExactly(id + "-unsafe-0");
            assertThat(texts(all(withClass(chart, SVG, "g", "chart-legend").get(0), SVG, "text"))).containsExactly("safe", unsafe);
        }
    }

    @Test
    void eachPropertyBrokenHasItsOwnStripesAndLegendEntry() throws Exception {
        Element chart = parse(HtmlReport.bars("t", "title", new String[] {"A", "B", "C", "D"}, new double[] {1, 2, 3, 4}, "%.1f",
                new String[] {null, "stale access", "stall", "stale access"})).getDocumentElement();
        assertThat(withClass(chart, SVG, "rect", "bar")).extracting(b -> b.getAttribute("fill"))
                .containsExactly("#4c78a8", "url(#t-unsafe-0)", "url(#t-unsafe-1)", "url(#t-unsafe-0)");
        assertThat(withClass(chart, SVG, "rect", "unsafe")).hasSize(3);
        assertThat(texts(all(withClass(chart, SVG, "g", "chart-legend").get(0), SVG, "text"))).containsExactly("safe", "unsafe: stale access", "unsafe: stall");
        List<Element> patterns = all(chart, SVG, "pattern");
        assertThat(patterns).hasSize(2);
        assertThat(all(patterns.get(0), SVG, "rect").get(1).getAttribute("fill")).isNotEqualTo(all(patterns.get(1), SVG, "rect").get(1).getAttribute("fill"));
        Element none = parse(HtmlReport.bars("t", "title", new String[] {"A"}, new double[] {1}, "%.1f", new String[] {null})).getDocumentElement();
        assertThat(withClass(none, SVG, "rect", "unsafe")).isEmpty();
        assertThat(texts(all(withClass(none, SVG, "g", "chart-legend").get(0), SVG, "text"))).containsExactly("safe");
    }

    @Test
    void theDesignsPageDrawsEachDesignOnTheFrontierOnceInEachChartInItsClassRow() throws Exception {
        Document d = parse(designsPage());
        List<Element> charts = all(byId(d, "frontier"), SVG, "svg");
        assertThat(charts).extracting(e -> e.getAttribute("id")).containsExactly("throughput-frontier", "cpu-frontier", "latency-frontier");
        for (Element chart : charts) {
            String id = chart.getAttribute("id").replace("-frontier", "");
            List<Element> rows = withClass(chart, SVG, "g", "class-row");
            assertThat(rows).hasSize(4);
            assertThat(texts(withClass(rows.get(1), SVG, "text", "mark-label")))
                    .containsExactly("D4+drop-late-update+single-miss+tce-perm", "D4+drop-late-update+tce-perm", "D4k+drop-late-update+tce-perm");
            assertThat(texts(withClass(rows.get(0), SVG, "text", "mark-label"))).containsExactly("D4+drop-late-update+tce-perm<x>");
            assertThat(withClass(chart, SVG, "g", "mark")).hasSize(10);
            // a class safe against every guest is plain blue; the others are striped in their properties' colours
            assertThat(all(rows.get(0), SVG, "circle").get(0).getAttribute("fill")).isEqualTo("#4c78a8");
            assertThat(all(rows.get(3), SVG, "circle").get(0).getAttribute("fill")).isEqualTo("url(#" + id + "-class-3)");
            Element twoColours = all(chart, SVG, "pattern").stream().filter(p -> p.getAttribute("id").equals(id + "-class-3")).findFirst().orElseThrow();
            assertThat(all(twoColours, SVG, "rect")).hasSize(3);
            // the squares: one per guest and class, each saying the guest and the verdict
            List<Element> squares = withClass(rows.get(3), SVG, "rect", "verdict");
            assertThat(squares).hasSize(7);
            assertThat(all(squares.get(6), SVG, "title").get(0).getTextContent()).isEqualTo("hostile: host memory overrun");
            assertThat(squares.get(4).getAttribute("fill")).isEqualTo("#4c78a8");
            assertThat(texts(withClass(chart, SVG, "text", "guest"))).containsExactly("Linux", "no STUFF_TCE", "no IND", "no clear", "DDW", "takes RX back", "hostile");
            assertThat(texts(all(withClass(chart, SVG, "g", "chart-legend").get(0), SVG, "text")))
                    .containsExactly("safe", "unsafe: host memory overrun", "unsafe: stale access");
            assertThat(withClass(chart, SVG, "line", "d0")).hasSize(1);
        }
        // coincident marks stack: the three designs at one cost have one x and three y
        Element throughput = charts.get(0);
        List<Element> circles = all(withClass(throughput, SVG, "g", "class-row").get(1), SVG, "circle");
        assertThat(circles).extracting(c -> c.getAttribute("cx")).containsOnly(circles.get(0).getAttribute("cx"));
        assertThat(circles).extracting(c -> c.getAttribute("cy")).doesNotHaveDuplicates();
    }

    @Test
    void theDesignsPageHasTheGuestsTheTableAndThePatchesOfTheFrontier() throws Exception {
        Document d = parse(designsPage());
        List<Element> rows = all(byId(d, "designs"), HTML, "tr");
        assertThat(rows).hasSize(12);
        assertThat(texts(all(rows.get(0), HTML, "th"))).contains("design", "hostile", "takes RX back", "throughput (x D0)", "on the frontier");
        assertThat(withClass(byId(d, "designs"), HTML, "tr", "frontier")).hasSize(10);
        assertThat(texts(all(rows.get(11), HTML, "td"))).startsWith("D1").endsWith("0.48", "1.87", "1.40", "-");
        assertThat(all(byId(d, "guests"), HTML, "tr")).hasSize(8);
        List<String> patched = all(byId(d, "patches"), HTML, "h3").stream().map(e -> e.getAttribute("id")).toList();
        assertThat(patched).hasSize(10).contains("patch-D4+drop-late-update+tce-perm", "patch-D0").doesNotContain("patch-D1");
        assertThat(designsPage()).contains("patch of D4+drop-late-update+tce-perm&lt;x&gt;");
        for (String id : new String[] {"frontier", "guests", "designs", "patches", "costs"}) assertThat(byId(d, id).getTagName()).isEqualTo("section");
    }

    @Test
    void eachUnsafeDesignHasASwimlaneWithTheSixLanesAndTheStaleAccessHighlighted() throws Exception {
        Document d = parse(comparePage().html());
        List<Element> timelines = withClass(byId(d, "timelines"), SVG, "svg", "timeline");
        assertThat(timelines).hasSize(1);
        Element t = timelines.get(0);
        assertThat(t.getAttribute("id")).isEqualTo("D0-timeline");
        Element box = byId(d, "D0-box");
        assertThat(texts(withClass(box, SVG, "text", "lane"))).containsExactly("guest vCPU", "KVM", "QEMU", "vhost", "device", "memory");
        assertThat(List.of(Timeline.LANES)).containsExactly("guest vCPU", "KVM", "QEMU", "vhost", "device", "memory");
        Element bad = byId(d, "D0-violation");
        assertThat(bad.getAttribute("class")).isEqualTo("event bad");
        assertThat(withClass(t, SVG, "g", "bad")).containsExactly(bad);
        assertThat(all(bad, SVG, "circle")).hasSize(1);
        assertThat(all(bad, SVG, "title").get(0).getTextContent()).startsWith("step " + comparePage().violation().step() + ": vhost ");
        assertThat(texts(withClass(box, SVG, "text", "banner"))).containsExactly("VIOLATION: stale access — " + comparePage().violation().why());
        assertThat(withClass(box, SVG, "g", "caption").get(0).getTextContent().replaceAll("\\s+", " ")).contains("What was accessed:", "Through which translation:",
                "What the guest's table held:", "installed by QEMU's UPDATE at step", "no INVALIDATE reached vhost");
        assertThat(withClass(t, SVG, "path", "msg")).isNotEmpty();
        assertThat(withClass(t, SVG, "path", "stale")).hasSize(1);
        assertThat(withClass(t, SVG, "g", "no-invalidate")).hasSize(1);
    }

    @Test
    void anOverriddenCostCitesTheUserNotTheDefaultsSource() throws Exception {
        Document d = parse(comparePage().html());
        List<Element> rows = all(byId(d, "costs"), HTML, "tr");
        Element exit = rows.stream().filter(r -> r.getTextContent().startsWith("exit.qemu")).findFirst().orElseThrow();
        assertThat(texts(all(exit, HTML, "td"))).containsExactly("exit.qemu", "9000", "ns per hypercall", "overridden by the user (default 8000)");
        assertThat(exit.getAttribute("class")).isEqualTo("overridden");
        assertThat(withClass(byId(d, "costs"), HTML, "tr", "overridden")).hasSize(1);
        assertThat(comparePage().html()).contains(Timeline.esc(CostModel.PARAMS.get("tce.kill").source())).doesNotContain(Timeline.esc(CostModel.PARAMS.get("exit.qemu").source()));
    }

    @Test
    void theReproPageHighlightsOnlyTheCausalChainAndMarksWhatItLeavesOut() throws Exception {
        Document d = parse(reproPage().html());
        Violation v = reproPage().violation();
        Element t = byId(d, "repro-timeline");
        Element bad = byId(d, "repro-violation");
        assertThat(stepAndAction(bad)).isEqualTo("step " + v.step() + " rx-copy");
        List<String> chain = withClass(t, SVG, "g", "chain").stream().map(HtmlReportTest::stepAndAction).toList();
        assertThat(chain).containsExactly("step 2 H_PUT_TCE", "step 4 iotlb-miss", "step 15 miss-read", "step 15 translate", "step 16 update",
                "step 622 H_STUFF_TCE", "step 33076 H_PUT_TCE");
        assertThat(withClass(t, SVG, "g", "gap").stream().map(HtmlReportTest::words)).contains("… 32,453 steps …", "… 604 steps …");
        assertThat(texts(withClass(t, SVG, "text", "axis"))).contains("39,311", "33,076", "2");
        Element box = byId(d, "repro-box");
        assertThat(texts(withClass(box, SVG, "text", "banner"))).containsExactly("VIOLATION: stale access — the guest's TCE maps this IOVA to gpa 0x241200");
        assertThat(withClass(box, SVG, "g", "caption").get(0).getTextContent().replaceAll("\\s+", " ")).contains("vhost write vq0 iova 0x20200", "UPDATE at step 16",
                "cleared at step 622 (H_STUFF_TCE, virtual mode)", "mapped again at step 33,076");
    }

    @Test
    void theViolatingEventIsFoundByItsStepNotByItsPlace() throws Exception {
        Violation v = new Violation(Violation.Property.CORRUPTION, 7, "vhost", "write vq0 iova 0x3000 len 64 -> hva 0x1 (gpa 0x5000)",
                "guest page 0x5000 is not mapped for DMA (free)", 0x3000, 0x5000);
        List<Event> ev = List.of(new Event(1, 2, "vcpu0", "H_PUT_TCE", "H_PUT_TCE(liobn=0x1, ioba=0x3000, tce=0x5000[RW]) = H_SUCCESS [real mode]", 0x3000, 0x5000),
                new Event(2, 5, "vhost", "rx-copy", "vq0: wrote packet to iova 0x3000 = gpa 0x5000 (IOTLB)", 0x3000, 0x5000),
                new Event(3, 7, "vhost", "rx-copy", "vq0: wrote packet to iova 0x3000 = gpa 0x5000 (IOTLB)", 0x3000, 0x5000),
                new Event(4, 8, "net", "rx-packet", "packet 2 arrives at the tap", -1, -1));
        Document d = parse(Timeline.html("t", ev, v));
        assertThat(stepAndAction(byId(d, "t-violation"))).isEqualTo("step 7 rx-copy");
        assertThat(Timeline.causalChain(ev, v)).containsExactly(ev.get(0), ev.get(2));
        assertThat(texts(withClass(d, SVG, "text", "banner"))).containsExactly("VIOLATION: corruption — guest page 0x5000 is not mapped for DMA (free)");
        assertThat(withClass(d, SVG, "g", "gap")).isEmpty();
    }

    @Test
    void withoutAViolationNothingIsHighlighted() throws Exception {
        List<Event> ev = List.of(new Event(1, 1, "net", "rx-packet", "packet 0 arrives at the tap", -1, -1),
                new Event(5, 2, "vhost", "iotlb-miss", "vq0: no translation for iova 0x3000: MISS queued, queue stalled", 0x3000, -1),
                new Event(6, 2, "qemu", "miss-read", "read MISS iova 0x3000 perm 2", 0x3000, -1));
        Document d = parse(Timeline.html("t", ev, null));
        assertThat(withClass(d, SVG, "g", "chain")).isEmpty();
        assertThat(withClass(d, SVG, "g", "bad")).isEmpty();
        assertThat(texts(withClass(d, SVG, "text", "banner"))).containsExactly("No property broken in these events");
        assertThat(withClass(d, SVG, "g", "gap").stream().map(HtmlReportTest::words)).containsExactly("… 3 events …");
        assertThat(withClass(d, SVG, "path", "msg")).hasSize(1);
    }

    /** A design's shortest counterexample on the small configuration, replayed with its events kept; the violation last. */
    record Replayed(List<Event> events, Violation violation) {}

    static Replayed counterexample(Design d) {
        StackConfig small = d.applyTo(StackOptions.small().toConfig());
        Checker.Result r = new Checker(() -> new Stack(small, Trace.off()), Checker.Options.defaults()).run();
        assertThat(r.verdict()).as("%s is unsafe on the small configuration", d).isEqualTo(Checker.Verdict.UNSAFE);
        Stack st = new Stack(small, new Trace(1 << 16, 24));
        Simulation.run(st, Chooser.scripted(r.choices()), 10_000_000);
        return new Replayed(st.trace().recent().stream().filter(e -> e.step() > 0).toList(), st.oracles().first());
    }

    /** A seeded run of a design on the small configuration with a few more packets: its events, violation or not. */
    static List<Event> seededRun(Design d) {
        StackConfig cfg = d.applyTo(StackOptions.small().toConfig()).toBuilder().rxPackets(6).txPackets(6).build();
        Stack st = new Stack(cfg, new Trace(1 << 16, 24));
        Simulation.run(st, Chooser.seeded(3), 1_000_000);
        return st.trace().recent();
    }

    private static final Pattern NPAGES = Pattern.compile("npages=(\\d+)");

    /** The IOVA pages an event reaches: a call its npages from its ioba, an INVALIDATE or UPDATE its size, anything else its own page. */
    static long[] pages(Event e) {
        long first = e.iova() >>> 12, n = 1;
        Matcher m = NPAGES.matcher(e.detail());
        Matcher size = Pattern.compile("size 0x([0-9a-f]+)").matcher(e.detail());
        if (e.actor().startsWith("vcpu") && m.find()) n = Long.parseLong(m.group(1));
        else if ((e.action().equals("invalidate") || e.action().equals("update")) && size.find()) n = (Long.parseLong(size.group(1), 16) + 0xfff) >>> 12;
        return new long[] {first, first + Math.max(1, n)};
    }

    /**
     * Every link joins two events of a common IOVA page, the earlier to the later: the later one drawn after it and in
     * the same step or a later one; a MISS and its read are of the same IOVA, and an INVALIDATE's cause is a vCPU's call.
     */
    static void assertCausal(Timeline.Ordered o, List<Timeline.Link> links) {
        List<Event> ev = o.events();
        for (Timeline.Link l : links) {
            long[] a = pages(l.from()), b = pages(l.to());
            assertThat(a[0] < b[1] && b[0] < a[1]).as("%s and %s reach a common IOVA page", l.from().format(), l.to().format()).isTrue();
            assertThat(ev.indexOf(l.from())).as("%s is drawn before %s", l.from().format(), l.to().format()).isLessThan(ev.indexOf(l.to()));
            assertThat(l.from().step()).as("%s is not later than %s", l.from().format(), l.to().format()).isLessThanOrEqualTo(l.to().step());
            switch (l.kind()) {
                case MISS_READ -> assertThat(l.from().iova()).isEqualTo(l.to().iova());
                case READ_UPDATE -> assertThat(l.to().action()).isEqualTo("update");
                case CALL_INVALIDATE -> assertThat(l.from().actor()).startsWith("vcpu");
            }
        }
    }

    private static Timeline.Link link(List<Timeline.Link> links, Event to) {
        return links.stream().filter(l -> l.to().equals(to)).findFirst().orElse(null);
    }

    @Test
    void inD4EachInvalidateFollowsTheCallItWasSentDuringAndIsLinkedToItAlone() {
        Replayed r = counterexample(Design.D4);
        Timeline.Ordered o = Timeline.displayOrder(r.events());
        List<Timeline.Link> links = Timeline.links(o);
        assertCausal(o, links);
        List<Event> invalidates = o.events().stream().filter(e -> e.action().equals("invalidate")).toList();
        assertThat(invalidates).isNotEmpty();
        for (Event inv : invalidates) {
            // KVM's INVALIDATE is traced before the call it was sent during (the call is traced when it returns): drawn right after it
            Event before = o.events().get(o.events().indexOf(inv) - 1);
            assertThat(before.step()).isEqualTo(inv.step());
            assertThat(before.action()).startsWith("H_");
            assertThat(link(links, inv)).as("the link into %s", inv.format()).isEqualTo(new Timeline.Link(before, inv, Timeline.LinkKind.CALL_INVALIDATE));
            assertThat(o.sentDuring()).containsEntry(inv, before);
        }
        // the two MISSes of 0x3000 are read in the order vhost queued them
        List<Timeline.Link> reads = links.stream().filter(l -> l.kind() == Timeline.LinkKind.MISS_READ).toList();
        assertThat(reads).extracting(l -> l.from().step() + "->" + l.to().step()).containsExactly("5->7", "6->10");
        String caption = String.join(" ", Timeline.caption(o, links, r.violation(), Timeline.chain(o, links, r.violation())).stream().map(p -> p[1]).toList());
        assertThat(caption).contains("in answer to vhost's MISS at step 6, which QEMU read at step 10",
                "cleared at step 11 (H_STUFF_TCE, virtual mode), and KVM sent vhost an INVALIDATE for it in the same step, before the UPDATE installed the old translation");
    }

    @Test
    void inD4kTheClearsInvalidateOfAnotherIovaIsLinkedToNothingAndTheCaptionSaysSo() {
        Replayed r = counterexample(Design.D4k);
        Timeline.Ordered o = Timeline.displayOrder(r.events());
        List<Timeline.Link> links = Timeline.links(o);
        assertCausal(o, links);
        Event clear = o.events().stream().filter(e -> e.action().equals("H_STUFF_TCE")).findFirst().orElseThrow();
        Event astray = o.events().stream().filter(e -> e.action().equals("invalidate") && e.step() == clear.step()).findFirst().orElseThrow();
        assertThat(astray.iova()).isNotEqualTo(clear.iova());
        assertThat(o.sentDuring()).containsEntry(astray, clear);
        // neither the clear it was sent during nor the earlier map of its IOVA (step 2) is its cause
        assertThat(link(links, astray)).isNull();
        assertThat(links).noneMatch(l -> l.from().equals(clear) && !l.to().equals(clear) && l.to().iova() != clear.iova());
        String caption = String.join(" ", Timeline.caption(o, links, r.violation(), Timeline.chain(o, links, r.violation())).stream().map(p -> p[1]).toList());
        assertThat(caption).contains(String.format("cleared at step %d (H_STUFF_TCE, virtual mode); the INVALIDATE KVM sent during it was for iova 0x%x, not this IOVA",
                clear.step(), astray.iova())).doesNotContain("followed by");
    }

    @Test
    void everyDesignsLinksJoinEventsOfOneIovaForwardInTime() {
        for (Design d : new Design[] {Design.D0, Design.D3a, Design.D4, Design.D4k}) {
            Timeline.Ordered o = Timeline.displayOrder(counterexample(d).events());
            assertCausal(o, Timeline.links(o));
        }
        for (Design d : new Design[] {Design.D1, Design.D2, Design.D3b, Design.D4}) {
            Timeline.Ordered o = Timeline.displayOrder(seededRun(d));
            List<Timeline.Link> links = Timeline.links(o);
            assertCausal(o, links);
            long invalidates = o.events().stream().filter(e -> e.action().equals("invalidate")).count();
            assertThat(invalidates).as("%s sends INVALIDATEs", d).isPositive();
            assertThat(links.stream().filter(l -> l.kind() == Timeline.LinkKind.CALL_INVALIDATE).count()).as("%s's INVALIDATEs linked to their calls", d)
                    .isEqualTo(invalidates);
        }
    }

    @Test
    void aLinkNeedsTheSameIovaAndGoesForward() {
        List<Event> ev = List.of(
                new Event(1, 5, "vhost", "iotlb-miss", "handle_rx: no translation for iova 0x3000: MISS queued", 0x3000, -1),
                new Event(2, 6, "vhost", "iotlb-miss", "handle_tx: no translation for iova 0x5000: MISS queued", 0x5000, -1),
                new Event(3, 7, "qemu", "miss-read", "read MISS iova 0x5000 perm 1", 0x5000, -1),
                new Event(4, 7, "qemu", "translate", "iova 0x5000 -> gpa 0x150000 (table now)", 0x5000, 0x150000),
                new Event(5, 8, "qemu", "update", "vhost UPDATE iova 0x5000 size 0x1000 -> gpa 0x150000 RW (rc 72)", 0x5000, 0x150000),
                new Event(6, 9, "vcpu0", "H_STUFF_TCE", "H_STUFF_TCE(liobn=0x80000000, ioba=0x3000, tce=0, npages=1) = H_SUCCESS [virtual mode]", 0x3000, -1),
                new Event(7, 10, "qemu", "invalidate", "IOMMU UNMAP -> vhost INVALIDATE iova 0x6000 size 0x1000 (rc 72)", 0x6000, -1),
                new Event(8, 11, "qemu", "invalidate", "IOMMU UNMAP -> vhost INVALIDATE iova 0x3000 size 0x1000 (rc 72)", 0x3000, -1),
                new Event(9, 12, "qemu", "miss-read", "read MISS iova 0x3000 perm 2", 0x3000, -1),
                new Event(10, 12, "qemu", "no-translation", "iova 0x3000 has no translation: nothing sent, the queue stays stalled", 0x3000, -1),
                new Event(11, 13, "qemu", "update", "vhost UPDATE iova 0x3000 size 0x1000 -> gpa 0x130000 RW (rc 72)", 0x3000, 0x130000),
                new Event(12, 14, "kvm", "invalidate", "KVM invalidates vhost's IOTLB for iova 0x4000 size 0x1000 (rc 72)", 0x4000, -1),
                new Event(13, 14, "vcpu0", "H_PUT_TCE", "H_PUT_TCE(liobn=0x80000000, ioba=0x3000, tce=0x140000[R-]) = H_SUCCESS [virtual mode]", 0x3000, 0x140000),
                new Event(14, 15, "kvm", "invalidate", "KVM invalidates vhost's IOTLB for iova 0x3000 size 0x1000 (rc 72)", 0x3000, -1),
                new Event(15, 15, "vcpu0", "H_PUT_TCE", "H_PUT_TCE(liobn=0x80000000, ioba=0x3000, tce=0x160000[RW]) = H_SUCCESS [virtual mode]", 0x3000, 0x160000));
        Timeline.Ordered o = Timeline.displayOrder(ev);
        List<Timeline.Link> links = Timeline.links(o);
        assertCausal(o, links);
        assertThat(links).extracting(l -> l.from().seq() + "->" + l.to().seq() + " " + l.kind()).containsExactly(
                "2->3 MISS_READ",          // the read of 0x5000 takes 0x5000's MISS, not the older one of 0x3000
                "3->5 READ_UPDATE",
                "6->8 CALL_INVALIDATE",    // QEMU's later INVALIDATE of 0x3000 (D3's eventfd) follows the clear of 0x3000; the one of 0x6000 nothing
                "1->9 MISS_READ",          // answered by nothing (no translation): the UPDATE of 0x3000 at step 13 is linked to no read
                "15->14 CALL_INVALIDATE"); // sent during the second H_PUT_TCE of step 15 and drawn after it; step 14's INVALIDATE of 0x4000 has no link
        assertThat(o.events()).extracting(Event::seq).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 13L, 12L, 15L, 14L);
    }

    /** The pages' timelines, and those of D4's and D4k's counterexamples, each as its own document. */
    static List<Document> timelines() throws Exception {
        List<Document> out = new ArrayList<>();
        for (Page p : List.of(comparePage(), reproPage())) out.add(parse(p.html()));
        for (Design d : new Design[] {Design.D4, Design.D4k, Design.D3a}) {
            Replayed r = counterexample(d);
            out.add(parse(Timeline.html(d.name(), r.events(), r.violation())));
        }
        return out;
    }

    /** Where a label's text is by the layout's own estimate of its width: left, top, width, height. */
    static double[] estimatedBox(Element text) {
        String cls = text.getAttribute("class");
        boolean bold = cls.equals("noinv") || List.of(((Element) text.getParentNode()).getAttribute("class").split(" ")).stream().anyMatch(c -> c.equals("chain") || c.equals("bad"));
        double w = Timeline.textWidth(text.getTextContent(), cls.equals("l1") ? 10.5 : 10, cls.equals("l2"), bold);
        double x = Double.parseDouble(text.getAttribute("x")), y = Double.parseDouble(text.getAttribute("y"));
        double left = switch (text.getAttribute("text-anchor")) {
            case "middle" -> x - w / 2;
            case "start" -> x;
            default -> x - w;
        };
        return new double[] {left, y - 10.5, w, 13};
    }

    static boolean overlap(double[] a, double[] b) {
        return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
    }

    @Test
    void noTwoLabelsOfATimelineOverlapByTheLayoutsOwnMeasure() throws Exception {
        for (Document d : timelines()) {
            for (Element t : withClass(d, SVG, "svg", "timeline")) {
                List<Element> labels = all(t, SVG, "text").stream().filter(e -> List.of("l1", "l2", "noinv").contains(e.getAttribute("class"))).toList();
                assertThat(labels).hasSizeGreaterThan(10);
                for (int i = 0; i < labels.size(); i++) {
                    for (int j = i + 1; j < labels.size(); j++) {
                        assertThat(overlap(estimatedBox(labels.get(i)), estimatedBox(labels.get(j)))).as("%s: \"%s\" and \"%s\" overlap", t.getAttribute("id"),
                                labels.get(i).getTextContent(), labels.get(j).getTextContent()).isFalse();
                    }
                }
            }
        }
    }

    private static final Pattern LAST_POINT = Pattern.compile("([-0-9.]+),([-0-9.]+)$");

    @Test
    void everyArrowEndsOnTheEdgeOfTheMarkItPointsToAndGoesRightwards() throws Exception {
        for (Document d : timelines()) {
            List<Element> arrows = all(d, SVG, "path").stream().filter(p -> p.hasAttribute("data-to")).toList();
            assertThat(arrows).isNotEmpty();
            for (Element p : arrows) {
                Element from = all(byId(d, p.getAttribute("data-from")), SVG, "circle").get(0);
                Element to = all(byId(d, p.getAttribute("data-to")), SVG, "circle").get(0);
                Matcher m = LAST_POINT.matcher(p.getAttribute("d"));
                assertThat(m.find()).isTrue();
                double ex = Double.parseDouble(m.group(1)), ey = Double.parseDouble(m.group(2));
                double cx = Double.parseDouble(to.getAttribute("cx")), cy = Double.parseDouble(to.getAttribute("cy")), r = Double.parseDouble(to.getAttribute("r"));
                assertThat(Math.hypot(ex - cx, ey - cy)).as("distance of %s's end from the centre of its mark", p.getAttribute("data-from") + "→" + p.getAttribute("data-to"))
                        .isBetween(r, r + 1.5);
                assertThat(Double.parseDouble(from.getAttribute("cx"))).as("x of %s, where the arrow to %s starts", p.getAttribute("data-from"), p.getAttribute("data-to"))
                        .isLessThan(cx);
            }
        }
    }

    /** The events' scroll box of a timeline: what the page's script opens it at. */
    static String focus(Document d) {
        return withClass(d, HTML, "div", "scroll").get(0).getAttribute("data-focus");
    }

    @Test
    void aBreakInsideAHypercallIsMarkedOnTheCallAndTheTimelineOpensThere() throws Exception {
        Violation v = new Violation(Violation.Property.HOST_MEMORY, 2, "kvm", "H_PUT_TCE_INDIRECT writes TCE table entry 0x40000, through stt->pages[32], past the array",
                "past its bound", 0x3ffff000L, -1);
        List<Event> ev = List.of(new Event(1, 1, "vcpu0", "H_PUT_TCE", "H_PUT_TCE(liobn=0x80000000, ioba=0x3000, tce=0x130000[RW]) = H_SUCCESS [virtual mode]", 0x3000, 0x130000),
                new Event(2, 2, "vcpu0", "H_PUT_TCE_INDIRECT", "H_PUT_TCE_INDIRECT(liobn=0x80000000, ioba=0x3ffff000, list=0x100000, npages=2) = H_SUCCESS [virtual mode]",
                        0x3ffff000L, -1),
                new Event(3, 2, "vcpu0", "rx-refill", "posted RX buffer 0x131000 at iova 0x3ffff000", 0x3ffff000L, 0x131000));
        Document d = parse(Timeline.html("t", ev, v));
        // KVM's handler broke the bound inside the vCPU's call, which the trace records as the vCPU's, in KVM's lane
        assertThat(stepAndAction(byId(d, "t-violation"))).isEqualTo("step 2 H_PUT_TCE_INDIRECT");
        assertThat(focus(d)).isEqualTo("t-violation");
    }

    @Test
    void aStallShowsInNoEventAndItsTimelineOpensAtTheEnd() throws Exception {
        Violation v = new Violation(Violation.Property.PROGRESS, 9, "-", "rx 0/5 delivered, tx 0/5 completed", "a virtqueue stopped on a MISS waits for an UPDATE that will never come", -1, -1);
        List<Event> ev = List.of(new Event(1, 8, "vhost", "iotlb-miss", "handle_rx: no translation for iova 0x3000: MISS queued", 0x3000, -1),
                new Event(2, 9, "qemu", "miss-read", "read MISS iova 0x3000 perm 2", 0x3000, -1),
                new Event(3, 9, "qemu", "no-translation", "iova 0x3000 has no translation: nothing sent, the queue stays stalled", 0x3000, -1));
        Document d = parse(Timeline.html("t", ev, v));
        assertThat(withClass(d, SVG, "g", "bad")).isEmpty();
        assertThat(focus(d)).isEqualTo("end");
        assertThat(focus(parse(Timeline.html("t", ev, null)))).isEmpty();
    }
}
