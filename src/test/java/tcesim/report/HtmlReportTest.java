package tcesim.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import tcesim.sim.Chooser;
import tcesim.sim.CostModel;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

class HtmlReportTest {
    /** The report is well-formed XML (so any browser parses it the same way); returns the document. */
    static Document parse(String html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
    }

    static String reproPage() {
        StackConfig c = StackConfig.seed().toBuilder().maxIotlbEntries(32768).build();
        Stack st = new Stack(c, new Trace());
        Simulation.Result r = Simulation.run(st, Chooser.seeded(1), 5_000_000);
        List<tcesim.sim.Event> ev = st.trace().recent();
        return HtmlReport.repro("crash", r.violation(), ev.subList(ev.size() - 40, ev.size()), "./tcesim repro --seed 1");
    }

    @Test
    void theReproPageIsWellFormedAndHighlightsTheStaleAccess() throws Exception {
        String html = reproPage();
        Document d = parse(html);
        assertThat(d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength()).isEqualTo(1);
        assertThat(html).contains("class=\"event bad\"").contains("NO STALE ACCESS");
        for (String lane : Timeline.LANES) assertThat(html).contains(">" + lane + "</text>");
    }

    @Test
    void theComparePageHasEverySection() throws Exception {
        CostSummary s = CostSummary.measure(StackConfig.seed().toBuilder().rxPackets(50).txPackets(50).build(), "s", CostModel.defaults(), 1);
        Violation v = new Violation(Violation.Property.STALE_ACCESS, 3, "vhost", "read", "the guest's TCE is clear", 0x1000, 0x2000);
        String html = HtmlReport.compare(List.of(new HtmlReport.Row("D0", "2019 & <today>", "unsafe", "no stale access", s, s)), CostModel.defaults(),
                List.of(new HtmlReport.Counterexample("D0", v, List.of(new tcesim.sim.Event(1, 1, "vhost", "rx-copy", "x", 0x1000, 0x2000)), "replay")),
                "./tcesim compare");
        Document d = parse(html);
        for (String id : new String[] {"verdicts", "charts", "timelines", "costs"}) {
            boolean found = false;
            var sections = d.getElementsByTagName("section");
            for (int i = 0; i < sections.getLength(); i++) found |= id.equals(((org.w3c.dom.Element) sections.item(i)).getAttribute("id"));
            assertThat(found).as(id).isTrue();
        }
        assertThat(d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength()).isEqualTo(3);
        assertThat(html).contains("2019 &amp; &lt;today&gt;").contains("tce.kill").contains("Invalidate multiple TCEs at once");
    }
}
