package tcesim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tcesim.explore.Campaign;
import tcesim.explore.Checker;
import tcesim.explore.Independence;
import tcesim.kvm.HostCaps;
import tcesim.sim.Chooser;
import tcesim.sim.Design;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.state.StateReader;
import tcesim.state.StateWriter;

/**
 * {@code tcesim bench}: the speed targets, measured here and printed as ratios (never asserted in tests:
 * the machines are shared and noisy).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure checker states/s on the standard small configuration and simulated packets/s on the large one,",
                "and print each against its target: medians of --repeat runs on one core, after a warm-up, timed by the",
                "thread's CPU time (so that other load on a shared machine does not count) and by the wall clock, with the share",
                "of it in the collector's pauses; then a campaign",
                "of the large configuration on every core, timed by the wall clock.",
                "With --cluster: the distributed path instead, the same check and a campaign run here and on the workers, by the wall",
                "clock: states/s, packets/s, bytes sent per state, and the overhead per state and per seed against the local run."})
public final class BenchCommand implements Callable<Integer> {
    /** 10 GbE line rate in 1500-byte frames: 10^10 / ((1500 + 38) * 8) = 812,744 frames/s (38 = Ethernet header, FCS, preamble, inter-frame gap). */
    static final double LINE_RATE_PPS = 1e10 / ((1500 + 38) * 8.0);
    static final double CHECK_TARGET = 1_000_000;
    /** --bounds' targets: a design's five checks with two vCPUs, on one core; the three-packet table, on every core. */
    static final int VCPU2_TARGET_S = 60, PACKETS3_TARGET_S = 120;
    /** The simulation's target: twice 10 GbE line rate on one core, so that a simulated second takes at most half a second. */
    static final double SIM_MULTIPLE = 2;
    static final double SIM_TARGET = SIM_MULTIPLE * LINE_RATE_PPS;

    /** The standard small configuration the checker's rate is measured on (also by the JMH benchmarks): {@code check}'s, under D2. */
    public static StackConfig smallConfig() {
        return Design.D2.applyTo(StackOptions.small().toConfig());
    }

    /** The JVM the figures come from: its version, its collector (./tcesim picks the parallel one) and the cores it sees. */
    static String jvm() {
        String collectors = java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(java.lang.management.GarbageCollectorMXBean::getName).collect(java.util.stream.Collectors.joining(", "));
        return String.format("Java %s, collectors %s, %d cores", Runtime.version(), collectors, Runtime.getRuntime().availableProcessors());
    }

    /** The standard large configuration the simulation's rate is measured on: the seed's stack, 20,000 packets each way. */
    public static StackConfig largeConfig() {
        return StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(20_000).txPackets(20_000).build();
    }

    @Option(names = "--repeat", paramLabel = "N", description = "Runs per measurement (default: ${DEFAULT-VALUE}).")
    int repeat = 5;

    @Option(names = "--warmup", paramLabel = "SECONDS", description = "Warm-up time before each measurement, at least 3 runs (default: ${DEFAULT-VALUE}).")
    int warmup = 5;

    @Option(names = "--bounds", description = {"Instead: the bounds a check should reach in minutes: every design of check --all against its five guests"
            + " with two vCPUs (target: each design's five checks within " + VCPU2_TARGET_S + " s of one core), and check --all's table at three packets"
            + " each way on every core (target: within " + PACKETS3_TARGET_S + " s); each check stops at --max-states without a verdict."})
    boolean bounds;

    @Option(names = "--independence", description = {"Instead: how often two steps of different actors enabled in the same state commute (both"
            + " orders reach the same state), on the states of seeded random walks of the small configuration: the room a sleep-set reduction"
            + " would have. It measures, it proves nothing."})
    boolean independence;

    @Option(names = "--walks", paramLabel = "N", description = "With --independence: random walks sampled (default: ${DEFAULT-VALUE}).")
    int walks = 3000;

    @Option(names = "--seed", paramLabel = "N", description = "With --independence: the walks' seed (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--max-states", paramLabel = "N", description = "With --bounds: the state limit of each check (default: ${DEFAULT-VALUE}).")
    long maxStates = 2_000_000;

    @picocli.CommandLine.Mixin
    ClusterOptions cluster = new ClusterOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (repeat < 1 || repeat > 100) throw new CommandLine.ParameterException(spec.commandLine(), "--repeat must be 1..100");
        if (warmup < 0 || warmup > 600) throw new CommandLine.ParameterException(spec.commandLine(), "--warmup must be 0..600 seconds");
        PrintWriter out = spec.commandLine().getOut();
        // An option of a mode that does not run would be ignored: refused instead.
        onlyWith(independence, "--independence", "--walks", "--seed");
        onlyWith(bounds, "--bounds", "--max-states");
        if (independence) notWith("--independence", "--repeat", "--warmup");
        if (independence) {
            if (bounds || cluster.on()) throw new CommandLine.ParameterException(spec.commandLine(), "--independence goes alone: not with --bounds or --cluster");
            if (walks < 1 || walks > 10_000_000) throw new CommandLine.ParameterException(spec.commandLine(), "--walks must be 1..10000000");
            independence(out, smallConfig(), walks, seed);
            return 0;
        }
        if (bounds) {
            if (cluster.on()) throw new CommandLine.ParameterException(spec.commandLine(), "--bounds measures checks on this machine: not with --cluster");
            if (maxStates < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--max-states must be at least 1");
            spec.commandLine().getErr().printf("bench: %s%n", jvm());
            bounds(out, spec.commandLine().getErr(), StackOptions.small().toConfig(), CheckCommand.designsOn(StackOptions.small().toConfig().host(), true),
                    maxStates, Runtime.getRuntime().availableProcessors());
            return 0;
        }
        if (cluster.on()) {
            com.hazelcast.core.HazelcastInstance client = cluster.connect();
            try {
                int cores = Runtime.getRuntime().availableProcessors();
                distributed(out, client, smallConfig(), largeConfig(), 4L * cores, cores, repeat);
            } finally {
                client.shutdown();
            }
            return 0;
        }
        // What it is doing, on stderr, so that the figures on stdout stay a table: each measurement takes a while.
        PrintWriter err = spec.commandLine().getErr();
        err.printf("bench: %s%n", jvm());
        err.printf("bench: the checker on the small configuration (%d s warm-up, %d timed runs) ...%n", warmup, repeat);
        err.flush();
        StackConfig small = smallConfig();
        long[] distinct = new long[1];
        long[] steps = new long[1];
        double[] packed = new double[1];
        Rate states = measure(() -> {
            Checker c = new Checker(() -> new Stack(small, Trace.off()), new Checker.Options(10_000_000, 1, true, null));
            Checker.Result r = c.run();
            distinct[0] = r.distinct();
            steps[0] = c.steps();
            packed[0] = c.packedShare();
            return r.distinct();
        });
        out.printf("checker, small configuration (D2, %d distinct states): %.0f distinct states/s (%s); target %.0f: %.3f of target%n",
                distinct[0], states.cpu(), states.wallClock(), CHECK_TARGET, states.cpu() / CHECK_TARGET);
        out.printf("  the levels' states kept packed in %.2f of their saved words%n", packed[0]);
        err.printf("bench: the same check depth-first from the root (%d s warm-up, %d timed runs) ...%n", warmup, repeat);
        err.flush();
        Rate deep = measure(() -> new Checker(() -> new Stack(small, Trace.off()), new Checker.Options(10_000_000, 1, true, null, java.util.EnumSet.allOf(tcesim.sim.Violation.Property.class),
                Long.MAX_VALUE, null, null, 1)).run().distinct());
        out.printf("  depth-first, as a check goes on past a level larger than --frontier-limit: %.0f distinct states/s (%s): %.3f of target%n",
                deep.cpu(), deep.wallClock(), deep.cpu() / CHECK_TARGET);
        double perStep = stepNanos(small);
        double perState = (double) steps[0] / distinct[0];
        double ceiling = 1e9 / (perStep * perState);
        out.printf("  of which the model's steps: %.0f ns a step (seeded runs of the same configuration), %.2f steps per distinct state, so at"
                + " most %.0f distinct states/s if saving, restoring, hashing and the search cost nothing: %.3f of target%n",
                perStep, perState, ceiling, ceiling / CHECK_TARGET);
        err.printf("bench: the checker's time per distinct state by phase (%d timed runs) ...%n", repeat);
        err.flush();
        phases(out, small);

        err.printf("bench: the simulation of the large configuration, one core ...%n");
        err.flush();
        StackConfig large = largeConfig();
        long[] seed = {0};
        long[] simSteps = new long[2];
        Rate pps = measure(() -> {
            Campaign.Run run = Campaign.one(large, ++seed[0], 10_000_000);
            simSteps[0] = run.steps();
            simSteps[1] = run.packets();
            return run.packets();
        });
        out.printf("simulation, large configuration (seed stack, 1 GiB window, 40000 packets, as campaigns run it: oracles on every access, no"
                + " packet bytes): %.0f packets/s (%s); 10 GbE line rate %.0f packets/s; target %.0fx line rate: %.3f of target (%.2fx line rate)%n",
                pps.cpu(), pps.wallClock(), LINE_RATE_PPS, SIM_MULTIPLE, pps.cpu() / SIM_TARGET, pps.cpu() / LINE_RATE_PPS);
        double stepsPerPacket = (double) simSteps[0] / simSteps[1];
        out.printf("  %.1f steps a packet at %.0f ns a step; the target needs %.1f ns a step%n", stepsPerPacket, 1e9 / (pps.cpu() * stepsPerPacket),
                1e9 / (SIM_TARGET * stepsPerPacket));
        // A campaign spreads its seeds over every core: what a user waits for is its wall-clock rate on the machine.
        int cores = Runtime.getRuntime().availableProcessors();
        int seeds = 4 * cores;
        err.printf("bench: a campaign of %d seeds on %d cores, %d times ...%n", seeds, cores, repeat);
        err.flush();
        double[] wall = new double[repeat];
        double[] perCpu = new double[repeat];
        double[] share = new double[repeat];
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (int i = 0; i < repeat; i++) {
            long from = 1_000 + (long) i * seeds;
            long c0 = os.getProcessCpuTime();
            long w0 = System.nanoTime();
            long packets = Campaign.run(large, from, from + seeds - 1, 10_000_000, cores, null).packets();
            double secs = (System.nanoTime() - w0) / 1e9;
            double cpu = (os.getProcessCpuTime() - c0) / 1e9;
            wall[i] = packets / secs;
            perCpu[i] = packets / cpu;
            share[i] = cpu / secs;
        }
        double all = median(wall);
        out.printf("campaign, large configuration on all %d cores (%d seeds a run, wall clock): %.0f packets/s; %.3f of target (%.2fx line rate)%n",
                cores, seeds, all, all / SIM_TARGET, all / LINE_RATE_PPS);
        // Whether the campaign scales is two questions: does a packet cost more CPU on several threads (a lock, false
        // sharing, the collector), and did the process get the cores at all (a machine busy with other work).
        out.printf("  %.0f packets a second of the process's CPU time (one core alone: %.0f); the process had %.2f of the %d cores%n", median(perCpu), pps.cpu(),
                median(share), cores);
        out.flush();
        return 0;
    }

    /** Refuses {@code options} when {@code mode} is not asked for: they would be ignored. */
    private void onlyWith(boolean mode, String modeName, String... options) {
        if (mode) return;
        for (String o : options) {
            if (spec.commandLine().getParseResult().hasMatchedOption(o)) throw new IllegalArgumentException(o + " goes with " + modeName + ": leave it out (it would be ignored)");
        }
    }

    /** Refuses {@code options}, which {@code mode} does not use. */
    private void notWith(String mode, String... options) {
        for (String o : options) {
            if (spec.commandLine().getParseResult().hasMatchedOption(o)) throw new IllegalArgumentException(mode + " times nothing: leave out " + o + " (it would be ignored)");
        }
    }

    /** Walks longer than any run of the small configuration (about a hundred steps), so that each walk runs to its end. */
    static final int WALK_STEPS = 1000;

    /** The census of commuting pairs of steps on {@code cfg} ({@link Independence}), by pair, with the line that repeats it. */
    static void independence(PrintWriter out, StackConfig cfg, int walks, long seed) {
        Independence.Census c = Independence.sample(() -> new Stack(cfg, Trace.off()), seed, walks, WALK_STEPS);
        out.printf(java.util.Locale.ROOT, "independence, small configuration (D2, %d random walks, seed %d): %d of %d pairs of steps of different actors"
                + " enabled together commute (%.0f%%)%n", walks, seed, c.commuting(), c.tried(), 100 * c.share());
        for (Independence.Pair p : c.pairs()) {
            out.printf(java.util.Locale.ROOT, "  %-28s %-28s %7d of %7d%n", p.first(), p.second(), p.commuting(), p.tried());
        }
        out.printf("replay: ./tcesim bench --independence --walks %d --seed %d%n", walks, seed);
        out.flush();
    }

    /**
     * The distributed path against the local one, by the wall clock (the workers' CPU time is not ours to read): the
     * check of {@code checkCfg} with one thread here and on the workers, then a campaign of {@code seeds} seeds of
     * {@code campaignCfg} on {@code threads} threads here and on the workers; medians of --repeat runs after a
     * warm-up run of each. On a machine whose cores the workers share with this process, the overhead is the figure
     * that means something, not the speed-up.
     */
    public static void distributed(PrintWriter out, com.hazelcast.core.HazelcastInstance client, StackConfig checkCfg, StackConfig campaignCfg, long seeds,
                                   int threads, int repeat) {
        java.util.Set<tcesim.sim.Violation.Property> all = java.util.EnumSet.allOf(tcesim.sim.Violation.Property.class);
        int workers = client.getCluster().getMembers().size();
        long[] distinct = new long[1];
        long[] sent = new long[2];
        double local = wallRate(repeat, () -> {
            Checker.Result r = new Checker(() -> new Stack(checkCfg, Trace.off()), new Checker.Options(100_000_000, 1, true, null)).run();
            distinct[0] = r.distinct();
            return r.distinct();
        });
        double remote = wallRate(repeat, () -> {
            try {
                tcesim.cluster.DistributedCheck.Outcome o = tcesim.cluster.DistributedCheck.run(client, checkCfg, all, true, 100_000_000, () -> false, null);
                if (o.lost() != null) throw new IllegalStateException("worker " + o.lost() + " was lost during the benchmark");
                sent[0] = o.statesSent();
                sent[1] = o.bytesSent();
                return o.result().distinct();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // With one worker, it owns every state and none is sent: a size per state sent does not apply.
        String bytes = sent[0] == 0 ? "no state sent (one worker owns them all)"
                : String.format(java.util.Locale.ROOT, "%.0f bytes sent per state sent (%d of them), %.0f per distinct state", (double) sent[1] / sent[0], sent[0],
                        (double) sent[1] / distinct[0]);
        out.printf(java.util.Locale.ROOT, "check, %s (%d distinct states), wall clock: here on 1 thread %.0f distinct states/s; on %d workers %.0f distinct states/s;"
                + " %s; overhead %.1f us a distinct state%n", checkCfg.design(), distinct[0], local, workers, remote, bytes, 1e6 / remote - 1e6 / local);
        long from = 1_000;
        long[] packets = new long[1];
        double localPps = wallRate(repeat, () -> packets[0] = Campaign.run(campaignCfg, from, from + seeds - 1, 10_000_000, threads, null).packets());
        double remotePps = wallRate(repeat, () -> tcesim.cluster.DistributedCampaign.run(client, campaignCfg, from, from + seeds - 1, 10_000_000, 0, null,
                () -> false).result().packets());
        // Both ran the same seeds, so the same packets: the difference in time, shared among the seeds.
        double overheadMs = 1e3 * (packets[0] / remotePps - packets[0] / localPps) / seeds;
        out.printf("campaign, %d seeds (%d packets), wall clock: here with %d threads %.0f packets/s; on %d workers %.0f packets/s;"
                + " overhead %.2f ms a seed%n", seeds, packets[0], threads, localPps, workers, remotePps, overheadMs);
        out.flush();
    }

    /**
     * The bounds a check should reach: {@code designs} against check --all's guests (its cells) on {@code small} with two
     * vCPUs, each check on one core, timed by the thread's CPU time and summed by design; then the table at three packets
     * each way, each check on {@code cores} threads, by the wall clock. A check stops at {@code maxStates} without a verdict,
     * and the lines say how many did.
     */
    static void bounds(PrintWriter out, PrintWriter err, StackConfig small, List<Design> designs, long maxStates, int cores) {
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        err.printf("bench: every design against check --all's guests with two vCPUs, one core ...%n");
        err.flush();
        Tally two = new Tally(maxStates);
        String slowest = null;
        double slowestS = 0;
        for (Design d : designs) {
            long t0 = cpu.getCurrentThreadCpuTime();
            two.checkAll(small.withVcpus(2), d);
            double s = (cpu.getCurrentThreadCpuTime() - t0) / 1e9;
            if (s >= slowestS) {
                slowestS = s;
                slowest = d.name();
            }
        }
        out.printf(java.util.Locale.ROOT, "two vCPUs, two packets each way: %s; the slowest design, %s, %.1f s of one core over its guests; target %d s a design: %s%n",
                two, slowest, slowestS, VCPU2_TARGET_S, meets(slowestS, VCPU2_TARGET_S));
        out.flush();
        err.printf("bench: check --all at three packets each way, %d checks side by side ...%n", cores);
        err.flush();
        Tally three = new Tally(maxStates);
        long w0 = System.nanoTime();
        List<java.util.function.Supplier<Checker>> checks = new ArrayList<>();
        StackConfig packets3 = small.toBuilder().rxPackets(3).txPackets(3).build();
        for (Design d : designs) for (StackConfig c : Tally.cells(packets3, d)) checks.add(() -> three.checker(c));
        try (TableChecks table = new TableChecks(checks, cores).start()) {
            for (int k = 0; k < checks.size(); k++) three.add(table.result(k));
        }
        double wall = (System.nanoTime() - w0) / 1e9;
        out.printf(java.util.Locale.ROOT, "three packets each way: %s; the table %.1f s of wall clock, %d check%s side by side (check --all --workers %d); target %d s: %s%n",
                three, wall, cores, cores == 1 ? "" : "s", cores, PACKETS3_TARGET_S,
                three.incomplete == 0 ? meets(wall, PACKETS3_TARGET_S) : "not reached (checks without a verdict)");
        out.flush();
    }

    /** --bounds' checks of one kind: how many, how many a state limit stopped, the most distinct states of one. */
    private static final class Tally {
        final long maxStates;
        int checks, incomplete;
        long largest;

        Tally(long maxStates) {
            this.maxStates = maxStates;
        }

        /** The configurations of design {@code d} against check --all's guests (its cells) on {@code base}. */
        static List<StackConfig> cells(StackConfig base, Design d) {
            List<StackConfig> cs = new ArrayList<>();
            for (CheckCommand.Variant v : CheckCommand.Variant.values()) if (CheckCommand.inTable(d, v)) cs.add(CheckCommand.row(base, d, v));
            return cs;
        }

        /** The check of {@code c}, on one thread, as check --all runs it. */
        Checker checker(StackConfig c) {
            return new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(maxStates, 1, true, null, c.defaultProperties()));
        }

        /** Design {@code d} against check --all's guests on {@code base}, one check after the other on this thread. */
        void checkAll(StackConfig base, Design d) {
            for (StackConfig c : cells(base, d)) add(checker(c).run());
        }

        void add(Checker.Result r) {
            largest = Math.max(largest, r.distinct());
            checks++;
            if (r.verdict() == Checker.Verdict.INCOMPLETE) incomplete++;
        }

        @Override
        public String toString() {
            return checks + " checks (" + (incomplete == 0 ? "each with a verdict" : incomplete + " without a verdict at " + maxStates + " states")
                    + "), the largest " + largest + " distinct states";
        }
    }

    /** A time against its target: met, or how many times over. */
    private static String meets(double seconds, double target) {
        return seconds <= target ? "met" : String.format(java.util.Locale.ROOT, "%.1fx over", seconds / target);
    }

    /** Units of work a second of the wall clock, the median of --repeat runs after one warm-up run. */
    private static double wallRate(int repeat, java.util.function.LongSupplier work) {
        work.getAsLong();
        double[] rate = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long w0 = System.nanoTime();
            long units = work.getAsLong();
            rate[i] = units / ((System.nanoTime() - w0) / 1e9);
        }
        return median(rate);
    }

    /**
     * Where a check's time goes, per distinct state: runs of the checker that read the clock around each phase of an
     * expansion (restoring the state, the model's steps with the search for the enabled ones and the oracles, saving
     * the successor, hashing its words); the rest is the search's bookkeeping (the seen set, the successors' records,
     * the merge into the next level). Each phase's share of the run's wall clock, applied to the run's CPU time per
     * distinct state; the run with the median CPU time is printed, whole, so that the phases add up.
     */
    private void phases(PrintWriter out, StackConfig cfg) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        java.util.function.Supplier<Checker> timed = () -> new Checker(() -> new Stack(cfg, Trace.off()), new Checker.Options(10_000_000, 1, true, null), 0, true);
        timed.get().run(); // the timing's branches, compiled
        double[][] runs = new double[repeat][];
        for (int i = 0; i < repeat; i++) {
            Checker c = timed.get();
            long c0 = mx.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            long distinct = c.run().distinct();
            double cpu = (double) (mx.getCurrentThreadCpuTime() - c0) / distinct;
            double wall = System.nanoTime() - w0;
            Checker.Phases p = c.phases();
            double[] share = {p.step() / wall, p.save() / wall, p.restore() / wall, p.hash() / wall, 1 - p.sum() / wall};
            runs[i] = new double[] {cpu, share[0], share[1], share[2], share[3], share[4]};
        }
        Arrays.sort(runs, java.util.Comparator.comparingDouble(r -> r[0]));
        double[] r = runs[(repeat - 1) / 2];
        String[] names = {"step", "save", "restore", "hash", "bookkeeping"};
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            b.append(i == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT, "%s %.0f ns (%.0f%%)", names[i], r[0] * r[i + 1], 100 * r[i + 1]));
        }
        out.printf(java.util.Locale.ROOT, "  by phase (runs reading the clock around each): %.0f ns a distinct state: %s%n", r[0], b);
    }

    /**
     * What one step of the model costs on its own, apart from a search around it: seeded runs of {@code cfg}, each
     * from the initial state restored into one stack (as the checker does), less the cost of the restores timed alone.
     * The same seeds in every batch, so every batch takes the same steps.
     */
    private double stepNanos(StackConfig cfg) {
        Stack stack = new Stack(cfg, Trace.off());
        StateWriter initial = new StateWriter();
        stack.save(initial);
        long[] words = initial.toArray();
        StateReader in = new StateReader();
        int runs = 1000;
        long[] steps = new long[1];
        Rate stepped = measure(() -> {
            long n = 0;
            for (int seed = 1; seed <= runs; seed++) {
                stack.restore(in.reset(words, 0, words.length));
                n += Simulation.run(stack, Chooser.seeded(seed), 1_000_000).steps();
            }
            steps[0] = n;
            return n;
        });
        Rate restored = measure(() -> {
            for (int i = 0; i < runs; i++) stack.restore(in.reset(words, 0, words.length));
            return runs;
        });
        return 1e9 * (steps[0] / stepped.cpu() - runs / restored.cpu()) / steps[0];
    }

    /**
     * Units a second of the thread's CPU time and of the wall clock, and the share of the wall clock the collector's
     * pauses took, medians over the repeats (its work on threads of its own is in neither rate; its pauses stop the thread, so they are in the
     * wall clock's alone).
     */
    record Rate(double cpu, double wall, double gcShare) {
        /** "(wall clock N, P% of it in the collector's pauses)". */
        String wallClock() {
            return String.format(java.util.Locale.ROOT, "wall clock %.0f, %.0f%% of it in the collector's pauses", wall, 100 * gcShare);
        }
    }

    /** Warms the JIT up (three runs and at least {@code --warmup} seconds), then times {@code repeat} runs of {@code work}, which returns its unit count. */
    private Rate measure(java.util.function.LongSupplier work) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long warm = System.nanoTime();
        for (int i = 0; i < 3 || System.nanoTime() - warm < warmup * 1_000_000_000L; i++) work.getAsLong();
        double[] cpu = new double[repeat];
        double[] wall = new double[repeat];
        double[] gc = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long g0 = collectorMillis();
            long c0 = mx.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            long units = work.getAsLong();
            cpu[i] = units / ((mx.getCurrentThreadCpuTime() - c0) / 1e9);
            long nanos = System.nanoTime() - w0;
            wall[i] = units / (nanos / 1e9);
            gc[i] = Math.min(1, (collectorMillis() - g0) * 1e6 / nanos);
        }
        return new Rate(median(cpu), median(wall), median(gc));
    }

    /** The milliseconds every collector of this JVM has spent collecting (its pauses, for the parallel collector and G1). */
    private static long collectorMillis() {
        long ms = 0;
        for (var b : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) ms += Math.max(0, b.getCollectionTime());
        return ms;
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }
}
