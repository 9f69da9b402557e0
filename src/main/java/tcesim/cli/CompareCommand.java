package tcesim.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tcesim.explore.Checker;
import tcesim.report.CostSummary;
import tcesim.report.HtmlReport;
import tcesim.sim.Chooser;
import tcesim.sim.CostModel;
import tcesim.sim.Design;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;

/** {@code tcesim compare}: every design's safety verdict next to its cost. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compare the designs: the exhaustive checker's verdict (small configuration, Linux guest) next to the cost",
                "of netperf-like workloads on the full-size configuration, from the cost model (--cost/--costs override it)."})
public final class CompareCommand implements Callable<Integer> {
    @Mixin
    StackOptions stack = new StackOptions();

    @Option(names = "--designs", paramLabel = "D,D,...", split = ",", converter = StackOptions.DesignConverter.class,
            description = "Designs to compare (default: the named ones); a combination of mechanisms joins them with '+' (see --design).")
    List<Design> designs = List.of(Design.values());

    @Option(names = "--cost", paramLabel = "NAME=NS", description = "Override one cost parameter (repeatable); names: see the cost table of --html or --help-costs.")
    Map<String, String> costs = new LinkedHashMap<>();

    @Option(names = "--costs", paramLabel = "FILE", description = "Read cost overrides from a properties file (name = nanoseconds per line).")
    Path costsFile;

    @Option(names = "--help-costs", description = "List the cost parameters, their defaults and sources, and exit.")
    boolean helpCosts;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Option(names = "--csv", description = "Print the results as CSV.")
    boolean csv;

    @Option(names = "--html", paramLabel = "DIR", description = "Also write DIR/report.html: the table, bar charts and a swimlane timeline of each unsafe design's counterexample.")
    Path html;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (helpCosts) {
            CostModel.PARAMS.forEach((k, p) -> out.printf("%-18s %10s %-20s %s%n", k, p.defaultNs(), p.unit(), p.source()));
            out.flush();
            return 0;
        }
        if (json && csv) throw new CommandLine.ParameterException(spec.commandLine(), "--json and --csv exclude each other");
        refuseIgnoredOptions();
        CostModel model = costModel();
        if (html != null) Files2.outputDir("--html", html, "report.html");
        StackConfig base = stack.toConfig();
        String err = base.validate();
        if (err != null) throw new IllegalArgumentException(err); // one line: the configuration, not the flags' syntax
        // The verdict column checks the small configuration with what the command line says of the system and the guest:
        // the host and its kernel era, the QEMU release, the guest's firmware features and whether it is hostile.
        StackConfig small = StackOptions.small().toConfig().toBuilder().host(base.host()).qemu(base.qemu()).fw(base.fw()).build();
        if (base.hostileGuest()) small = DesignsCommand.Guest.hostile(small); // as designs checks its hostile guest
        List<HtmlReport.Row> rows = new ArrayList<>();
        // What each unsafe design's check found: the rows carry its words (for the page), JSON and CSV its key.
        Map<String, tcesim.sim.Violation.Property> found = new LinkedHashMap<>();
        List<HtmlReport.Counterexample> unsafe = new ArrayList<>();
        // Designs that cannot exist on the host: refused when asked for by name, left out (and said so) by default.
        List<String> leftOut = new ArrayList<>();
        for (Design d : new TreeSet<>(designs)) {
            String why = d.unavailableOn(base.host());
            if (why == null) continue;
            if (compareMatched("--designs")) throw new IllegalArgumentException("--designs: " + why);
            leftOut.add(d.name());
        }
        String leftOutLine = leftOut.isEmpty() ? null : CheckCommand.leftOut(base.host());
        for (Design d : new TreeSet<>(designs)) {
            if (leftOut.contains(d.name())) continue;
            StackConfig checked = d.applyTo(small);
            Checker.Result v = new Checker(() -> new Stack(checked, Trace.off()), new Checker.Options(2_000_000, 1, true, null, checked.defaultProperties())).run();
            String property = v.violation() == null ? null : v.violation().property().label();
            if (v.violation() != null) found.put(d.name(), v.violation().property());
            if (v.verdict() == Checker.Verdict.UNSAFE) unsafe.add(counterexample(d, checked, v));
            CostSummary[] price = price(base, d, model);
            rows.add(new HtmlReport.Row(d.name(), d.summary(), v.verdict().name().toLowerCase(Locale.ROOT), property, price[0], price[1]));
        }
        // The report page first: a failure to write it leaves nothing on stdout, not a document that looks complete.
        Path file = null;
        if (html != null) {
            Files.createDirectories(html);
            file = html.resolve("report.html");
            Files2.writeWhole(file, HtmlReport.compare(rows, model, unsafe, replayLine()));
        }
        if (json) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            if (leftOutLine != null) m.put("leftOut", leftOutLine);
            m.put("designs", rows.stream().map(r -> asMap(r, found.get(r.design()))).toList());
            m.put("costs", model.values());
            m.putAll(StackOptions.eras(base));   // which host and eras the verdicts and costs come from
            Stdout.document(out, Json.write(m), "JSON");
        } else if (csv) {
            Stdout.document(out, csv(rows, found), "CSV");
        } else {
            if (leftOutLine != null) out.println(leftOutLine);
            out.printf("%s; cost runs: discrete-event (each step at its earliest start, no random choice); replay: %s%n",
                    StackOptions.erasLine(base), replayLine());
            out.print(table(rows));
            if (file != null) out.println("report written to " + file);
        }
        out.flush();
        return 0;
    }

    /** Design {@code d}'s cost on the two workloads, TCP_STREAM then TCP_RR, on configuration {@code base} (also {@code designs}'). */
    static CostSummary[] price(StackConfig base, Design d, CostModel model) {
        return new CostSummary[] {CostSummary.measure(CostSummary.Workload.TCP_STREAM.apply(base, d), "TCP_STREAM", model),
                CostSummary.measure(CostSummary.Workload.TCP_RR.apply(base, d), "TCP_RR", model)};
    }

    /** Options of the shared set that compare cannot honour: refused, so that no one reads results that silently ignored them. */
    private void refuseIgnoredOptions() {
        CostSummary.Workload stream = CostSummary.Workload.TCP_STREAM, rr = CostSummary.Workload.TCP_RR;
        String why = null;
        if (stack.matched("--packet-bytes")) {
            why = String.format("--packet-bytes: compare's workloads fix the packet size (%s %d bytes, %s %d bytes)", stream, stream.packetBytes, rr, rr.packetBytes);
        } else if (stack.matched("--ring-size")) {
            why = String.format("--ring-size: compare's workloads fix the rings (%s %d entries, %s %d entries)", stream, stream.ring, rr, rr.ring);
        } else if (stack.matched("--design")) {
            why = "--design: compare runs every design; choose some with --designs D,D,...";
        } else if (stack.effectiveHazard() != null) {
            why = "--hazard: compare prices the designs on the seed's traffic; check --hazards judges each hazard under each design";
        } else if (stack.matched("--config-id")) {
            why = "--config-id: compare runs several configurations (each design, each workload); the id is for one, in a repro, check or campaign line";
        }
        if (why != null) throw new CommandLine.ParameterException(spec.commandLine(), why);
    }

    private boolean compareMatched(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private String replayLine() {
        StringBuilder sb = new StringBuilder("./tcesim compare");
        if (designs.size() != Design.values().length) {
            sb.append(" --designs ").append(String.join(",", new TreeSet<>(designs).stream().map(Design::name).toList()));
        }
        sb.append(stack.asArgsWithoutDesign());
        if (costsFile != null) sb.append(" --costs ").append(costsFile);
        costs.forEach((k, v) -> sb.append(" --cost ").append(k).append('=').append(v));
        return sb.toString();
    }

    private HtmlReport.Counterexample counterexample(Design d, StackConfig cfg, Checker.Result r) {
        Stack st = new Stack(cfg, new Trace(1 << 16, 24));
        Simulation.run(st, Chooser.scripted(r.choices()), 10_000_000);
        List<tcesim.sim.Event> events = st.trace().recent().stream().filter(e -> e.step() > 0).toList();
        return new HtmlReport.Counterexample(d.name(), st.oracles().first() != null ? st.oracles().first() : r.violation(), events,
                "./tcesim repro --choices " + CheckCommand.join(r.choices()) + StackOptions.replayArgs(cfg, null));
    }

    private CostModel costModel() {
        CostModel m = CostModel.defaults();
        Map<String, String> all = new LinkedHashMap<>();
        Map<String, String> where = new LinkedHashMap<>();
        if (costsFile != null) {
            String text;
            try {
                text = Files2.readText(costsFile);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--costs " + e.getMessage());
            }
            Properties p = new Properties();
            try {
                p.load(new StringReader(text));
            } catch (IllegalArgumentException | IOException e) {
                throw new IllegalArgumentException("--costs " + costsFile + ":" + badEscapeLine(text) + ": " + e.getMessage());
            }
            new TreeSet<>(p.stringPropertyNames()).forEach(k -> {
                all.put(k, p.getProperty(k));
                where.put(k, "--costs " + costsFile + ":" + lineOf(text, k) + ": ");
            });
        }
        all.putAll(costs);
        costs.keySet().forEach(where::remove);
        for (Map.Entry<String, String> e : all.entrySet()) {
            String problem = null;
            try {
                m = m.with(e.getKey().trim(), Double.parseDouble(e.getValue().trim()));
            } catch (NumberFormatException ex) {
                problem = "cost parameter '" + e.getKey() + "': '" + e.getValue() + "' is not a number";
            } catch (IllegalArgumentException ex) {
                problem = ex.getMessage();
            }
            if (problem != null && where.containsKey(e.getKey())) throw new IllegalArgumentException(where.get(e.getKey()) + problem);
            if (problem != null) throw new CommandLine.ParameterException(spec.commandLine(), problem);
        }
        return m;
    }

    /** The line of a properties file where {@code key} is set (1 when it cannot be told, e.g. an escaped key). */
    private static int lineOf(String text, String key) {
        String[] lines = text.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].stripLeading();
            if (l.startsWith(key) && (l.length() == key.length() || "=: \t\f".indexOf(l.charAt(key.length())) >= 0)) return i + 1;
        }
        return 1;
    }

    /** The first line with a backslash-u not followed by four hex digits (what Properties.load rejects), else 1. */
    private static int badEscapeLine(String text) {
        String[] lines = text.split("\\R", -1);
        java.util.regex.Pattern bad = java.util.regex.Pattern.compile("(?<!\\\\)(\\\\\\\\)*\\\\u(?![0-9a-fA-F]{4})");
        for (int i = 0; i < lines.length; i++) if (bad.matcher(lines[i]).find()) return i + 1;
        return 1;
    }

    /**
     * The text table: each unit in its column's header, plain figures in the cells, "-" where a figure does not apply
     * (the throughput and times of a run that took no simulated time, a latency not measured, vhost's IOTLB in design
     * V, which has no vhost).
     */
    static String table(List<HtmlReport.Row> rows) {
        Figures.Table t = new Figures.Table("design", "verdict", "STREAM (Gbit/s)>", "exits/packet>", "IOTLB misses>", "hcalls real/virt/QEMU>",
                "invalidations>", "TCE kills>", "CPU (ns/packet)>", "RX latency (us)>", "RR transaction (us)>", "busiest thread");
        for (HtmlReport.Row r : rows) {
            CostSummary s = r.stream();
            boolean vhost = vhost(s);
            t.row(r.design(), r.verdict() + (r.property() == null ? "" : " (" + r.property() + ")"), Figures.cell(s.timed(), "%.2f", s.gbps()),
                    Figures.cell(s.packets() > 0, "%.3f", s.exitsPerPacket()), Figures.cell(vhost, s.iotlbMisses()),
                    s.hcallsReal() + "/" + s.hcallsVirtual() + "/" + s.hcallsQemu(), Figures.cell(vhost, s.invalidations()), Long.toString(s.tceKills()),
                    Figures.cell(s.packets() > 0, "%.0f", s.cpuNsPerPacket()), Figures.cell(s.rxLatencyNs() > 0, "%.1f", s.rxLatencyNs() / 1e3),
                    Figures.cell(r.rr().transactionNs() > 0, "%.1f", r.rr().transactionNs() / 1e3), busiest(s) == null ? Figures.NONE : busiest(s));
        }
        return t.render();
    }


    /** Whether the design has vhost, whose IOTLB the misses, hits, evictions and invalidations count (design V has not). */
    private static boolean vhost(CostSummary s) {
        return !Design.valueOf(s.design()).passthrough();
    }

    /** The thread busiest in the run, or null when none was busy (a run of zero time). */
    private static String busiest(CostSummary s) {
        return s.lanesNs().getOrDefault(s.bottleneck(), 0.0) > 0 ? s.bottleneck() : null;
    }

    /** The CSV: a line per design and workload, figures rounded as in JSON, an empty field where a figure does not apply. */
    static String csv(List<HtmlReport.Row> rows, Map<String, tcesim.sim.Violation.Property> found) {
        StringBuilder sb = new StringBuilder("design,verdict,property,workload,packets,gbps,cpu_ns_per_packet,rx_latency_ns,tx_latency_ns,transaction_ns,"
                + "bottleneck,exits_per_packet,hcalls_real,hcalls_virtual,hcalls_qemu,iotlb_hits,iotlb_misses,iotlb_evictions,invalidations,tce_kills\n");
        for (HtmlReport.Row r : rows) {
            for (CostSummary s : List.of(r.stream(), r.rr())) {
                boolean vhost = vhost(s), packets = s.packets() > 0;
                sb.append(String.join(",", r.design(), r.verdict(), found.containsKey(r.design()) ? found.get(r.design()).key() : "", s.workload(),
                        Long.toString(s.packets()), Figures.csv(s.timed(), s.gbps()), Figures.csv(packets, s.cpuNsPerPacket()),
                        Figures.csv(s.rxLatencyNs() > 0, s.rxLatencyNs()), Figures.csv(s.txLatencyNs() > 0, s.txLatencyNs()),
                        Figures.csv(s.transactionNs() > 0, s.transactionNs()), busiest(s) == null ? "" : busiest(s), Figures.csv(packets, s.exitsPerPacket()),
                        Long.toString(s.hcallsReal()), Long.toString(s.hcallsVirtual()), Long.toString(s.hcallsQemu()),
                        count(vhost, s.iotlbHits()), count(vhost, s.iotlbMisses()), count(vhost, s.iotlbEvictions()), count(vhost, s.invalidations()),
                        Long.toString(s.tceKills()))).append('\n');
            }
        }
        return sb.toString();
    }

    private static String count(boolean applies, long n) {
        return applies ? Long.toString(n) : "";
    }

    /**
     * A workload's figures for JSON, under the names they always had: rounded ({@link Figures#round}), null where a
     * figure does not apply.
     */
    static Map<String, Object> costs(CostSummary s) {
        boolean vhost = vhost(s), packets = s.packets() > 0;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("design", s.design());
        m.put("workload", s.workload());
        m.put("packets", s.packets());
        m.put("bytes", s.bytes());
        m.put("hcallsReal", s.hcallsReal());
        m.put("hcallsVirtual", s.hcallsVirtual());
        m.put("hcallsQemu", s.hcallsQemu());
        m.put("iotlbHits", vhost ? s.iotlbHits() : null);
        m.put("iotlbMisses", vhost ? s.iotlbMisses() : null);
        m.put("iotlbEvictions", vhost ? s.iotlbEvictions() : null);
        m.put("invalidations", vhost ? s.invalidations() : null);
        m.put("tceKills", s.tceKills());
        m.put("elapsedNs", Figures.round(s.elapsedNs()));
        m.put("gbps", Figures.roundIf(s.timed(), s.gbps()));
        m.put("cpuNsPerPacket", Figures.roundIf(packets, s.cpuNsPerPacket()));
        m.put("rxLatencyNs", Figures.roundIf(s.rxLatencyNs() > 0, s.rxLatencyNs()));
        m.put("txLatencyNs", Figures.roundIf(s.txLatencyNs() > 0, s.txLatencyNs()));
        m.put("transactionNs", Figures.roundIf(s.transactionNs() > 0, s.transactionNs()));
        m.put("bottleneck", busiest(s));
        Map<String, Object> lanes = new LinkedHashMap<>();
        s.lanesNs().forEach((k, v) -> lanes.put(k, Figures.round(v)));
        m.put("lanesNs", lanes);
        m.put("totalNs", Figures.round(s.totalNs()));
        m.put("sumOfStepsNs", Figures.round(s.sumOfStepsNs()));
        return m;
    }

    private static Map<String, Object> asMap(HtmlReport.Row r, tcesim.sim.Violation.Property found) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("design", r.design());
        m.put("summary", r.summary());
        m.put("verdict", r.verdict());
        if (found != null) m.put("property", found.key());
        m.put("tcpStream", costs(r.stream()));
        m.put("tcpRr", costs(r.rr()));
        return m;
    }
}
