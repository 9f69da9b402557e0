package tcesim.explore;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import tcesim.sim.Chooser;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * A random campaign: one seeded simulation per seed of a range, on a configuration too large to explore
 * exhaustively. Seeds run in parallel, a bounded window of them in flight (so that a range of millions of seeds
 * holds a few runs at a time, not millions); results are gathered in seed order, so the report does not depend on the number of workers.
 * A stop request (Ctrl-C) ends the campaign between seeds: runs not yet started are dropped, and the result is
 * that of the seeds done.
 */
public final class Campaign {
    /** One seed's run. */
    public record Run(long seed, Simulation.End end, Violation violation, long steps, long packets) implements java.io.Serializable {}

    /**
     * What the runs of a block of consecutive seeds add up to, in seed order: the unit of a campaign spread over
     * several machines. Blocks added to a {@link Tally} in seed order give the same tally, digest included, as their
     * runs one by one.
     *
     * @param digest the runs' part of the digest, starting from 0
     * @param scale 31 to the power of the number of runs (wrapping), which the digest before the block is multiplied by
     */
    public record Block(long seeds, long failing, long unfinished, Run firstFailing, long packets, long steps, long digest, long scale)
            implements java.io.Serializable {}

    /**
     * The campaign's results.
     *
     * @param seeds the seeds run (all of the range, unless stopped)
     * @param firstFailing the run of the lowest failing seed among those run, or null
     * @param digest a hash of every run, in seed order (equal results, equal digests)
     * @param stopped whether a stop request ended the campaign before the end of the range
     * @param unfinished the seeds whose run reached the step limit before its workload finished, without a violation
     */
    public record Result(long seeds, long failing, Run firstFailing, long packets, long steps, long digest, boolean stopped, long unfinished) {}

    /** Seeds submitted and not yet gathered, per worker. */
    static final int IN_FLIGHT_PER_WORKER = 16;

    private Campaign() {}

    /**
     * @param onDone called with each finished run (from worker threads), e.g. for a progress bar
     */
    public static Result run(StackConfig cfg, long fromSeed, long toSeed, long maxSteps, int workers, java.util.function.Consumer<Run> onDone) {
        return run(cfg, fromSeed, toSeed, maxSteps, workers, onDone, () -> false);
    }

    /**
     * @param stop polled between seeds (and while waiting for them): once true, the campaign ends with the seeds done
     */
    public static Result run(StackConfig cfg, long fromSeed, long toSeed, long maxSteps, int workers, java.util.function.Consumer<Run> onDone,
                             java.util.function.BooleanSupplier stop) {
        String err = cfg.validate();
        if (err != null) throw new IllegalArgumentException(err);
        if (toSeed < fromSeed || toSeed - fromSeed < 0 || toSeed - fromSeed == Long.MAX_VALUE) {
            throw new IllegalArgumentException("seed range " + fromSeed + ".." + toSeed + " is empty or too large");
        }
        long total = toSeed - fromSeed + 1;
        int n = Math.max(1, workers);
        ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "tcesim-campaign");
            t.setDaemon(true);
            return t;
        });
        Tally tally = new Tally();
        try {
            // A window of seeds in flight, taken in seed order; counting from 0 rather than up to toSeed, which may be
            // Long.MAX_VALUE (s++ would wrap).
            int window = n * IN_FLIGHT_PER_WORKER;
            java.util.ArrayDeque<Future<Run>> inFlight = new java.util.ArrayDeque<>(window);
            long next = 0;
            while (true) {
                for (; !tally.stopped && next < total && inFlight.size() < window; next++) {
                    long seed = fromSeed + next;
                    inFlight.add(pool.submit(() -> {
                        if (stop.getAsBoolean()) return null;
                        Run r = one(cfg, seed, maxSteps);
                        if (onDone != null) onDone.accept(r);
                        return r;
                    }));
                }
                Future<Run> f = inFlight.poll();
                if (f == null) break;
                Run r = tally.stopped ? (f.isDone() ? f.get() : null) : await(f, stop);
                if (r == null) tally.stopped = true;
                else tally.add(r);
            }
            return new Result(tally.seeds, tally.failing, tally.first, tally.packets, tally.steps, tally.digest, tally.stopped, tally.unfinished);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("campaign interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a run failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** The run of {@code f}, or null when a stop was requested before it finished. */
    private static Run await(Future<Run> f, java.util.function.BooleanSupplier stop) throws InterruptedException, java.util.concurrent.ExecutionException {
        while (true) {
            try {
                return f.get(50, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                if (stop.getAsBoolean()) return f.isDone() ? f.get() : null;
            }
        }
    }

    /** What the runs so far add up to, in seed order (one run at a time, or a block of them). */
    public static final class Tally {
        long seeds, failing, unfinished, packets, steps, digest = 17;
        Run first;
        boolean stopped;

        public Tally() {}

        /** A tally to add runs to, whose digest starts from {@code digest} (0 for a {@link Block}'s). */
        private Tally(long digest) {
            this.digest = digest;
        }

        public void add(Run r) {
            seeds++;
            packets += r.packets();
            steps += r.steps();
            if (r.violation() != null) {
                failing++;
                if (first == null) first = r;
            } else if (r.end() == Simulation.End.STEP_LIMIT) {
                unfinished++;
            }
            Violation v = r.violation();
            long h = java.util.Objects.hash(r.seed(), r.end().ordinal(), r.steps(), r.packets());
            if (v != null) h = 31 * h + java.util.Objects.hash(v.property().ordinal(), v.step(), v.actor(), v.access(), v.why(), v.iova(), v.gpa());
            digest = 31 * digest + h;
        }

        /** Adds the runs of the block that follows the seeds tallied so far: as adding them one by one. */
        public void add(Block b) {
            seeds += b.seeds();
            packets += b.packets();
            steps += b.steps();
            failing += b.failing();
            unfinished += b.unfinished();
            if (first == null) first = b.firstFailing();
            digest = digest * b.scale() + b.digest();
        }

        public long seeds() { return seeds; }

        /** The campaign's result so far; {@code stopped}: it ended before the end of its range. */
        public Result result(boolean stopped) {
            return new Result(seeds, failing, first, packets, steps, digest, stopped, unfinished);
        }
    }

    /**
     * Runs seeds {@code from..to} one after the other in this thread, polling {@code stop} between seeds: the
     * block's tally, or null when stopped before its end.
     */
    public static Block block(StackConfig cfg, long from, long to, long maxSteps, java.util.function.BooleanSupplier stop) {
        Tally t = new Tally(0);
        long scale = 1;
        for (long s = from; ; s++) {
            if (stop.getAsBoolean()) return null;
            t.add(one(cfg, s, maxSteps));
            scale *= 31;
            if (s == to) break;
        }
        return new Block(t.seeds, t.failing, t.unfinished, t.first, t.packets, t.steps, t.digest, scale);
    }

    /** One seed. */
    public static Run one(StackConfig cfg, long seed, long maxSteps) {
        Stack st = new Stack(cfg, Trace.off());
        Simulation.Result r = Simulation.run(st, Chooser.seeded(seed), maxSteps);
        long packets = st.stats().packetsRx + st.stats().packetsTx + (st.passthroughDriver() == null ? 0 : st.passthroughDriver().delivered());
        return new Run(seed, r.end(), r.violation(), r.steps(), packets);
    }
}
