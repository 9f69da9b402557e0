package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
        assertThat(r.stdout()).containsPattern("(?m)^D0 +unsafe \\(stale access\\) +\\d").containsPattern("(?m)^D2 +safe +\\d").contains("exits/packet");
    }

    /**
     * Units are in the headers, the cells are plain figures; "-" where a figure does not apply: vhost's IOTLB in design V,
     * which has none, and the RR transaction V's run does not measure.
     */
    @Test
    void theHeaderCarriesTheUnitsAndAFigureThatDoesNotApplyIsADash() {
        CliRun r = CliRun.of("compare", "--designs", "D0,V", "--packets", "100");
        assertThat(r.exit()).isZero();
        List<String> lines = r.stdout().lines().filter(l -> l.startsWith("design ") || l.startsWith("D0 ") || l.startsWith("V ")).toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains("STREAM (Gbit/s)").contains("CPU (ns/packet)").contains("RX latency (us)").contains("RR transaction (us)");
        for (String row : lines.subList(1, 3)) {
            assertThat(row).doesNotContainPattern("\\d ?(Gb|us|ms|ns)\\b");
            cells(lines.get(0), row).forEach((column, cell) -> {
                if (!column.equals("design") && !column.equals("verdict")) {
                    assertThat(cell).as(column + " in " + row).matches("-|\\d+(\\.\\d+)?|\\d+/\\d+/\\d+|vcpu|qemu|vhost|device");
                }
            });
        }
        Map<String, String> v = cells(lines.get(0), lines.get(2));
        assertThat(v.get("IOTLB misses")).isEqualTo("-");
        assertThat(v.get("invalidations")).isEqualTo("-");
        assertThat(v.get("RR transaction (us)")).isEqualTo("-");
        assertThat(v.get("TCE kills")).as("V's kills are counted").isNotEqualTo("-");
        Map<String, String> d0 = cells(lines.get(0), lines.get(1));
        assertThat(d0.get("invalidations")).as("D0 sends none: a real zero").isEqualTo("0");
        assertThat(d0.get("IOTLB misses")).matches("[1-9]\\d*");
    }

    /** The cells of {@code row} under each header of {@code header}: columns are two spaces or more apart, and no cell has two spaces. */
    static Map<String, String> cells(String header, String row) {
        String[] names = header.trim().split(" {2,}");
        String[] cells = row.trim().split(" {2,}");
        assertThat(cells).as(row).hasSameSizeAs(names);
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) m.put(names[i], cells[i]);
        return m;
    }

    /**
     * With every cost zero the runs take no simulated time: their throughput, latencies and busiest thread do not apply
     * ("-", null, an empty CSV field), never 0 Gbit/s; the counts still do.
     */
    @Test
    void withEveryCostZeroTheThroughputOfARunOfNoTimeDoesNotApply() throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("compare", "--designs", "D0", "--packets", "50"));
        for (String name : tcesim.sim.CostModel.PARAMS.keySet()) args.addAll(List.of("--cost", name + "=0"));
        CliRun text = CliRun.of(args.toArray(String[]::new));
        assertThat(text.exit()).as(text.err()).isZero();
        String header = text.stdout().lines().filter(l -> l.startsWith("design ")).findFirst().orElseThrow();
        Map<String, String> d0 = cells(header, text.stdout().lines().filter(l -> l.startsWith("D0 ")).findFirst().orElseThrow());
        assertThat(d0.get("STREAM (Gbit/s)")).isEqualTo("-");
        assertThat(d0.get("RX latency (us)")).isEqualTo("-");
        assertThat(d0.get("busiest thread")).isEqualTo("-");
        assertThat(d0.get("IOTLB misses")).matches("[1-9]\\d*");

        args.add("--json");
        JsonNode stream = new ObjectMapper().readTree(CliRun.of(args.toArray(String[]::new)).stdout()).get("designs").get(0).get("tcpStream");
        assertThat(stream.get("elapsedNs").asLong()).isZero();
        assertThat(stream.get("gbps").isNull()).isTrue();
        assertThat(stream.get("rxLatencyNs").isNull()).isTrue();
        assertThat(stream.get("bottleneck").isNull()).isTrue();
        assertThat(stream.get("iotlbMisses").asLong()).isPositive();

        args.set(args.size() - 1, "--csv");
        List<String> csv = CliRun.of(args.toArray(String[]::new)).stdout().lines().toList();
        List<String> head = List.of(csv.get(0).split(","));
        String[] row = csv.get(1).split(",", -1);
        assertThat(row[head.indexOf("gbps")]).isEmpty();
        assertThat(row[head.indexOf("bottleneck")]).isEmpty();
    }

    /** JSON and CSV carry rounded figures: four significant digits, whole units never cut, numbers staying numbers. */
    /**
     * The verdict of a hostile guest is designs' hostile column: on a window that fills KVM's table page, so that a 2019
     * KVM's write past the window reaches past stt->pages[] (on check's 16-entry window it stays in the page's slack).
     */
    @Test
    void aHostileGuestsVerdictIsDesignsHostileColumn() throws Exception {
        JsonNode n = new ObjectMapper().readTree(CliRun.of("compare", "--designs", "D0,D2", "--packets", "50", "--hostile-guest", "--json").stdout());
        assertThat(n.get("designs").get(0).get("design").asText()).isEqualTo("D0");
        assertThat(n.get("designs").get(0).get("property").asText()).isEqualTo("host_memory");
        assertThat(n.get("designs").get(1).get("verdict").asText()).isEqualTo("safe");
    }

    @Test
    void jsonAndCsvFiguresAreRounded() throws Exception {
        JsonNode n = new ObjectMapper().readTree(compare("--json").stdout());
        List<JsonNode> numbers = new java.util.ArrayList<>();
        collectNumbers(n.get("designs"), numbers);
        assertThat(numbers).hasSizeGreaterThan(40);
        for (JsonNode x : numbers) assertThat(x.asText()).matches(FiguresTest.ROUNDED);
        JsonNode d0 = n.get("designs").get(0).get("tcpStream");
        assertThat(d0.get("transactionNs").isNull()).as("TCP_STREAM has no transactions").isTrue();
        assertThat(d0.get("gbps").isDouble()).isTrue();

        List<String> csv = compare("--csv").stdout().lines().toList();
        for (String line : csv.subList(1, csv.size())) {
            for (String field : line.split(",", -1)) if (field.matches("[0-9.E-]+")) assertThat(field).as(line).matches(FiguresTest.ROUNDED);
        }
    }

    static void collectNumbers(JsonNode n, List<JsonNode> into) {
        if (n.isNumber()) into.add(n);
        n.forEach(c -> collectNumbers(c, into));
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
        JsonNode n = new ObjectMapper().readTree(CliRun.of("compare", "--designs", "D2", "--packets", "20", "--qemu", "6.0-dev", "--json").stdout());
        assertThat(n.get("qemu").asText()).isEqualTo("6.0-dev");
        assertThat(n.get("designs").get(0).get("verdict").asText()).as("QEMU 6.0-dev's vhost hears no clear").isEqualTo("unsafe");
        CliRun h = CliRun.of("compare", "--designs", "D2", "--packets", "20", "--hazard", "ro-cached-rw");
        assertThat(h.exit()).isEqualTo(2);
        assertThat(h.err()).contains("--hazard: compare prices the designs");
    }
}
