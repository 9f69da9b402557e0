package tcesim.explore;

import java.util.ArrayList;
import java.util.List;
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
 * exhaustively. Seeds run in parallel; results are gathered in seed order, so the report does not depend
 * on the number of workers.
 */
public final class Campaign {
    /** One seed's run. */
    public record Run(long seed, Simulation.End end, Violation violation, long steps, long packets) {}

    /** The campaign's results, in seed order. */
    public record Result(List<Run> runs) {
        public long failing() { return runs.stream().filter(r -> r.violation() != null).count(); }

        public Run firstFailing() { return runs.stream().filter(r -> r.violation() != null).findFirst().orElse(null); }

        public long packets() { return runs.stream().mapToLong(Run::packets).sum(); }

        public long steps() { return runs.stream().mapToLong(Run::steps).sum(); }
    }

    private Campaign() {}

    /**
     * @param onDone called with each finished run (from worker threads), e.g. for a progress bar
     */
    public static Result run(StackConfig cfg, long fromSeed, long toSeed, long maxSteps, int workers, java.util.function.Consumer<Run> onDone) {
        String err = cfg.validate();
        if (err != null) throw new IllegalArgumentException(err);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, workers), r -> {
            Thread t = new Thread(r, "tcesim-campaign");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Run>> futures = new ArrayList<>();
            for (long s = fromSeed; s <= toSeed; s++) {
                long seed = s;
                futures.add(pool.submit(() -> {
                    Run r = one(cfg, seed, maxSteps);
                    if (onDone != null) onDone.accept(r);
                    return r;
                }));
            }
            List<Run> runs = new ArrayList<>(futures.size());
            for (Future<Run> f : futures) runs.add(f.get());
            return new Result(runs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("campaign interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a run failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** One seed. */
    public static Run one(StackConfig cfg, long seed, long maxSteps) {
        Stack st = new Stack(cfg, Trace.off());
        Simulation.Result r = Simulation.run(st, Chooser.seeded(seed), maxSteps);
        long packets = st.stats().packetsRx + st.stats().packetsTx + (st.passthroughDriver() == null ? 0 : st.passthroughDriver().delivered());
        return new Run(seed, r.end(), r.violation(), r.steps(), packets);
    }
}
