package tcesim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tcesim.explore.Checker;
import tcesim.report.CostSummary;
import tcesim.sim.CostModel;
import tcesim.sim.Design;
import tcesim.sim.Mechanisms;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;

/**
 * {@code tcesim designs}: every meaningful combination of mechanisms, checked exhaustively against the guest variants of
 * {@code check --all} and priced on {@code compare}'s workloads; the answer is the Pareto frontier, by safety class.
 */
@Command(name = "designs", mixinStandardHelpOptions = true,
        description = {"Check and price every meaningful design (a combination of mechanisms: where the table lives, how a clear reaches vhost,",
                "what vhost does with MISSes and late UPDATEs, what QEMU answers), and print the Pareto frontier: for each safety class (the guests",
                "a design stays safe against, and the property it breaks against the others), the designs no other of the class beats on",
                "throughput, CPU per packet and latency at once (at equal cost, the one with fewer changed mechanisms), with their cost",
                "relative to D0 and what they change in Linux and QEMU.",
                "Each check is check --all's (small configuration, every interleaving) for each of its guest variants; each price is compare's.",
                "Exit code: 0 done, 2 bad usage, 3 a check without a verdict."})
public final class DesignsCommand implements Callable<Integer> {
    @Mixin
    StackOptions stack = new StackOptions();

    @Option(names = "--only", paramLabel = "D,D,...", split = ",", converter = StackOptions.DesignConverter.class,
            description = "Check and price only these designs (named, or mechanisms joined by '+', see --design); default: every meaningful combination.")
    List<Design> only;

    @Option(names = "--workers", paramLabel = "N", description = "Checks run side by side (default: ${DEFAULT-VALUE}).")
    int workers = 1;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One design's verdicts, guest by guest, and its prices. */
    record Result(Design design, Map<String, String> verdicts, long states, CostSummary stream, CostSummary rr) {
        /** The safety class: what the design keeps against each guest ("safe", or the property broken). */
        String safetyClass() {
            List<String> safe = new ArrayList<>(), broken = new ArrayList<>();
            verdicts.forEach((g, v) -> (v.equals("safe") ? safe : broken).add(v.equals("safe") ? g : g + ": " + v));
            return (safe.isEmpty() ? "safe against no guest" : "safe against " + String.join(", ", safe))
                    + (broken.isEmpty() ? "" : "; breaks " + String.join("; ", broken));
        }

        long safeGuests() { return verdicts.values().stream().filter("safe"::equals).count(); }

        /** How many mechanisms differ from D0's: the table and clear path count as one, each vhost fix and the answer as one. */
        int changes() {
            Mechanisms m = design.mechanisms();
            return (m.table() != Mechanisms.Table.KVM || m.clear() != Mechanisms.Clear.NONE ? 1 : 0) + (m.vhost().dropLateUpdate ? 1 : 0)
                    + (m.vhost().singleMiss ? 1 : 0) + (m.answer() != Mechanisms.Answer.RW ? 1 : 0);
        }

        /**
         * Whether this design is at least as cheap as {@code o} on throughput, CPU per packet and RR latency, with no
         * more changed mechanisms, and better on one of the four (of two designs at the same cost, the smaller change wins).
         */
        boolean beats(Result o) {
            boolean noWorse = stream.gbps() >= o.stream.gbps() && stream.cpuNsPerPacket() <= o.stream.cpuNsPerPacket()
                    && rr.transactionNs() <= o.rr.transactionNs() && changes() <= o.changes();
            boolean better = stream.gbps() > o.stream.gbps() || stream.cpuNsPerPacket() < o.stream.cpuNsPerPacket()
                    || rr.transactionNs() < o.rr.transactionNs() || changes() < o.changes();
            return noWorse && better;
        }
    }

    /**
     * The combinations {@code designs} goes over: every table and clear path with every vhost side and answer, but those
     * {@link Mechanisms#invalid()} refuses (a KVM clear path with the table in QEMU, every-exit with the table in KVM)
     * and the passthrough NIC (design V), which has no vhost and no MISS: it is no fix for vhost but the mechanism the
     * thread points to, checked by {@code check --all}.
     */
    static List<Design> combinations() {
        List<Design> out = new ArrayList<>();
        for (Mechanisms.Table t : Mechanisms.Table.values()) {
            for (Mechanisms.Clear c : Mechanisms.Clear.values()) {
                for (Mechanisms.VhostSide v : Mechanisms.VhostSide.values()) {
                    for (Mechanisms.Answer a : Mechanisms.Answer.values()) {
                        Mechanisms m = new Mechanisms(t, c, v, a, Mechanisms.Nic.VIRTIO);
                        if (m.invalid() == null) out.add(Design.of(m));
                    }
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** What the command leaves out, and why: printed with its table. */
    static final String SKIPPED = "Left out: a KVM clear path (stuff-exit, eventfd, eventfd-ack, link, link-kill) with the table in QEMU, where KVM"
            + " never sees a TCE hypercall; every-exit with the table in KVM, which is the table in QEMU under another name; and V, a"
            + " passthrough NIC with no vhost to fix (check --all checks it).";

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (workers < 1 || workers > 64) throw new CommandLine.ParameterException(spec.commandLine(), "--workers must be 1..64");
        for (String o : new String[] {"--design", "--no-stuff-tce", "--no-indirect", "--no-clear", "--ddw", "--hazard", "--config-id", "--packet-bytes",
                "--ring-size"}) {
            if (stack.matched(o)) {
                throw new CommandLine.ParameterException(spec.commandLine(), o + ": designs sets it itself (each design, check --all's guests,"
                        + " compare's workloads); choose designs with --only D,D,...");
            }
        }
        if (stack.effectiveHazard() != null) throw new CommandLine.ParameterException(spec.commandLine(), "--hazard: designs checks the seed's traffic");
        StackConfig base = stack.toConfig();
        String err = base.validate();
        if (err != null) throw new IllegalArgumentException(err);
        List<Design> designs = new ArrayList<>();
        for (Design d : only == null ? combinations() : only) {
            if (d.passthrough()) throw new IllegalArgumentException("--only: " + d + " has no vhost to fix (check --all checks it)");
            if (d.unavailableOn(base.host()) == null && !designs.contains(d)) designs.add(d);
        }
        if (designs.stream().noneMatch(Design.D0::equals)) designs.add(0, Design.D0); // the costs are relative to D0
        StackConfig small = StackOptions.small().toConfig().toBuilder().host(base.host()).qemu(base.qemu()).build();
        List<Result> results = run(designs, base, small);
        if (results == null) {
            out.println("no verdict: a check stopped at its state limit");
            out.flush();
            return 3;
        }
        if (json) out.println(Json.write(asJson(results, base)));
        else print(out, results, base);
        out.flush();
        return 0;
    }

    /** Checks and prices every design, {@code workers} checks at a time; null when a check has no verdict. */
    private List<Result> run(List<Design> designs, StackConfig base, StackConfig small) throws InterruptedException, ExecutionException {
        CostModel model = CostModel.defaults();
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<Result>> fs = new ArrayList<>();
            for (Design d : designs) fs.add(pool.submit(() -> one(d, base, small, model)));
            List<Result> rs = new ArrayList<>();
            for (Future<Result> f : fs) {
                Result r = f.get();
                if (r == null) return null;
                rs.add(r);
            }
            return rs;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Design {@code d} checked against check --all's guests (its rows, its properties) and priced as compare prices it. */
    private static Result one(Design d, StackConfig base, StackConfig small, CostModel model) {
        Map<String, String> verdicts = new LinkedHashMap<>();
        long states = 0;
        for (CheckCommand.Variant v : CheckCommand.Variant.values()) {
            StackConfig cfg = CheckCommand.row(small, d, v);
            Checker.Result r = new Checker(() -> new Stack(cfg, Trace.off()), new Checker.Options(2_000_000, 1, true, null, small.defaultProperties())).run();
            if (r.verdict() == Checker.Verdict.INCOMPLETE) return null;
            verdicts.put(v.label, r.verdict() == Checker.Verdict.SAFE ? "safe" : r.violation().property().label().replaceFirst("^no ", ""));
            states += r.distinct();
        }
        CostSummary[] price = CompareCommand.price(base, d, model);
        return new Result(d, verdicts, states, price[0], price[1]);
    }

    /** The frontier: by safety class (most guests kept first), the designs no other design of the class beats on every cost. */
    static Map<String, List<Result>> frontier(List<Result> results) {
        Map<String, List<Result>> byClass = new LinkedHashMap<>();
        results.stream().sorted(java.util.Comparator.comparingLong(Result::safeGuests).reversed())
                .forEach(r -> byClass.computeIfAbsent(r.safetyClass(), k -> new ArrayList<>()).add(r));
        Map<String, List<Result>> out = new LinkedHashMap<>();
        byClass.forEach((c, rs) -> out.put(c, rs.stream().filter(r -> rs.stream().noneMatch(o -> o.beats(r))).toList()));
        return out;
    }

    private static Result d0(List<Result> rs) {
        return rs.stream().filter(r -> r.design().equals(Design.D0)).findFirst().orElseThrow();
    }

    private static String rel(double v, double d0) {
        return String.format(Locale.ROOT, "%.2fx", d0 == 0 ? 0 : v / d0);
    }

    private void print(PrintWriter out, List<Result> results, StackConfig base) {
        out.println(StackOptions.erasLine(base));
        out.println(SKIPPED);
        out.printf("%d designs, each checked against %d guests (%s) and priced on TCP_STREAM and TCP_RR (throughput, CPU per packet, RR transaction time relative to D0).%n", results.size(),
                CheckCommand.Variant.values().length, String.join(", ", java.util.Arrays.stream(CheckCommand.Variant.values()).map(v -> v.label).toList()));
        Result d0 = d0(results);
        out.println();
        out.printf("%-42s %-13s %-13s %-13s %-13s %-13s %9s %7s %7s %7s%n", "design", "Linux", "no STUFF_TCE", "no IND", "no clear", "DDW", "states",
                "STREAM", "CPU/pk", "RR");
        for (Result r : results) {
            StringBuilder cells = new StringBuilder();
            for (String v : r.verdicts().values()) cells.append(String.format("%-13s ", v));
            out.printf(Locale.ROOT, "%-42s %s%9d %7s %7s %7s%n", r.design(), cells, r.states(), rel(r.stream().gbps(), d0.stream().gbps()),
                    rel(r.stream().cpuNsPerPacket(), d0.stream().cpuNsPerPacket()), rel(r.rr().transactionNs(), d0.rr().transactionNs()));
        }
        out.println();
        out.printf(Locale.ROOT, "Pareto frontier: by safety class, the designs no other of the class matches on every cost with fewer changed"
                + " mechanisms (relative to D0: %s Gbit/s, %s ns CPU per packet, %s us per RR transaction)%n",
                Figures.cell(d0.stream().timed(), "%.2f", d0.stream().gbps()), Figures.cell(d0.stream().packets() > 0, "%.0f", d0.stream().cpuNsPerPacket()),
                Figures.cell(d0.rr().transactionNs() > 0, "%.1f", d0.rr().transactionNs() / 1e3));
        List<Design> described = new ArrayList<>();
        frontier(results).forEach((c, rs) -> {
            out.printf("%n%s:%n", c);
            for (Result r : rs) {
                out.printf(Locale.ROOT, "  %-42s throughput %s, CPU per packet %s, RR latency %s%n", r.design(), rel(r.stream().gbps(), d0.stream().gbps()),
                        rel(r.stream().cpuNsPerPacket(), d0.stream().cpuNsPerPacket()), rel(r.rr().transactionNs(), d0.rr().transactionNs()));
                if (!described.contains(r.design())) described.add(r.design());
            }
        });
        out.printf("%nWhat the designs on the frontier change:%n");
        for (Design d : described) {
            out.printf("%n%s (%s):%n", d, d.mechanisms().tokens());
            for (String p : d.mechanisms().patches()) out.println(wrap(p, "  - ", 118));
        }
    }

    static String wrap(String text, String first, int width) {
        StringBuilder sb = new StringBuilder();
        String indent = " ".repeat(first.length());
        StringBuilder line = new StringBuilder(first);
        for (String w : text.split(" ")) {
            if (line.length() + w.length() + 1 > width && line.length() > first.length()) {
                sb.append(line.toString().stripTrailing()).append('\n');
                line = new StringBuilder(indent);
            }
            line.append(w).append(' ');
        }
        sb.append(line.toString().stripTrailing());
        return sb.toString();
    }

    private static Map<String, Object> asJson(List<Result> results, StackConfig base) {
        Map<String, Object> m = new LinkedHashMap<>(StackOptions.eras(base));
        m.put("skipped", SKIPPED);
        Result d0 = d0(results);
        List<Object> ds = new ArrayList<>();
        for (Result r : results) ds.add(designJson(r, d0));
        m.put("designs", ds);
        List<Object> fr = new ArrayList<>();
        frontier(results).forEach((c, rs) -> {
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("safetyClass", c);
            cm.put("designs", rs.stream().map(r -> r.design().name()).toList());
            fr.add(cm);
        });
        m.put("frontier", fr);
        Map<String, Object> patches = new LinkedHashMap<>();
        frontier(results).values().forEach(rs -> rs.forEach(r -> patches.put(r.design().name(), r.design().mechanisms().patches())));
        m.put("patches", patches);
        return m;
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static Map<String, Object> designJson(Result r, Result d0) {
        Map<String, Object> m = new LinkedHashMap<>();
        Mechanisms x = r.design().mechanisms();
        m.put("design", r.design().name());
        m.put("mechanisms", ordered("table", x.table().token, "clear", x.clear().token, "vhost", x.vhost().token, "answer", x.answer().token));
        m.put("verdicts", r.verdicts());
        m.put("safetyClass", r.safetyClass());
        m.put("distinctStates", r.states());
        m.put("streamGbps", r.stream().gbps());
        m.put("cpuNsPerPacket", r.stream().cpuNsPerPacket());
        m.put("rrTransactionNs", r.rr().transactionNs());
        m.put("relativeToD0", ordered("throughput", r.stream().gbps() / d0.stream().gbps(), "cpuPerPacket", r.stream().cpuNsPerPacket() / d0.stream().cpuNsPerPacket(),
                "latency", r.rr().transactionNs() / d0.rr().transactionNs()));
        return m;
    }
}
