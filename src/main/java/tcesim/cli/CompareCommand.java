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
        StackConfig small = StackOptions.small().toConfig().toBuilder().host(base.host()).qemu(base.qemu()).fw(base.fw())
                .hostileGuest(base.hostileGuest()).build();
        List<HtmlReport.Row> rows = new ArrayList<>();
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
            if (v.verdict() == Checker.Verdict.UNSAFE) unsafe.add(counterexample(d, checked, v));
            CostSummary[] price = price(base, d, model);
            rows.add(new HtmlReport.Row(d.name(), d.summary(), v.verdict().name().toLowerCase(Locale.ROOT), property, price[0], price[1]));
        }
        if (json) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            if (leftOutLine != null) m.put("leftOut", leftOutLine);
            m.put("designs", rows.stream().map(CompareCommand::asMap).toList());
            m.put("costs", model.values());
            m.putAll(StackOptions.eras(base));   // which host and eras the verdicts and costs come from
            out.println(Json.write(m));
        }
        else if (csv) printCsv(out, rows);
        else {
            if (leftOutLine != null) out.println(leftOutLine);
            out.printf("%s; cost runs: discrete-event (each step at its earliest start, no random choice); replay: %s%n",
                    StackOptions.erasLine(base), replayLine());
            printTable(out, rows);
        }
        if (html != null) {
            Files.createDirectories(html);
            Path file = html.resolve("report.html");
            Files2.writeWhole(file, HtmlReport.compare(rows, model, unsafe, replayLine()));
            if (!json && !csv) out.println("report written to " + file);
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

    private static void printTable(PrintWriter out, List<HtmlReport.Row> rows) {
        out.printf("%-5s %-22s %9s %9s %8s %22s %9s %7s %10s %9s %9s %8s%n", "design", "verdict", "STREAM", "exits/pk", "misses", "hcalls real/virt/QEMU",
                "invalid.", "kills", "CPU ns/pk", "RX lat", "RR trans", "busiest");
        for (HtmlReport.Row r : rows) {
            CostSummary s = r.stream();
            String verdict = r.verdict() + (r.property() == null ? "" : " (" + r.property().replace("no ", "") + ")");
            out.printf(Locale.ROOT, "%-6s %-22s %6.2f Gb %9.3f %8d %22s %9d %7d %10.0f %9s %9s %8s%n", r.design(), verdict, s.gbps(), s.exitsPerPacket(),
                    s.iotlbMisses(), s.hcallsReal() + "/" + s.hcallsVirtual() + "/" + s.hcallsQemu(), s.invalidations(), s.tceKills(), s.cpuNsPerPacket(),
                    duration(s.rxLatencyNs()), duration(r.rr().transactionNs()), s.bottleneck());
        }
    }

    /** A simulated duration for the table: microseconds, or milliseconds from 10 ms; "-" for none measured. */
    static String duration(double ns) {
        if (ns <= 0) return "-";
        return ns < 1e7 ? String.format(Locale.ROOT, "%.1f us", ns / 1e3) : String.format(Locale.ROOT, "%.1f ms", ns / 1e6);
    }

    private static void printCsv(PrintWriter out, List<HtmlReport.Row> rows) {
        out.println("design,verdict,property,workload,packets,gbps,cpu_ns_per_packet,rx_latency_ns,tx_latency_ns,transaction_ns,bottleneck,exits_per_packet,"
                + "hcalls_real,hcalls_virtual,hcalls_qemu,iotlb_hits,iotlb_misses,iotlb_evictions,invalidations,tce_kills");
        for (HtmlReport.Row r : rows) {
            for (CostSummary s : List.of(r.stream(), r.rr())) {
                out.printf(Locale.ROOT, "%s,%s,%s,%s,%d,%.4f,%.1f,%.1f,%.1f,%.1f,%s,%.4f,%d,%d,%d,%d,%d,%d,%d,%d%n", r.design(), r.verdict(),
                        r.property() == null ? "" : r.property(), s.workload(), s.packets(), s.gbps(), s.cpuNsPerPacket(), s.rxLatencyNs(), s.txLatencyNs(),
                        s.transactionNs(), s.bottleneck(), s.exitsPerPacket(), s.hcallsReal(), s.hcallsVirtual(), s.hcallsQemu(),
                        s.iotlbHits(), s.iotlbMisses(), s.iotlbEvictions(), s.invalidations(), s.tceKills());
            }
        }
    }

    private static Map<String, Object> asMap(HtmlReport.Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("design", r.design());
        m.put("summary", r.summary());
        m.put("verdict", r.verdict());
        if (r.property() != null) m.put("property", r.property());
        m.put("tcpStream", r.stream());
        m.put("tcpRr", r.rr());
        return m;
    }
}
