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
    void bothPagesAreWellFormedAndSoIsEachSvgOnItsOwn() throws Exception {
        for (Page p : List.of(comparePage(), reproPage())) {
            parse(p.html());
            Matcher m = Pattern.compile("(?s)<svg .*?</svg>").matcher(p.html());
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
        for (Element chart : svgs) assertThat(withClass(chart, SVG, "rect", "bar")).hasSize(2);
    }

    @Test
    void eachUnsafeDesignHasASwimlaneWithTheSixLanesAndTheStaleAccessHighlighted() throws Exception {
        Document d = parse(comparePage().html());
        List<Element> timelines = withClass(byId(d, "timelines"), SVG, "svg", "timeline");
        assertThat(timelines).hasSize(1);
        Element t = timelines.get(0);
        assertThat(t.getAttribute("id")).isEqualTo("D0-timeline");
        assertThat(texts(withClass(t, SVG, "text", "lane"))).containsExactly("guest vCPU", "KVM", "QEMU", "vhost", "device", "memory");
        assertThat(List.of(Timeline.LANES)).containsExactly("guest vCPU", "KVM", "QEMU", "vhost", "device", "memory");
        Element bad = byId(d, "D0-violation");
        assertThat(bad.getAttribute("class")).isEqualTo("event bad");
        assertThat(withClass(t, SVG, "g", "bad")).containsExactly(bad);
        assertThat(all(bad, SVG, "circle")).hasSize(1);
        assertThat(all(bad, SVG, "title").get(0).getTextContent()).startsWith("step " + comparePage().violation().step() + ": vhost ");
        assertThat(texts(withClass(t, SVG, "text", "banner"))).containsExactly("VIOLATION: stale access — " + comparePage().violation().why());
        assertThat(withClass(t, SVG, "g", "caption").get(0).getTextContent().replaceAll("\\s+", " ")).contains("What was accessed:", "Through which translation:",
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
        assertThat(texts(withClass(t, SVG, "text", "banner"))).containsExactly("VIOLATION: stale access — the guest's TCE maps this IOVA to gpa 0x241200");
        assertThat(withClass(t, SVG, "g", "caption").get(0).getTextContent().replaceAll("\\s+", " ")).contains("vhost write vq0 iova 0x20200", "UPDATE at step 16",
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
        Document d = parse(Timeline.svg("t", ev, v));
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
        Document d = parse(Timeline.svg("t", ev, null));
        assertThat(withClass(d, SVG, "g", "chain")).isEmpty();
        assertThat(withClass(d, SVG, "g", "bad")).isEmpty();
        assertThat(texts(withClass(d, SVG, "text", "banner"))).containsExactly("No property broken in these events");
        assertThat(withClass(d, SVG, "g", "gap").stream().map(HtmlReportTest::words)).containsExactly("… 3 events …");
        assertThat(withClass(d, SVG, "path", "msg")).hasSize(1);
    }
}
