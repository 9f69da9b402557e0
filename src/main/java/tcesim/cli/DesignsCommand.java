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
import java.util.EnumSet;
import java.util.Set;
import tcesim.explore.Checker;
import tcesim.report.CostSummary;
import tcesim.report.HtmlReport;
import tcesim.sim.CostModel;
import tcesim.sim.Design;
import tcesim.sim.Hazard;
import tcesim.sim.Mechanisms;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * {@code tcesim designs}: every meaningful combination of mechanisms, checked exhaustively against the guest variants of
 * {@code check --all}, a guest that takes posted buffers back and a hostile guest, and priced on {@code compare}'s
 * workloads; the answer is the Pareto frontier, by safety class.
 */
@Command(name = "designs", mixinStandardHelpOptions = true,
        description = {"Check and price every meaningful design (a combination of mechanisms: where the table lives, how a clear reaches vhost,",
                "what vhost does with MISSes and late UPDATEs, what QEMU answers), and print the Pareto frontier: for each safety class (the guests",
                "a design stays safe against, and the property it breaks against the others), the designs no other of the class beats on",
                "throughput, CPU per packet and latency at once (at equal cost, the one with fewer changed mechanisms), with their cost",
                "relative to D0 and what they change in Linux and QEMU.",
                "Each design is checked (small configuration, every interleaving) against check --all's five guest variants, a guest that takes",
                "a posted RX buffer back and a hostile guest, each for the properties it is owed (see the guests' lines of the output); each price is compare's.",
                "Exit code: 0 done, 2 bad usage, 3 a check without a verdict."})
public final class DesignsCommand implements Callable<Integer> {
    @Mixin
    StackOptions stack = new StackOptions();

    @Option(names = "--only", paramLabel = "D,D,...", split = ",", converter = StackOptions.DesignConverter.class,
            description = "Check and price only these designs (named, or mechanisms joined by '+', see --design); default: every meaningful combination.")
    List<Design> only;

    @Option(names = "--workers", paramLabel = "N", description = "Checks run side by side (default: ${DEFAULT-VALUE}).")
    int workers = 1;

    @Option(names = "--max-states", paramLabel = "N", description = "A check that finds more distinct states stops without a verdict, and so does the command (default: ${DEFAULT-VALUE}, as check's).")
    long maxStates = 2_000_000;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write FILE, a self-contained page: the Pareto frontier drawn by safety class and cost, the table, and what each design on the frontier changes.")
    java.nio.file.Path html;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The TX and RX buffers each way of the hostile guest's check: its calls' bounds do not depend on the traffic. */
    static final int HOSTILE_PACKETS = 1;

    /**
     * The guests a design is checked against, each on the configuration and for the properties it is about: check
     * --all's five variants on its small configuration, for every property; a Linux guest that takes one posted RX buffer
     * back, on the same configuration, for every property but progress (the queue it took the buffer from may wait for an
     * UPDATE that never comes, as in the miss-on-cleared hazard: its own doing); and a hostile Linux guest, for what the
     * host owes any guest (host memory and isolation), at {@value #HOSTILE_PACKETS} packet each way on a window that
     * fills KVM's table page, the smallest on which an entry past the window lies past {@code stt->pages[]}, as on the
     * default 1 GiB window (on the small configuration's 16 entries it lands in the page's slack, KVM's own memory).
     */
    enum Guest {
        LINUX(CheckCommand.Variant.LINUX, "Linux", ""),
        NO_STUFF(CheckCommand.Variant.NO_STUFF, "no STUFF_TCE", "--no-stuff-tce"),
        NO_INDIRECT(CheckCommand.Variant.NO_INDIRECT, "no IND", "--no-indirect"),
        NO_CLEAR(CheckCommand.Variant.NO_CLEAR, "no clear", "--no-clear"),
        DDW(CheckCommand.Variant.DDW, "DDW", "--ddw"),
        RX_BACK(null, "takes RX back", "--rx-revokes 1 --properties stale_access,corruption,isolation,host_memory"),
        HOSTILE(null, "hostile", "--hostile-guest --packets " + HOSTILE_PACKETS);

        /** check --all's variant, or null for a guest of designs' own. */
        final CheckCommand.Variant variant;
        /** The guest's name in the text table's header. */
        final String column;
        private final String flags;

        Guest(CheckCommand.Variant variant, String column, String flags) {
            this.variant = variant;
            this.column = column;
            this.flags = flags;
        }

        /** The flags of {@code check}, over its small configuration {@code small}, that check a design against this guest. */
        String checkFlags(StackConfig small) {
            return this == HOSTILE ? flags + " --window-kib " + (Hazard.wholeTablePages(small.windowBytes()) >> 10) : flags;
        }

        /** The guest's name in verdicts, safety classes and JSON. */
        String label() {
            return variant != null ? variant.label : column;
        }

        /** The configuration that checks design {@code d} against this guest, from check's small one (with the host and eras). */
        StackConfig config(StackConfig small, Design d) {
            StackConfig linux = CheckCommand.row(small, d, CheckCommand.Variant.LINUX);
            return switch (this) {
                case RX_BACK -> linux.toBuilder().rxRevokes(1).build();
                case HOSTILE -> hostile(linux);
                default -> CheckCommand.row(small, d, variant);
            };
        }

        /**
         * The check of a hostile guest from a small configuration {@code c} (designs' column, compare's verdicts): its
         * calls' bounds do not depend on the traffic, so {@value #HOSTILE_PACKETS} packet each way; on a window that fills
         * KVM's table pages, so that an entry past the window is past {@code stt->pages[]}, as on the default 1 GiB window.
         */
        static StackConfig hostile(StackConfig c) {
            return c.toBuilder().hostileGuest(true).rxPackets(HOSTILE_PACKETS).txPackets(HOSTILE_PACKETS)
                    .windowBytes(Hazard.wholeTablePages(c.windowBytes())).build();
        }

        /** The properties this guest is owed. */
        Set<Violation.Property> properties() {
            return switch (this) {
                case RX_BACK -> EnumSet.complementOf(EnumSet.of(Violation.Property.PROGRESS));
                case HOSTILE -> StackConfig.seed().toBuilder().hostileGuest(true).build().defaultProperties();
                default -> StackConfig.seed().defaultProperties();
            };
        }

        /** The width of this guest's column in the text table: its header and every verdict it can have. */
        int width() {
            int w = Math.max(column.length(), "safe".length());
            for (Violation.Property p : properties()) w = Math.max(w, p.label().length());
            return w;
        }

        /** Why the guest is checked so, in a sentence (for the text, JSON and HTML). */
        String why(StackConfig small) {
            return switch (this) {
                case RX_BACK -> "a Linux guest that takes a posted RX buffer back (unmaps and frees it while the device owns it), on check's small"
                        + " configuration, checked for every property but progress: the queue it took the buffer from may wait for an UPDATE that"
                        + " never comes (the miss-on-cleared hazard), its own doing";
                case HOSTILE -> "a Linux guest that may make one TCE hypercall of --hostile-guest's adversarial set at any point, checked for what the"
                        + " host owes any guest (host_memory, isolation), at " + HOSTILE_PACKETS + " packet each way (its calls' bounds do not depend on"
                        + " the traffic; at 2 each way its checks pass the state limit), on a window of " + (Hazard.wholeTablePages(small.windowBytes()) >> 12)
                        + " TCEs that fills KVM's table page, so that an entry past the window lies past stt->pages[] as on the default 1 GiB window"
                        + " (on the small configuration's " + (small.windowBytes() >> 12) + " entries it lands in the page's slack, KVM's own memory)";
                default -> "check --all's guest (" + variant.label + ") on its small configuration, checked for every property";
            };
        }

        /** The properties as --properties spells them, or "every property". */
        String propertiesText() {
            Set<Violation.Property> p = properties();
            return p.size() == Violation.Property.values().length ? "every property" : String.join(", ", p.stream().map(Violation.Property::key).toList());
        }
    }

    /** One design's verdicts, guest by guest, and its prices. */
    record Result(Design design, Map<String, String> verdicts, Map<String, Long> statesByGuest, CostSummary stream, CostSummary rr) {
        /** The safety class: what the design keeps against each guest ("safe", or the property broken). */
        String safetyClass() {
            List<String> safe = new ArrayList<>(), broken = new ArrayList<>();
            verdicts.forEach((g, v) -> (v.equals("safe") ? safe : broken).add(v.equals("safe") ? g : g + ": " + v));
            return (safe.isEmpty() ? "safe against no guest" : "safe against " + String.join(", ", safe))
                    + (broken.isEmpty() ? "" : "; breaks " + String.join("; ", broken));
        }

        long safeGuests() { return verdicts.values().stream().filter("safe"::equals).count(); }

        /** The distinct states of all its checks. */
        long states() { return statesByGuest.values().stream().mapToLong(Long::longValue).sum(); }

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

    /** A check that stopped without a verdict: which design, which guest, and why. */
    static final class NoVerdict extends RuntimeException {
        NoVerdict(String message) {
            super(message, null, false, false);
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
        if (maxStates < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--max-states must be at least 1");
        for (String o : new String[] {"--design", "--no-stuff-tce", "--no-indirect", "--no-clear", "--ddw", "--rx-revokes", "--hostile-guest", "--hazard",
                "--config-id", "--packet-bytes", "--ring-size"}) {
            if (stack.matched(o)) {
                throw new CommandLine.ParameterException(spec.commandLine(), o + ": designs sets it itself (each design, its guests,"
                        + " compare's workloads); choose designs with --only D,D,...");
            }
        }
        if (stack.effectiveHazard() != null) throw new CommandLine.ParameterException(spec.commandLine(), "--hazard: designs checks the seed's traffic");
        if (html != null) Files2.outputFile("--html", html);
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
        List<Result> results;
        try {
            results = run(designs, base, small);
        } catch (NoVerdict e) {
            out.println("no verdict: " + e.getMessage());
            out.flush();
            return 3;
        }
        // The page first: a failure to write it leaves nothing on stdout, not a document that looks complete.
        if (html != null) Files2.writeWhole(html, page(results, base, small));
        if (json) Stdout.document(out, Json.write(asJson(results, base, small)), "JSON");
        else {
            print(out, results, base, small);
            if (html != null) out.println("page written to " + html);
        }
        out.flush();
        return 0;
    }

    /** Checks and prices every design, {@code workers} checks at a time; throws NoVerdict when a check has none. */
    private List<Result> run(List<Design> designs, StackConfig base, StackConfig small) throws InterruptedException, ExecutionException {
        CostModel model = CostModel.defaults();
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<Result>> fs = new ArrayList<>();
            for (Design d : designs) fs.add(pool.submit(() -> one(d, base, small, model, maxStates)));
            List<Result> rs = new ArrayList<>();
            for (Future<Result> f : fs) {
                try {
                    rs.add(f.get());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof NoVerdict nv) throw nv;
                    throw e;
                }
            }
            return rs;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Design {@code d} checked against each guest (its configuration, its properties) and priced as compare prices it. */
    private static Result one(Design d, StackConfig base, StackConfig small, CostModel model, long maxStates) {
        Map<String, String> verdicts = new LinkedHashMap<>();
        Map<String, Long> states = new LinkedHashMap<>();
        for (Guest g : Guest.values()) {
            StackConfig cfg = g.config(small, d);
            Checker.Result r = new Checker(() -> new Stack(cfg, Trace.off()), new Checker.Options(maxStates, 1, true, null, g.properties())).run();
            if (r.verdict() == Checker.Verdict.INCOMPLETE) {
                throw new NoVerdict("the check of " + d + " against the guest " + g.label() + " stopped (" + r.stopped() + ")"
                        + (r.stopped() != null && r.stopped().startsWith("state limit") ? "; raise --max-states" : ""));
            }
            verdicts.put(g.label(), r.verdict() == Checker.Verdict.SAFE ? "safe" : r.violation().property().label());
            states.put(g.label(), r.distinct());
        }
        CostSummary[] price = CompareCommand.price(base, d, model);
        return new Result(d, verdicts, states, price[0], price[1]);
    }

    /**
     * The frontier: by safety class (most guests kept first; of classes that keep as many, the one with the highest
     * throughput first), the designs no other design of the class beats on every cost.
     */
    static Map<String, List<Result>> frontier(List<Result> results) {
        Map<String, List<Result>> byClass = new LinkedHashMap<>();
        results.forEach(r -> byClass.computeIfAbsent(r.safetyClass(), k -> new ArrayList<>()).add(r));
        java.util.function.ToDoubleFunction<List<Result>> fastest = rs -> rs.stream().mapToDouble(r -> r.stream().gbps()).max().orElse(0);
        List<List<Result>> classes = new ArrayList<>(byClass.values());
        classes.sort(java.util.Comparator.<List<Result>>comparingLong(rs -> rs.get(0).safeGuests()).reversed()
                .thenComparing(java.util.Comparator.comparingDouble(fastest).reversed()));
        Map<String, List<Result>> out = new LinkedHashMap<>();
        for (List<Result> rs : classes) out.put(rs.get(0).safetyClass(), rs.stream().filter(r -> rs.stream().noneMatch(o -> o.beats(r))).toList());
        return out;
    }

    private static Result d0(List<Result> rs) {
        return rs.stream().filter(r -> r.design().equals(Design.D0)).findFirst().orElseThrow();
    }

    private static String rel(double v, double d0) {
        return String.format(Locale.ROOT, "%.2fx", d0 == 0 ? 0 : v / d0);
    }

    /** D0's figures, which the others are relative to: "1.14 Gbit/s, 19092 ns CPU per packet, 47.4 us per RR transaction". */
    private static String d0Figures(Result d0) {
        return Figures.cell(d0.stream().timed(), "%.2f", d0.stream().gbps()) + " Gbit/s, "
                + Figures.cell(d0.stream().packets() > 0, "%.0f", d0.stream().cpuNsPerPacket()) + " ns CPU per packet, "
                + Figures.cell(d0.rr().transactionNs() > 0, "%.1f", d0.rr().transactionNs() / 1e3) + " us per RR transaction";
    }

    private static String guestLabels() {
        return String.join(", ", java.util.Arrays.stream(Guest.values()).map(Guest::label).toList());
    }

    private void print(PrintWriter out, List<Result> results, StackConfig base, StackConfig small) {
        out.println(StackOptions.erasLine(base));
        out.println(SKIPPED);
        out.printf("%d designs, each checked against %d guests (%s) and priced on TCP_STREAM and TCP_RR (throughput, CPU per packet, RR transaction time relative to D0).%n",
                results.size(), Guest.values().length, guestLabels());
        out.println("Each design D is checked against each guest as ./tcesim check --design D (on the host and eras above) with:");
        int labelWidth = java.util.Arrays.stream(Guest.values()).mapToInt(g -> g.label().length()).max().orElse(1);
        for (Guest g : Guest.values()) {
            String flags = g.checkFlags(small);
            out.printf("  %-" + labelWidth + "s  %s%n", g.label(), flags.isEmpty() ? "(no flag)" : flags);
        }
        out.println("check --all's five guests are checked for every property.");
        for (Guest g : new Guest[] {Guest.RX_BACK, Guest.HOSTILE}) out.println(wrap(g.label() + ": " + g.why(small) + ".", "", 118));
        Result d0 = d0(results);
        out.println();
        StringBuilder header = new StringBuilder(String.format("%-42s ", "design"));
        for (Guest g : Guest.values()) header.append(String.format("%-" + g.width() + "s ", g.column));
        out.printf("%s%9s %7s %7s %7s%n", header, "states", "STREAM", "CPU/pk", "RR");
        for (Result r : results) {
            StringBuilder cells = new StringBuilder();
            for (Guest g : Guest.values()) cells.append(String.format("%-" + g.width() + "s ", r.verdicts().get(g.label())));
            out.printf(Locale.ROOT, "%-42s %s%9d %7s %7s %7s%n", r.design(), cells, r.states(), rel(r.stream().gbps(), d0.stream().gbps()),
                    rel(r.stream().cpuNsPerPacket(), d0.stream().cpuNsPerPacket()), rel(r.rr().transactionNs(), d0.rr().transactionNs()));
        }
        out.println();
        out.printf(Locale.ROOT, "Pareto frontier: by safety class (most guests kept first; of as many, the fastest first), the designs no other of the"
                + " class matches on every cost with fewer changed mechanisms (relative to D0: %s)%n", d0Figures(d0));
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

    private static List<Object> guestsJson(StackConfig small) {
        List<Object> gs = new ArrayList<>();
        for (Guest g : Guest.values()) {
            gs.add(ordered("guest", g.label(), "checkFlags", g.checkFlags(small), "properties", g.properties().stream().map(Violation.Property::key).toList(),
                    "why", g.why(small)));
        }
        return gs;
    }

    private static Map<String, Object> asJson(List<Result> results, StackConfig base, StackConfig small) {
        Map<String, Object> m = new LinkedHashMap<>(StackOptions.eras(base));
        m.put("skipped", SKIPPED);
        m.put("guests", guestsJson(small));
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
        // As every command's JSON names a property: by its key (stale_access), as --until and --properties take it.
        Map<String, String> verdicts = new LinkedHashMap<>();
        r.verdicts().forEach((g, v) -> verdicts.put(g, v.equals("safe") ? v : Violation.Property.byLabel(v).key()));
        m.put("verdicts", verdicts);
        m.put("safetyClass", r.safetyClass());
        m.put("distinctStates", r.states());
        m.put("distinctStatesByGuest", r.statesByGuest());
        m.put("streamGbps", r.stream().gbps());
        m.put("cpuNsPerPacket", r.stream().cpuNsPerPacket());
        m.put("rrTransactionNs", r.rr().transactionNs());
        m.put("relativeToD0", ordered("throughput", r.stream().gbps() / d0.stream().gbps(), "cpuPerPacket", r.stream().cpuNsPerPacket() / d0.stream().cpuNsPerPacket(),
                "latency", r.rr().transactionNs() / d0.rr().transactionNs()));
        return m;
    }

    /** The HTML page: the frontier drawn, the guests, the table and what each design on the frontier changes. */
    private String page(List<Result> results, StackConfig base, StackConfig small) {
        Result d0 = d0(results);
        List<HtmlReport.Guest> guests = new ArrayList<>();
        for (Guest g : Guest.values()) guests.add(new HtmlReport.Guest(g.label(), g.column, g.checkFlags(small), g.propertiesText(), g.why(small)));
        Map<Design, HtmlReport.DesignRow> rows = new LinkedHashMap<>();
        Map<String, List<Result>> frontier = frontier(results);
        java.util.Set<Design> onFrontier = new java.util.HashSet<>();
        frontier.values().forEach(rs -> rs.forEach(r -> onFrontier.add(r.design())));
        for (Result r : results) {
            rows.put(r.design(), new HtmlReport.DesignRow(r.design().name(), r.design().mechanisms().tokens(), List.copyOf(r.verdicts().values()), r.states(),
                    r.stream().gbps() / d0.stream().gbps(), r.stream().cpuNsPerPacket() / d0.stream().cpuNsPerPacket(),
                    r.rr().transactionNs() / d0.rr().transactionNs(), r.safetyClass(), onFrontier.contains(r.design()), r.design().mechanisms().patches()));
        }
        List<HtmlReport.FrontierClass> classes = new ArrayList<>();
        frontier.forEach((c, rs) -> classes.add(new HtmlReport.FrontierClass(c, List.copyOf(rs.get(0).verdicts().values()),
                rs.stream().map(r -> rows.get(r.design())).toList())));
        return HtmlReport.designs(guests, List.copyOf(rows.values()), classes, StackOptions.erasLine(base) + "; relative to D0: " + d0Figures(d0),
                CostModel.defaults(), command());
    }

    /** The command line that makes the page again. */
    private String command() {
        StringBuilder sb = new StringBuilder("./tcesim designs");
        if (only != null) sb.append(" --only ").append(String.join(",", only.stream().map(Design::name).toList()));
        sb.append(stack.asArgsWithoutDesign());
        if (maxStates != 2_000_000) sb.append(" --max-states ").append(maxStates);
        return sb.toString();
    }
}
