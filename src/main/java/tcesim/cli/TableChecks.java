package tcesim.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import tcesim.explore.Checker;

/**
 * The checks of a table ({@code check --all}, {@code --hazards}, {@code bench --bounds}), run {@code atOnce} at a
 * time, each on a thread of its own, and taken in the table's order: each check's result is its own (a check's
 * search does not depend on what runs beside it), so the table is the same whatever the number run at once. Ctrl-C
 * ({@link #run}) stops the checks running and those not started; the table keeps the rows done before the first
 * stopped one.
 */
final class TableChecks implements Runnable, AutoCloseable {
    private final ExecutorService pool;
    private final List<Future<Checker.Result>> results = new ArrayList<>();
    private final long[] millis;
    private final Set<Checker> running = ConcurrentHashMap.newKeySet();
    private volatile boolean stopped;
    private int rows;

    private final List<Supplier<Checker>> checks;

    /** The table of {@code checks}, to run {@code atOnce} at a time ({@link #start}). */
    TableChecks(List<Supplier<Checker>> checks, int atOnce) {
        this.checks = checks;
        millis = new long[checks.size()];
        pool = Executors.newFixedThreadPool(atOnce, r -> {
            Thread t = new Thread(r, "tcesim-table");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts the checks, in order (once Ctrl-C reaches {@link #run}: a stop asked for before is then seen by each). */
    TableChecks start() {
        for (int i = 0; i < checks.size(); i++) {
            int k = i;
            Supplier<Checker> check = checks.get(i);
            results.add(pool.submit(() -> {
                if (stopped) return null;
                Checker c = check.get();
                running.add(c);
                if (stopped) c.stop(); // stopped between the test above and the add: stop it as run() would have
                long t0 = System.nanoTime();
                try {
                    return c.run();
                } finally {
                    running.remove(c);
                    millis[k] = (System.nanoTime() - t0) / 1_000_000;
                }
            }));
        }
        return this;
    }

    /**
     * The result of check {@code i}, once it is done; null when the table was stopped before it ended with a verdict
     * or before a row before it did (the rows are taken in order, and a table stops at its first row not done).
     */
    Checker.Result result(int i) {
        if (rows != i) throw new IllegalStateException("row " + i + " taken out of order (next: " + rows + ")");
        Checker.Result r;
        try {
            r = results.get(i).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("table interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error er) throw er;
            throw new IllegalStateException(e.getCause());
        }
        if (r == null || stopped && r.verdict() == Checker.Verdict.INCOMPLETE) return null;
        rows++;
        return r;
    }

    /** The wall-clock time check {@code i} took, in ms (once its result is taken). */
    long millis(int i) { return millis[i]; }

    boolean stopped() { return stopped; }

    @Override
    public void run() {
        stopped = true;
        for (Checker c : running) c.stop();
    }

    /** The line that ends an interrupted table. */
    String summary() { return "Interrupted: " + rows + " of " + results.size() + " checks done. No verdict for the others."; }

    /** Stops what still runs, once the rows are taken or a check failed (the rows taken stay as they are). */
    @Override
    public void close() {
        pool.shutdownNow();
        for (Checker c : running) c.stop();
    }
}
