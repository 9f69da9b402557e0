package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tcesim.explore.Checker;
import tcesim.sim.Design;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/** {@code tcesim designs}: the combinations, the guests, the frontier, the page, and the README's blocks. */
class DesignsCommandTest {
    static final String REDUCED = "designs --only D3a,D4,D4+single-miss";

    /** A README block, which holds the output in a text fence. */
    static String fenced(String command) throws Exception {
        String b = ReadmeTest.block(command);
        assertThat(b).startsWith("```text\n").endsWith("```\n");
        return b.substring("```text\n".length(), b.length() - "```\n".length());
    }

    @Test
    void theCombinationsAreEveryBuildableOneButV() {
        // 2 tables x 7 clear paths, of which 7 pairs can be built; 4 vhost sides; 2 answers.
        assertThat(DesignsCommand.combinations()).hasSize(7 * 4 * 2).doesNotHaveDuplicates()
                .contains(Design.D0, Design.D1, Design.D2, Design.D3a, Design.D3b, Design.D4, Design.D4k).doesNotContain(Design.V);
        assertThat(DesignsCommand.combinations().get(0)).isSameAs(Design.D0);
    }

    @Test
    void theReducedRunIsTheReadmeBlockAndItsRowsAreTheFullTables() throws Exception {
        CliRun r = CliRun.of(REDUCED.split(" "));
        assertThat(r.exit()).isZero();
        assertThat(fenced(REDUCED)).isEqualTo(r.stdout());
        String full = fenced("designs");
        // Every design row of the reduced table is the full table's row for that design: same verdicts, states and costs.
        r.stdout().lines().filter(l -> l.matches("^D[0-9].*\\d\\.\\d\\dx$")).forEach(row -> assertThat(full).contains(row + "\n"));
        assertThat(r.stdout()).contains("D4+single-miss (kvm-table+link+single-miss+rw):").contains("drivers/vhost/vhost.c: vhost_iotlb_miss");
    }

    @Test
    void jsonHasTheVerdictsTheFrontierAndThePatchesAndTheHtmlPageIsWritten(@TempDir Path dir) throws Exception {
        Path page = dir.resolve("designs.html");
        CliRun r = CliRun.of("designs", "--only", "D4+single-miss", "--json", "--html", page.toString());
        assertThat(r.exit()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.stdout());
        assertThat(j.get("guests")).hasSize(DesignsCommand.Guest.values().length);
        assertThat(j.get("guests").get(6).get("guest").asText()).isEqualTo("hostile");
        assertThat(j.get("guests").get(6).get("checkFlags").asText()).isEqualTo("--hostile-guest --packets 1 --window-kib 32768");
        assertThat(j.get("guests").get(5).get("properties")).extracting(JsonNode::asText).containsExactly("stale_access", "corruption", "isolation", "host_memory");
        assertThat(j.get("designs")).hasSize(2); // D0 comes along: costs are relative to it
        JsonNode d = j.get("designs").get(1);
        assertThat(d.get("design").asText()).isEqualTo("D4+single-miss");
        assertThat(d.get("mechanisms").get("vhost").asText()).isEqualTo("single-miss");
        assertThat(d.get("verdicts").get("Linux (STUFF+IND)").asText()).isEqualTo("safe");
        // The revoked buffer's MISS is answered after the link's invalidation; the hostile guest's clear past the window reaches a 2019 KVM's pages.
        assertThat(d.get("verdicts").get("takes RX back").asText()).isEqualTo("stale_access");
        assertThat(d.get("verdicts").get("hostile").asText()).isEqualTo("host_memory");
        long sum = 0;
        for (JsonNode n : d.get("distinctStatesByGuest")) sum += n.asLong();
        assertThat(d.get("distinctStatesByGuest")).hasSize(DesignsCommand.Guest.values().length);
        assertThat(sum).isEqualTo(d.get("distinctStates").asLong());
        assertThat(j.get("designs").get(0).get("verdicts").get("Linux (STUFF+IND)").asText()).isEqualTo("stale_access");
        assertThat(j.get("designs").get(0).get("relativeToD0").get("throughput").asDouble()).isEqualTo(1.0);
        assertThat(j.get("frontier").get(0).get("designs").get(0).asText()).isEqualTo("D4+single-miss");
        assertThat(j.get("patches").get("D4+single-miss").get(0).asText()).contains("book3s_64_vio.c");

        // The page: well-formed, a chart per cost with a mark per design on the frontier, the table, the guests and the patches.
        javax.xml.parsers.DocumentBuilderFactory f = javax.xml.parsers.DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        org.w3c.dom.Document doc = f.newDocumentBuilder().parse(page.toFile());
        org.w3c.dom.NodeList svgs = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg");
        List<String> charts = new ArrayList<>();
        for (int i = 0; i < svgs.getLength(); i++) {
            org.w3c.dom.Element chart = (org.w3c.dom.Element) svgs.item(i);
            charts.add(chart.getAttribute("id"));
            List<String> labels = new ArrayList<>();
            int rows = 0;
            org.w3c.dom.NodeList texts = chart.getElementsByTagNameNS("http://www.w3.org/2000/svg", "text");
            for (int k = 0; k < texts.getLength(); k++) {
                if (((org.w3c.dom.Element) texts.item(k)).getAttribute("class").equals("mark-label")) labels.add(texts.item(k).getTextContent());
            }
            org.w3c.dom.NodeList gs = chart.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g");
            for (int k = 0; k < gs.getLength(); k++) if (((org.w3c.dom.Element) gs.item(k)).getAttribute("class").equals("class-row")) rows++;
            assertThat(labels).as(chart.getAttribute("id")).containsExactlyInAnyOrder("D4+single-miss", "D0");
            assertThat(rows).as("safety classes in %s", chart.getAttribute("id")).isEqualTo(2);
        }
        assertThat(charts).containsExactly("throughput-frontier", "cpu-frontier", "latency-frontier");
        String html = Files.readString(page);
        assertThat(html).contains("<td class=\"unsafe\">host memory overrun</td>").contains("id=\"patch-D4+single-miss\"").contains("drivers/vhost/vhost.c: vhost_iotlb_miss")
                .contains("--rx-revokes 1 --properties stale_access,corruption,isolation,host_memory");
    }

    /** Each guest's flags, given to check, make the configuration designs checks that guest on, and the properties it checks. */
    @Test
    void eachGuestsCheckFlagsMakeTheConfigurationAndPropertiesItIsCheckedFor() {
        StackConfig small = StackOptions.small().toConfig();
        Design d = Design.parse("D4+single-miss");
        for (DesignsCommand.Guest g : DesignsCommand.Guest.values()) {
            List<String> args = new ArrayList<>(List.of("--design", d.name()));
            if (!g.checkFlags(small).isEmpty()) args.addAll(List.of(g.checkFlags(small).split(" ")));
            CheckCommand cmd = new CheckCommand();
            new CommandLine(cmd).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args.toArray(String[]::new)); // as Main parses it
            StackConfig c = cmd.stack.toConfig();
            assertThat(c).as(g.label()).isEqualTo(g.config(small, d));
            Set<Violation.Property> checked = cmd.stack.matched("--properties") ? cmd.properties : c.defaultProperties();
            assertThat(checked).as(g.label()).isEqualTo(g.properties());
        }
    }

    static String verdict(StackConfig c, Set<Violation.Property> properties) {
        Checker.Result r = new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(2_000_000, 1, true, null, properties)).run();
        assertThat(r.verdict()).isNotEqualTo(Checker.Verdict.INCOMPLETE);
        return r.violation() == null ? "safe" : r.violation().property().label();
    }

    /**
     * The hostile guest is checked on a window that fills KVM's table page: on the small configuration's 16 entries a
     * 2019 KVM's write past the window stays in its page's slack and D0 is found safe; on designs' window, as on the
     * default 1 GiB one, it reaches past stt->pages[].
     */
    @Test
    void theHostileGuestIsCheckedOnAWindowWhereAnEntryPastItIsPastKvmsPages() {
        StackConfig small = StackOptions.small().toConfig();
        DesignsCommand.Guest g = DesignsCommand.Guest.HOSTILE;
        StackConfig c = g.config(small, Design.D0);
        assertThat(c.windowBytes() >> 12).isEqualTo(tcesim.papr.TceTable.CHUNK_ENTRIES);
        assertThat(verdict(c, g.properties())).isEqualTo("host memory overrun");
        assertThat(verdict(c.withWindow(1L << 30), g.properties())).isEqualTo("host memory overrun");
        assertThat(verdict(c.withWindow(small.windowBytes()), g.properties())).isEqualTo("safe");
        assertThat(verdict(g.config(small, Design.D2), g.properties())).as("QEMU checks every entry").isEqualTo("safe");
    }

    /**
     * The guest that takes a posted buffer back tells the vhost fixes apart: with single-miss alone, the link's
     * invalidation of the revoked buffer comes before the UPDATE answering vhost's MISS for it, which installs the old
     * translation; dropping that late UPDATE keeps it out, and QEMU's answer with the TCE's permission keeps vhost from
     * writing the stale descriptor's packet through the IOVA's next use, a read-only TX buffer.
     */
    @Test
    void theGuestThatTakesABufferBackNeedsTheLateUpdateDroppedAndTheTcesPermission() {
        StackConfig small = StackOptions.small().toConfig();
        DesignsCommand.Guest g = DesignsCommand.Guest.RX_BACK;
        assertThat(verdict(g.config(small, Design.parse("D4+single-miss+tce-perm")), g.properties())).isEqualTo("stale access");
        assertThat(verdict(g.config(small, Design.parse("D4+drop-late-update+single-miss")), g.properties())).isEqualTo("stale access");
        assertThat(verdict(g.config(small, Design.parse("D4+drop-late-update+single-miss+tce-perm")), g.properties())).isEqualTo("safe");
    }

    @Test
    void aCheckWithoutAVerdictEndsTheCommandWithoutOneNamingIt() {
        CliRun r = CliRun.of("designs", "--only", "D0", "--max-states", "50");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("no verdict: the check of D0 against the guest Linux (STUFF+IND) stopped (state limit of 50 reached); raise --max-states\n");
    }

    static tcesim.report.CostSummary cost(double gbps, double cpuNs, double transactionNs) {
        return new tcesim.report.CostSummary("x", "w", 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, gbps, cpuNs, 0, 0, transactionNs, null, java.util.Map.of(), 0, 0);
    }

    static DesignsCommand.Result result(String design, double gbps, double cpuNs, String... verdicts) {
        java.util.Map<String, String> v = new java.util.LinkedHashMap<>();
        java.util.Map<String, Long> states = new java.util.LinkedHashMap<>();
        for (int i = 0; i < verdicts.length; i++) {
            v.put("g" + i, verdicts[i]);
            states.put("g" + i, 1L);
        }
        return new DesignsCommand.Result(Design.parse(design), v, states, cost(gbps, cpuNs, 1000), cost(1, 1, 1000));
    }

    /**
     * The classes that keep the most guests come first, and of classes that keep as many the one with the fastest design;
     * in a class, a design another matches on every cost with fewer changed mechanisms is left out, one cheaper on a
     * cost and dearer on another stays.
     */
    @Test
    void theFrontierPutsTheClassesThatKeepMostGuestsFirstAndOfAsManyTheFastest() {
        var slowTwo = result("D2", 0.3, 10, "safe", "safe", "stale access");
        var fastTwo = result("D4+single-miss", 0.8, 10, "safe", "stale access", "safe");
        var dominated = result("D4+drop-late-update+single-miss", 0.8, 10, "safe", "stale access", "safe");
        var faster = result("D3a", 0.9, 12, "safe", "stale access", "safe");
        var three = result("D2+tce-perm", 0.1, 30, "safe", "safe", "safe");
        var f = DesignsCommand.frontier(List.of(slowTwo, fastTwo, dominated, faster, three));
        assertThat(f.keySet()).containsExactly(three.safetyClass(), fastTwo.safetyClass(), slowTwo.safetyClass());
        assertThat(f.get(fastTwo.safetyClass())).containsExactly(fastTwo, faster);
        assertThat(fastTwo.safetyClass()).isEqualTo("safe against g0, g2; breaks g1: stale access");
    }

    @Test
    void whatDesignsSetsItselfIsRefused() {
        CliRun r = CliRun.of("designs", "--design", "D4");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--design: designs sets it itself");
        CliRun v = CliRun.of("designs", "--only", "V");
        assertThat(v.exit()).isEqualTo(2);
        assertThat(v.err()).contains("V has no vhost to fix");
        assertThat(CliRun.of("designs", "--only", "D4+nope").err()).contains("unknown mechanism 'nope'");
        CliRun revokes = CliRun.of("designs", "--rx-revokes", "1");
        assertThat(revokes.exit()).isEqualTo(2);
        assertThat(revokes.err()).contains("--rx-revokes: designs sets it itself");
        assertThat(CliRun.of("designs", "--hostile-guest").err()).contains("--hostile-guest: designs sets it itself");
        CliRun html = CliRun.of("designs", "--html", System.getProperty("java.io.tmpdir"));
        assertThat(html.exit()).isEqualTo(2);
        assertThat(html.err()).contains("--html").contains("is a directory; give a file name");
    }
}
