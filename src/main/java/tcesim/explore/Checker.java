package tcesim.explore;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import tcesim.sim.Model;
import tcesim.sim.StepList;
import tcesim.sim.Violation;

/**
 * Exhaustive exploration of every interleaving of a (small) configuration of the stack.
 *
 * <p>Breadth-first over the branching points of a run: a state is reached by a list of choices, one per
 * point where more than one step was enabled (steps with no alternative are taken at once, as
 * {@link tcesim.sim.Simulation} does, so a counterexample's choices replay with {@code Chooser.scripted}).
 * States are not copied: a state is rebuilt by replaying its choices from the initial state, and
 * identified by {@link Model#fingerprint()} in a primitive {@link FingerprintSet}. Breadth-first order
 * makes the first violation found one with the fewest choices; ties go to the lowest node and step
 * index, so results do not depend on the number of workers.
 *
 * <p>Reduction (optional, on by default): when the model names an independent actor
 * ({@link Model#independentActor()}) and it has an enabled step, that step alone is explored. For the
 * stack it is the network: its delivery touches only the tap backlog, which only vhost's RX step reads, and
 * the two commute whenever both are enabled (one appends, the other takes the head); no oracle looks at the
 * backlog; and the state graph is acyclic (packet counters only grow), which discharges the cycle proviso.
 * So the singleton is an ample set in the sense of partial-order reduction, and verdicts are those of the
 * full search (a test checks this against the unreduced search).
 */
public final class Checker {
    /** How a check ended. */
    public enum Verdict { SAFE, UNSAFE, INCOMPLETE }

    /**
     * @param maxStates stop (INCOMPLETE) after this many distinct states
     * @param workers threads expanding states of one BFS level in parallel
     * @param reduce use the partial-order reduction described above
     * @param progress where a progress line goes every few seconds, or null
     * @param properties the properties checked; a violation of another one does not stop the search, and a
     *     state where nothing can run counts as an end state unless progress is checked
     */
    public record Options(long maxStates, int workers, boolean reduce, PrintWriter progress, Set<Violation.Property> properties,
                          long maxBytes, java.nio.file.Path checkpoint, java.nio.file.Path resume) {
        public Options(long maxStates, int workers, boolean reduce, PrintWriter progress) {
            this(maxStates, workers, reduce, progress, EnumSet.allOf(Violation.Property.class));
        }

        public Options(long maxStates, int workers, boolean reduce, PrintWriter progress, Set<Violation.Property> properties) {
            this(maxStates, workers, reduce, progress, properties, Long.MAX_VALUE, null, null);
        }

        public static Options defaults() {
            return new Options(2_000_000, 1, true, null);
        }
    }

    /**
     * @param choices the counterexample's choices (null when safe); {@code Chooser.scripted(choices)} replays it
     * @param depth BFS levels explored (choices along the longest shortest path)
     * @param terminals end states where the workload finished
     * @param stopped why an INCOMPLETE search stopped (state limit, memory bound, interrupted), else null
     */
    public record Result(Verdict verdict, Violation violation, int[] choices, long generated, long distinct, int depth,
                         long terminals, double collisionProbability, String stopped) {
        Result(Verdict verdict, Violation violation, int[] choices, long generated, long distinct, int depth, long terminals, double collisionProbability) {
            this(verdict, violation, choices, generated, distinct, depth, terminals, collisionProbability, null);
        }
    }

    /** What the search has done so far, readable from another thread (e.g. on Ctrl-C). */
    public record Progress(long generated, long distinct, int depth, long queued) {}

    private volatile Progress progress = new Progress(0, 0, 0, 0);
    private volatile boolean stopRequested;
    private final long signature;

    private final Supplier<? extends Model> initial;
    private final Options opt;

    // Nodes: parent index and the choice that led from it.
    private int[] parent = new int[1024];
    private int[] choice = new int[1024];
    private int nodes;

    /** @param initial builds the initial state afresh (called once per replay) */
    public Checker(Supplier<? extends Model> initial, Options opt) {
        this(initial, opt, 0);
    }

    /**
     * @param signature identifies the configuration, so that a checkpoint is only resumed for the same one
     */
    public Checker(Supplier<? extends Model> initial, Options opt, long signature) {
        this.initial = initial;
        this.opt = opt;
        this.signature = signature;
    }

    /** Asks the search to stop at the end of the current level (it then writes its checkpoint, if one is configured). */
    public void stop() { stopRequested = true; }

    public Progress progress() { return progress; }

    /** What one step from a state led to. */
    private record Outcome(int choice, Violation violation, boolean done, long fingerprint) {}

    public Result run() {
        long t0 = System.nanoTime();
        long lastReport = t0;
        long lastCheckpoint = t0;
        FingerprintSet seen;
        long generated;
        long terminals;
        int depth;
        int[] frontier;
        StepList steps = new StepList();
        if (opt.resume() != null) {
            Resumed r = readCheckpoint(opt.resume());
            seen = r.seen();
            generated = r.generated();
            terminals = r.terminals();
            depth = r.depth();
            frontier = r.frontier();
        } else {
            seen = new FingerprintSet(1 << 16);
            generated = 1;
            terminals = 0;
            depth = 0;
            Model root = initial.get();
            Outcome first = settle(root, steps, -1);
            if (first.violation() != null) return new Result(Verdict.UNSAFE, first.violation(), new int[0], 1, 1, 0, 0, 0);
            if (first.done()) return new Result(Verdict.SAFE, null, null, 1, 1, 0, 1, 0);
            seen.add(first.fingerprint());
            addNode(-1, -1);
            frontier = new int[] {0};
        }
        ExecutorService pool = opt.workers() > 1 ? Executors.newFixedThreadPool(opt.workers(), r -> {
            Thread t = new Thread(r, "tcesim-check");
            t.setDaemon(true);
            return t;
        }) : null;
        try {
            while (frontier.length > 0) {
                String stop = stopRequested ? "interrupted" : memoryBytes(seen, frontier.length) > opt.maxBytes()
                        ? String.format("memory bound of %d MiB reached", opt.maxBytes() >> 20) : null;
                if (stop != null) {
                    if (opt.checkpoint() != null) writeCheckpoint(opt.checkpoint(), seen, frontier, generated, terminals, depth);
                    return new Result(Verdict.INCOMPLETE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated), stop);
                }
                List<List<Outcome>> expanded = expandAll(frontier, pool);
                depth++;
                int[] next = new int[16];
                int nNext = 0;
                for (int k = 0; k < frontier.length; k++) {
                    for (Outcome o : expanded.get(k)) {
                        generated++;
                        if (o.violation() != null) {
                            int[] path = append(pathOf(frontier[k]), o.choice());
                            return new Result(Verdict.UNSAFE, o.violation(), path, generated, seen.size(), depth, terminals,
                                    collision(seen.size(), generated));
                        }
                        if (o.done()) {
                            terminals++;
                            continue;
                        }
                        if (!seen.add(o.fingerprint())) continue;
                        addNode(frontier[k], o.choice());
                        if (nNext == next.length) next = Arrays.copyOf(next, nNext * 2);
                        next[nNext++] = nodes - 1;
                        if (seen.size() >= opt.maxStates()) {
                            return new Result(Verdict.INCOMPLETE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated),
                                    "state limit of " + opt.maxStates() + " reached");
                        }
                    }
                }
                frontier = Arrays.copyOf(next, nNext);
                progress = new Progress(generated, seen.size(), depth, frontier.length);
                long now = System.nanoTime();
                if (opt.progress() != null && now - lastReport > 3_000_000_000L) {
                    lastReport = now;
                    double secs = (now - t0) / 1e9;
                    opt.progress().printf("Progress: %d states generated, %d distinct, %d on queue, depth %d, %.0f distinct states/s%n",
                            generated, seen.size(), frontier.length, depth, seen.size() / secs);
                    opt.progress().flush();
                }
                if (opt.checkpoint() != null && now - lastCheckpoint > 60_000_000_000L) {
                    lastCheckpoint = now;
                    writeCheckpoint(opt.checkpoint(), seen, frontier, generated, terminals, depth);
                }
            }
        } finally {
            if (pool != null) pool.shutdownNow();
        }
        return new Result(Verdict.SAFE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated));
    }

    /** What the search holds: the seen set, the nodes (parent and choice), the frontier. */
    private long memoryBytes(FingerprintSet seen, int frontierLength) {
        return seen.bytes() + 8L * parent.length + 4L * frontierLength;
    }

    private static final int MAGIC = 0x7ce5c4b7;

    private void writeCheckpoint(java.nio.file.Path file, FingerprintSet seen, int[] frontier, long generated, long terminals, int depth) {
        java.nio.file.Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(tmp)))) {
            out.writeInt(MAGIC);
            out.writeLong(signature);
            out.writeLong(generated);
            out.writeLong(terminals);
            out.writeInt(depth);
            out.writeInt(nodes);
            for (int i = 0; i < nodes; i++) {
                out.writeInt(parent[i]);
                out.writeInt(choice[i]);
            }
            out.writeInt(frontier.length);
            for (int f : frontier) out.writeInt(f);
            long[] fps = seen.toArray();
            out.writeInt(fps.length);
            for (long fp : fps) out.writeLong(fp);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
        try {
            java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    private record Resumed(FingerprintSet seen, int[] frontier, long generated, long terminals, int depth) {}

    /** Reads a checkpoint; a file of another configuration, or not a checkpoint, is refused with a clear message. */
    private Resumed readCheckpoint(java.nio.file.Path file) {
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(java.nio.file.Files.newInputStream(file)))) {
            if (in.readInt() != MAGIC) throw new IllegalArgumentException(file + " is not a tcesim checkpoint");
            if (in.readLong() != signature) throw new IllegalArgumentException(file + " was written for another configuration");
            long generated = in.readLong();
            long terminals = in.readLong();
            int depth = in.readInt();
            int n = in.readInt();
            if (n < 1 || n > 1 << 28) throw new IllegalArgumentException(file + " is corrupt");
            nodes = 0;
            for (int i = 0; i < n; i++) addNode(in.readInt(), in.readInt());
            int fl = in.readInt();
            if (fl < 0 || fl > n) throw new IllegalArgumentException(file + " is corrupt");
            int[] frontier = new int[fl];
            for (int i = 0; i < frontier.length; i++) {
                frontier[i] = in.readInt();
                if (frontier[i] < 0 || frontier[i] >= n) throw new IllegalArgumentException(file + " is corrupt");
            }
            int m = in.readInt();
            if (m < 1) throw new IllegalArgumentException(file + " is corrupt");
            FingerprintSet seen = new FingerprintSet(Math.max(16, m));
            for (int i = 0; i < m; i++) seen.add(in.readLong());
            return new Resumed(seen, frontier, generated, terminals, depth);
        } catch (java.io.EOFException e) {
            throw new IllegalArgumentException(file + " is truncated");
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read checkpoint " + file + ": " + e.getMessage());
        }
    }

    /** TLC's estimate of the probability that two distinct states shared a fingerprint: n(g - n) / 2^64. */
    static double collision(long distinct, long generated) {
        return (double) distinct * (double) Math.max(0, generated - distinct) / 0x1p64;
    }

    private List<List<Outcome>> expandAll(int[] frontier, ExecutorService pool) {
        List<List<Outcome>> out = new ArrayList<>(frontier.length);
        if (pool == null) {
            StepList steps = new StepList();
            for (int node : frontier) out.add(expand(pathOf(node), steps));
            return out;
        }
        int chunks = Math.min(frontier.length, opt.workers() * 4);
        List<Future<List<List<Outcome>>>> futures = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) frontier.length * c / chunks);
            int to = (int) ((long) frontier.length * (c + 1) / chunks);
            int[][] paths = new int[to - from][];
            for (int k = from; k < to; k++) paths[k - from] = pathOf(frontier[k]);
            futures.add(pool.submit(() -> {
                StepList steps = new StepList();
                List<List<Outcome>> part = new ArrayList<>(paths.length);
                for (int[] p : paths) part.add(expand(p, steps));
                return part;
            }));
        }
        try {
            for (Future<List<List<Outcome>>> f : futures) out.addAll(f.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("check interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a worker failed: " + e.getCause(), e.getCause());
        }
        return out;
    }

    /** Every successor of the state reached by {@code path}. */
    private List<Outcome> expand(int[] path, StepList steps) {
        Model s = replay(path, steps);
        s.enabledSteps(steps);
        int n = steps.size();
        List<Outcome> out = new ArrayList<>(n);
        int only = opt.reduce() ? independentStep(s, steps) : -1;
        for (int i = 0; i < n; i++) {
            if (only >= 0 && i != only) continue;
            boolean last = only >= 0 || i == n - 1;
            Model t = last ? s : replay(path, steps);
            t.enabledSteps(steps);
            out.add(settle(t, steps, i));
        }
        return out;
    }

    /** The index of the model's independent actor's step when it is enabled (the ample set of the reduction), else -1. */
    private static int independentStep(Model m, StepList steps) {
        String name = m.independentActor();
        if (name == null) return -1;
        for (int i = 0; i < steps.size(); i++) if (name.equals(steps.actor(i).name())) return i;
        return -1;
    }

    /**
     * Takes step {@code choice} of the enabled steps in {@code steps} (none when negative), then every step
     * that has no alternative, and says where that led.
     */
    private Outcome settle(Model s, StepList steps, int choice) {
        return settle(s, steps, choice, true);
    }

    /** @param fingerprint compute the fingerprint of a branching state (not needed while replaying) */
    private Outcome settle(Model s, StepList steps, int choice, boolean fingerprint) {
        if (choice >= 0) steps.actor(choice).step(steps.kind(choice));
        Set<Violation.Property> props = opt.properties();
        while (true) {
            Violation v = s.violation(props);
            if (v != null) return new Outcome(choice, v, false, 0);
            if (s.done()) return new Outcome(choice, null, true, 0);
            s.enabledSteps(steps);
            if (steps.size() == 0) {
                Violation p = props.contains(Violation.Property.PROGRESS) ? s.stuck() : null;
                return new Outcome(choice, p, p == null, 0);
            }
            if (steps.size() > 1) return new Outcome(choice, null, false, fingerprint ? s.fingerprint() : 0);
            steps.actor(0).step(steps.kind(0));
        }
    }

    /** The state reached by {@code path}, rebuilt from the initial state. */
    private Model replay(int[] path, StepList steps) {
        Model s = initial.get();
        settle(s, steps, -1, false);
        for (int c : path) {
            s.enabledSteps(steps);
            settle(s, steps, c, false);
        }
        return s;
    }

    private void addNode(int p, int c) {
        if (nodes == parent.length) {
            parent = Arrays.copyOf(parent, nodes * 2);
            choice = Arrays.copyOf(choice, nodes * 2);
        }
        parent[nodes] = p;
        choice[nodes] = c;
        nodes++;
    }

    private int[] pathOf(int node) {
        int len = 0;
        for (int n = node; parent[n] >= 0; n = parent[n]) len++;
        int[] path = new int[len];
        for (int n = node; parent[n] >= 0; n = parent[n]) path[--len] = choice[n];
        return path;
    }

    private static int[] append(int[] a, int x) {
        int[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = x;
        return b;
    }
}
