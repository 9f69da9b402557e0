package tcesim.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tcesim.cluster.DistributedCampaign;
import tcesim.explore.Campaign;
import tcesim.sim.StackConfig;

/** {@code tcesim campaign}: many seeded runs of a large configuration. */
@Command(name = "campaign", mixinStandardHelpOptions = true,
        description = {"Run one seeded simulation per seed of a range on a large configuration and report how many break a property.",
                "Memory: each worker holds one run, bounded by the configuration (guest RAM, window, IOTLB, rings); the campaign",
                "keeps only its tally, so the range does not add to it.",
                "With --cluster, the seeds run on the workers (tcesim worker) in blocks, and the result is the same as here; a worker",
                "lost during the campaign loses nothing: its blocks run again on the others.",
                "Exit code: 0 no seed broke a property, 1 some did, 2 bad usage, 3 no verdict: interrupted (Ctrl-C), a seed stopped at",
                "--max-steps, out of memory, or every worker lost, before any seed broke one."})
public final class CampaignCommand implements Callable<Integer> {
    @Mixin
    StackOptions stack = new StackOptions();

    @Option(names = "--seeds", paramLabel = "N|A..B", converter = SeedsOption.Converter.class, defaultValue = "1..20",
            description = "The seeds: N, seeds 1 to N, or A..B, seeds A to B inclusive, as in repro (default: ${DEFAULT-VALUE}).")
    SeedsOption seeds;

    @Option(names = "--workers", paramLabel = "N", description = "Seeds run in parallel (default: ${DEFAULT-VALUE}).")
    int workers = Math.max(1, Runtime.getRuntime().availableProcessors());

    @Option(names = "--max-steps", paramLabel = "N", description = "Stop a run after N steps (default: ${DEFAULT-VALUE}).")
    long maxSteps = 5_000_000;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Mixin
    ClusterOptions cluster = new ClusterOptions();

    @Option(names = "--block-seeds", paramLabel = "N",
            description = "With --cluster: seeds a worker is sent at a time (default: chosen from the range and the workers' threads).")
    long blockSeeds;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        long[] range = seeds.bounds(1);
        if (workers < 1 || workers > 256) throw new CommandLine.ParameterException(spec.commandLine(), "--workers must be 1..256");
        if (maxSteps < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--max-steps must be at least 1");
        if (blockSeeds < 0) throw new CommandLine.ParameterException(spec.commandLine(), "--block-seeds must not be negative");
        if (cluster.on()) cluster.members();
        StackConfig cfg = stack.toConfig();
        String err = cfg.validate();
        if (err != null) throw new IllegalArgumentException(err); // one line: the configuration, not the flags' syntax
        PrintWriter out = spec.commandLine().getOut();
        long total = range[1] - range[0] + 1;
        Progress progress = json ? null : new Progress(spec.commandLine().getErr(), total, System.console() != null, workers);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        if (cluster.on()) return onCluster(out, cfg, range, total, progress, stop);
        try (Interrupt i = new Interrupt(() -> stop.set(true))) {
            Campaign.Result r = Campaign.run(cfg, range[0], range[1], maxSteps, workers, run -> {
                if (progress != null && !stop.get()) progress.tick();
            }, stop::get);
            if (progress != null) progress.finish();
            return i.exit(report(out, cfg, range, total, r));
        }
    }

    /** The campaign on the workers of a cluster, this process coordinating. */
    private int onCluster(PrintWriter out, StackConfig cfg, long[] range, long total, Progress progress, java.util.concurrent.atomic.AtomicBoolean stop) {
        com.hazelcast.core.HazelcastInstance client = cluster.connect();
        try (Interrupt i = new Interrupt(() -> stop.set(true))) {
            DistributedCampaign.Outcome o = DistributedCampaign.run(client, cfg, range[0], range[1], maxSteps, blockSeeds, n -> {
                if (progress != null) progress.tick(n);
            }, stop::get);
            if (progress != null) progress.finish();
            return i.exit(report(out, cfg, range, total, o.result(), o));
        } finally {
            client.shutdown();
        }
    }

    /** The report, also of an interrupted campaign (printed from the main thread while the Ctrl-C hook waits for it). */
    private int report(PrintWriter out, StackConfig cfg, long[] range, long total, Campaign.Result r) {
        return report(out, cfg, range, total, r, null);
    }

    /** @param o how the campaign went on a cluster, or null for a local one */
    private int report(PrintWriter out, StackConfig cfg, long[] range, long total, Campaign.Result r, DistributedCampaign.Outcome o) {
        Campaign.Run first = r.firstFailing();
        String replay = first == null ? null : "./tcesim repro --seed " + first.seed() + stack.asArgs() + " --max-steps " + maxSteps;
        // Runs are tallied in seed order, so the seeds done are the range's first ones: the rest is one range again.
        String rest = r.stopped() && r.seeds() < total
                ? "./tcesim campaign" + stack.asArgs() + " --seeds " + (range[0] + r.seeds()) + ".." + range[1] + " --max-steps " + maxSteps : null;
        double fraction = r.seeds() == 0 ? Double.NaN : (double) r.failing() / r.seeds(); // no seed run: no fraction
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("design", cfg.design().name());
            m.put("seeds", total);
            if (o != null) {
                m.put("workers", o.workers());
                m.put("workersLost", o.lost());
                m.put("workersJoined", o.joined());
                m.put("blocksByWorker", o.blocksByWorker());
                m.put("blocksRerun", o.blocksRerun());
                if (o.noVerdict() != null) m.put("noVerdict", o.noVerdict());
            }
            if (r.stopped()) {
                m.put("interrupted", o == null || o.noVerdict() == null);
                m.put("seedsRun", r.seeds());
                if (rest != null) m.put("rest", rest);
            }
            m.put("failing", r.failing());
            m.put("unfinished", r.unfinished());
            m.put("fraction", Figures.round(fraction));
            if (first != null) {
                m.put("firstFailingSeed", first.seed());
                m.put("property", first.violation().property().key());
                m.put("replay", replay);
            }
            m.put("packets", r.packets());
            m.put("steps", r.steps());
            Stdout.document(out, Json.write(m), "JSON");
        } else {
            out.printf("tcesim campaign: design %s, seeds %d..%d%n", cfg.design(), range[0], range[1]);
            if (o != null) {
                out.printf("on %d workers of %s, blocks of %d seeds%n", o.workers(), tcesim.cluster.ClusterSettings.clusterName(Main.VERSION), o.blockSeeds());
                for (String w : o.joined()) out.printf("worker %s joined during the campaign and answered %d blocks%n", w, o.blocksByWorker().get(w));
                for (String w : o.lost()) out.printf("worker %s was lost during the campaign%n", w);
                if (!o.lost().isEmpty()) out.printf("%d blocks it held were run again on the others; none is counted twice%n", o.blocksRerun());
            }
            if (o != null && o.noVerdict() != null) {
                out.printf("No verdict for the rest: %s; %d of %d seeds run, the figures below are for those.%n", o.noVerdict(), r.seeds(), total);
            } else if (r.stopped()) {
                out.printf("Interrupted: %d of %d seeds run; the figures below are for those.%n", r.seeds(), total);
            }
            if (rest != null) out.printf("the rest: %s%n", rest);
            out.printf(java.util.Locale.ROOT, "%d of %d seeds break a property%s; %d packets and %d steps simulated%n", r.failing(), r.seeds(),
                    r.seeds() == 0 ? "" : String.format(java.util.Locale.ROOT, " (%.1f %%)", 100.0 * fraction), r.packets(), r.steps());
            if (r.unfinished() > 0) {
                out.printf("%d of %d seeds did not finish in %d steps: no verdict for them (raise --max-steps)%n", r.unfinished(), r.seeds(), maxSteps);
            }
            if (first != null) {
                out.printf("first failing seed: %d (%s at step %d)%nreplay: %s%n", first.seed(), first.violation().property().label(),
                        first.violation().step(), replay);
            }
        }
        out.flush();
        return r.failing() > 0 ? 1 : r.stopped() || r.unfinished() > 0 ? 3 : 0;
    }

    /** A progress bar with ETA on a terminal, a plain line every tenth otherwise. Timing is for display only. */
    static final class Progress {
        private final PrintWriter err;
        private final long total;
        private final boolean terminal;
        private final int workers;
        private final AtomicLong done = new AtomicLong();
        private final long t0 = System.nanoTime();
        private long lastTenth = -1;

        Progress(PrintWriter err, long total, boolean terminal, int workers) {
            this.err = err;
            this.total = total;
            this.terminal = terminal;
            this.workers = workers;
        }

        /**
         * Seconds left after {@code done} of {@code total} seeds in {@code secs} on {@code workers} threads. The first
         * runs all start at once and end about together: until as many runs as workers are done, each took about
         * {@code secs}, and that many go on at a time; afterwards the rate is the runs done over the time taken.
         */
        static long eta(long done, long total, double secs, int workers) {
            if (done <= 0) return 0;
            double rate = Math.max(done, Math.min(workers, total)) / secs;
            return Math.round((total - done) / rate);
        }

        void tick() {
            tick(1);
        }

        synchronized void tick(long n) {
            long d = done.addAndGet(n);
            double secs = (System.nanoTime() - t0) / 1e9;
            long eta = eta(d, total, secs, workers);
            if (terminal) {
                int width = 30;
                int fill = (int) (width * d / total);
                err.printf("\r[%s%s] %d/%d seeds, ETA %ds ", "#".repeat(fill), ".".repeat(width - fill), d, total, eta);
            } else {
                long tenth = d * 10 / total;
                if (tenth != lastTenth) {
                    lastTenth = tenth;
                    err.printf("%d/%d seeds done, ETA %ds%n", d, total, eta);
                }
            }
            err.flush();
        }

        void finish() {
            if (terminal) err.println();
            err.flush();
        }
    }
}
