package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareCommandTest {
    static final String[] SMALL = {"compare", "--designs", "D0,D2", "--packets", "300"};

    static CliRun compare(String... more) {
        String[] all = new String[SMALL.length + more.length];
        System.arraycopy(SMALL, 0, all, 0, SMALL.length);
        System.arraycopy(more, 0, all, SMALL.length, more.length);
        return CliRun.of(all);
    }

    @Test
    void theTableShowsVerdictsAndCosts() {
        CliRun r = compare();
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("D0     unsafe (stale access)").contains("D2     safe").contains("exits/pk");
    }

    @Test
    void jsonCarriesBothWorkloadsAndTheCosts() throws Exception {
        JsonNode n = new ObjectMapper().readTree(compare("--json").stdout());
        assertThat(n.get("designs")).hasSize(2);
        JsonNode d2 = n.get("designs").get(1);
        assertThat(d2.get("verdict").asText()).isEqualTo("safe");
        // D2 sends every TCE hypercall to QEMU: one map and one clear per packet each way (4 x 300), and one map for
        // each of the 256 RX buffers still posted when the run ends (the ring is refilled after each packet).
        assertThat(d2.get("tcpStream").get("hcallsQemu").asLong()).isEqualTo(4 * 300 + 256);
        assertThat(d2.get("tcpRr").get("packets").asLong()).isPositive();
        assertThat(n.get("costs").get("tce.kill").asDouble()).isEqualTo(6100);
        assertThat(n.get("host").asText()).isEqualTo("powernv");
        assertThat(n.get("hostKernel").asText()).as("the era the costs were computed on").isEqualTo("2019");
    }

    @Test
    void csvHasOneLinePerDesignAndWorkload() {
        String out = compare("--csv").stdout();
        assertThat(out.lines()).hasSize(1 + 4);
        assertThat(out).startsWith("design,verdict,property,workload,");
    }

    @Test
    void overridesFromFlagsAndFilesChangeTheResult(@TempDir Path dir) throws Exception {
        double base = nsPerPacket(compare("--json"));
        double flag = nsPerPacket(compare("--json", "--cost", "exit.qemu=80000"));
        Path f = dir.resolve("costs.properties");
        Files.writeString(f, "# slower exits\nexit.qemu = 80000\n");
        double file = nsPerPacket(compare("--json", "--costs", f.toString()));
        assertThat(flag).isGreaterThan(base);
        assertThat(file).isEqualTo(flag);
    }

    static double nsPerPacket(CliRun r) throws Exception {
        return new ObjectMapper().readTree(r.stdout()).get("designs").get(1).get("tcpStream").get("cpuNsPerPacket").asDouble();
    }

    @Test
    void htmlIsWritten(@TempDir Path dir) throws Exception {
        CliRun r = compare("--html", dir.toString());
        assertThat(r.exit()).isZero();
        String html = Files.readString(dir.resolve("report.html"));
        assertThat(html).contains("<svg").contains("id=\"timelines\"").contains("D0: stale access found");
    }

    @Test
    void badCostsAreUsageErrors(@TempDir Path dir) {
        for (String[] bad : new String[][] {{"--cost", "nope=1"}, {"--cost", "eventfd=fast"}, {"--cost", "eventfd=-5"},
                {"--costs", dir.resolve("missing").toString()}, {"--json", "--csv"}}) {
            CliRun r = compare(bad);
            assertThat(r.exit()).as(String.join(" ", bad)).isEqualTo(2);
            assertThat(r.err()).doesNotContain("Exception");
        }
    }

    @Test
    void aCostTooLargeForTheSumsIsRefused() {
        for (String v : new String[] {"1e308", "Infinity", "NaN", "1000000000001"}) {
            CliRun r = compare("--cost", "exit.qemu=" + v);
            assertThat(r.exit()).as(v).isEqualTo(2);
            assertThat(r.err()).as(v).contains("cost parameter 'exit.qemu' must be 0 to 1000000000000 ns (1000 s), got ").doesNotContain("Exception");
            assertThat(r.stdout()).as(v).isEmpty();
        }
    }

    @Test
    void optionsCompareCannotHonourAreRefusedByName() {
        String[][] refused = {{"--packet-bytes", "64", "fix the packet size"}, {"--ring-size", "16", "fix the rings"}, {"--design", "D4", "runs every design"}};
        for (String[] flag : refused) {
            CliRun r = compare(flag[0], flag[1]);
            assertThat(r.exit()).as(flag[0]).isEqualTo(2);
            assertThat(r.err()).as(flag[0]).contains(flag[0] + ": compare").contains(flag[2]).doesNotContain("Exception");
        }
    }

    @Test
    void theCounterexampleReplayLineReplaysTheCheckedConfiguration(@TempDir Path dir) throws Exception {
        assertThat(compare("--html", dir.toString()).exit()).isZero();
        String html = Files.readString(dir.resolve("report.html"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<p class=\"cmd\">\\./tcesim (repro --choices [^<]*)</p>").matcher(html);
        assertThat(m.find()).isTrue();
        String replay = m.group(1);
        assertThat(replay).contains(" --design D0" + StackOptions.argsOf(tcesim.sim.Design.D0.applyTo(StackOptions.small().toConfig())));
        CliRun r = CliRun.of(replay.split(" "));
        assertThat(r.exit()).as(replay).isEqualTo(1);
        assertThat(r.stdout()).contains("VIOLATION: stale access");
    }

    @Test
    void helpCostsListsEveryParameterWithItsSource() {
        CliRun r = CliRun.of("compare", "--help-costs");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("tce.kill").contains("iotlb.miss").contains("estimate:");
    }

    /** The verdict column is checked on the eras and the guest the command line names, not on the seed's whatever it says. */
    @Test
    void theVerdictsFollowTheQemuReleaseAndAHazardIsRefused() throws Exception {
        JsonNode n = new ObjectMapper().readTree(CliRun.of("compare", "--designs", "D2", "--packets", "20", "--qemu", "5.2", "--json").stdout());
        assertThat(n.get("qemu").asText()).isEqualTo("5.2");
        assertThat(n.get("designs").get(0).get("verdict").asText()).as("QEMU 5.2's vhost hears no clear").isEqualTo("unsafe");
        CliRun h = CliRun.of("compare", "--designs", "D2", "--packets", "20", "--hazard", "ro-cached-rw");
        assertThat(h.exit()).isEqualTo(2);
        assertThat(h.err()).contains("--hazard: compare prices the designs");
    }
}
