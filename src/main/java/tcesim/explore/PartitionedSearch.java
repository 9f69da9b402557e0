package tcesim.explore;

import com.carrotsearch.hppc.LongIntHashMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import tcesim.sim.Model;
import tcesim.sim.Violation;

/**
 * The {@link Checker}'s breadth-first search cut into shards by fingerprint, for a search spread over several
 * machines: each state belongs to the shard its fingerprint maps to ({@link #owner}), which alone keeps it in its
 * seen set and, while it is on the frontier, its saved words. Level by level, every shard expands the frontier
 * states it owns (with the checker's own {@link Checker#expandState}) and sends each new branching successor, in
 * batches, to its owner; when every shard is done, each owner keeps the successors it had not seen as its part of
 * the next frontier. A coordinator ({@link Coordinator}) runs the levels through a {@link Shards} transport: in this
 * process, or on a cluster.
 *
 * <p>The local checker takes the frontier in discovery order, which is the lexicographic order of the states'
 * shortest paths (its choices from the initial state): a state's path is its parent's path and the choice, and the
 * parent it records is the first in that order. Each frontier state here carries that path: an owner that receives
 * a state from several parents keeps the least path, and the violation reported is the one with the least path
 * (then choice). So the verdict, the number of distinct states, the depth and the counterexample (the violating
 * state's path and the last choice: the replay line) are the local checker's, whatever the number of shards; for a
 * search stopped at the state limit or by a violation, the distinct states counted are those before that point in
 * the local order. The counts of states generated and end states match for a completed search; for one stopped by
 * a violation they cover the whole last level rather than stopping at the violation.
 */
public final class PartitionedSearch {
    private PartitionedSearch() {}

    /** The shard of {@code n} that owns the state of fingerprint {@code fp}. */
    public static int owner(long fp, int n) {
        long h = norm(fp) * 0x9E3779B97F4A7C15L;
        return (int) Long.remainderUnsigned(h ^ (h >>> 29), n);
    }

    /** The fingerprint as the seen sets store it (0 is their empty slot, kept as 1). */
    static long norm(long fp) {
        return fp == 0 ? 1 : fp;
    }

    /** Lexicographic order of paths (all of a level have the same length). */
    static int compare(int[] a, int aAt, int[] b, int bAt, int len) {
        for (int i = 0; i < len; i++) {
            int c = Integer.compare(a[aAt + i], b[bAt + i]);
            if (c != 0) return c;
        }
        return 0;
    }

    /** States sent to one owner: fingerprints, paths (each {@code pathLength} choices) and saved words, back to back. */
    public static final class Batch implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final int pathLength;
        int n;
        long[] fp = new long[64];
        int[] paths;
        int[] off = new int[65];
        long[] words = new long[1024];

        public Batch(int pathLength) {
            this.pathLength = pathLength;
            paths = new int[64 * Math.max(1, pathLength)];
        }

        void add(long f, int[] parentPath, int parentAt, int choice, long[] w, int from, int len) {
            if (n == fp.length) {
                fp = Arrays.copyOf(fp, n * 2);
                off = Arrays.copyOf(off, n * 2 + 1);
                paths = Arrays.copyOf(paths, n * 2 * Math.max(1, pathLength));
            }
            int at = off[n];
            if (at + len > words.length) words = Arrays.copyOf(words, Math.max(words.length * 2, at + len));
            System.arraycopy(w, from, words, at, len);
            if (pathLength > 0) {
                System.arraycopy(parentPath, parentAt, paths, n * pathLength, pathLength - 1);
                paths[n * pathLength + pathLength - 1] = choice;
            }
            fp[n] = f;
            n++;
            off[n] = at + len;
        }

        /** What it takes on the wire, about: its fingerprints, paths and words. */
        public long bytes() {
            return 8L * n + 4L * n * pathLength + 8L * off[n];
        }

        public int size() { return n; }

        /** Drops the unused tails of the arrays before the batch is sent. */
        Batch trim() {
            fp = Arrays.copyOf(fp, n);
            paths = Arrays.copyOf(paths, n * pathLength);
            off = Arrays.copyOf(off, n + 1);
            words = Arrays.copyOf(words, off[n]);
            return this;
        }
    }

    /** Delivers a batch to its owner, returning once the owner holds it. */
    public interface Sender {
        void send(int owner, Batch b) throws Exception;
    }

    /**
     * What a shard's expansion of a level found. States sent are those sent to another shard (those it owns itself
     * it keeps in place), with their bytes.
     *
     * @param violationPath the least violating path of the level among this shard's states (its state's path and the
     *     choice), or null
     */
    public record Expanded(long generated, long terminals, long sentStates, long sentBytes, int[] violationPath, Violation violation)
            implements java.io.Serializable {}

    /** The states a shard received in a level that it had not seen: all of them, and those before {@code key} in path order. */
    public record Fresh(long total, long before) implements java.io.Serializable {}

    /** Words per batch before it is sent (about 256 KiB). */
    static final int BATCH_WORDS = 1 << 15;

    /** One shard: the states whose fingerprints it owns. Its methods are called level by level by one coordinator. */
    public static final class Shard implements AutoCloseable {
        final int self;
        final int shards;
        final Set<Violation.Property> props;
        final boolean reduce;
        final Supplier<? extends Model> initial;
        final int threads;
        final ExecutorService pool;
        final java.util.concurrent.BlockingQueue<Checker.Worker> workers = new java.util.concurrent.LinkedBlockingQueue<>();
        final FingerprintSet seen = new FingerprintSet(1 << 12);
        /** The frontier: its states' paths ({@code depth} choices each) and words. */
        Batch frontier;
        /** What other shards (and this one) sent during the level. */
        final List<Batch> incoming = new ArrayList<>();
        /** After {@link #fresh}: per new fingerprint, its least path's batch (high 32 bits) and index. */
        LongIntHashMap bestBatch;
        com.carrotsearch.hppc.LongIntHashMap bestIndex;
        int depth;

        public Shard(Supplier<? extends Model> initial, Set<Violation.Property> props, boolean reduce, int self, int shards, int threads) {
            this.initial = initial;
            this.props = props;
            this.reduce = reduce;
            this.self = self;
            this.shards = shards;
            this.threads = Math.max(1, threads);
            this.pool = this.threads > 1 ? Executors.newFixedThreadPool(this.threads, r -> {
                Thread t = new Thread(r, "tcesim-shard");
                t.setDaemon(true);
                return t;
            }) : null;
        }

        /** Makes the initial state (of fingerprint {@code fp}, which this shard owns) the frontier. */
        public void seed(long fp, long[] words) {
            seen.add(norm(fp));
            frontier = new Batch(0);
            frontier.add(norm(fp), new int[0], 0, 0, words, 0, words.length);
            depth = 0;
        }

        public long distinct() { return seen.size(); }

        public int frontierSize() { return frontier == null ? 0 : frontier.n; }

        /** Receives states for the next level (from any thread). */
        public void accept(Batch b) {
            synchronized (incoming) {
                incoming.add(b);
            }
        }

        /** Expands the frontier this shard owns, sending each branching successor to its owner. */
        public Expanded expand(Sender sender) throws Exception {
            int n = frontierSize();
            if (n == 0) return new Expanded(0, 0, 0, 0, null, null);
            int chunks = pool == null ? 1 : Math.min(n, threads * 4);
            List<Future<Expanded>> parts = new ArrayList<>();
            List<Expanded> done = new ArrayList<>();
            for (int c = 0; c < chunks; c++) {
                int from = (int) ((long) n * c / chunks);
                int to = (int) ((long) n * (c + 1) / chunks);
                if (pool == null) done.add(expandRun(from, to, sender));
                else parts.add(pool.submit(() -> expandRun(from, to, sender)));
            }
            try {
                for (Future<Expanded> f : parts) done.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof Exception x) throw x;
                throw e;
            }
            LevelSum sum = LevelSum.of(done);
            long generated = sum.generated(), terminals = sum.terminals(), sent = sum.sent(), bytes = sum.bytes();
            int[] best = sum.best();
            Violation v = sum.violation();
            return new Expanded(generated, terminals, sent, bytes, best, v);
        }

        private Expanded expandRun(int from, int to, Sender sender) throws Exception {
            Checker.Worker w = workers.poll();
            if (w == null) w = new Checker.Worker(initial.get());
            try {
                return expandRun(from, to, sender, w);
            } finally {
                workers.add(w);
            }
        }

        private Expanded expandRun(int from, int to, Sender sender, Checker.Worker w) throws Exception {
            int len = depth + 1;
            Batch[] out = new Batch[shards];
            Checker.Successors succ = new Checker.Successors();
            long generated = 0, terminals = 0, sent = 0, bytes = 0;
            int[] best = null;
            Violation bestV = null;
            for (int k = from; k < to; k++) {
                succ.reset(k);
                Checker.expandState(w, frontier.words, frontier.off[k], frontier.off[k + 1] - frontier.off[k], 0, props, reduce, seen, succ);
                int v = 0;
                for (int j = 0; j < succ.n; j++) {
                    generated++;
                    byte kind = succ.kind[j];
                    if (kind == Checker.Successors.VIOLATION) {
                        Violation viol = succ.violations.get(v++);
                        int[] path = Arrays.copyOfRange(frontier.paths, k * depth, k * depth + len);
                        path[depth] = succ.choice[j];
                        if (best == null || compare(path, 0, best, 0, len) < 0) {
                            best = path;
                            bestV = viol;
                        }
                    } else if (kind == Checker.Successors.END) {
                        terminals++;
                    } else if (kind == Checker.Successors.BRANCH) {
                        long fp = norm(succ.fp[j]);
                        int o = owner(fp, shards);
                        if (out[o] == null) out[o] = new Batch(len);
                        out[o].add(fp, frontier.paths, k * depth, succ.choice[j], succ.words.words(), succ.off[j], succ.off[j + 1] - succ.off[j]);
                        if (out[o].off[out[o].n] >= BATCH_WORDS) {
                            if (o != self) {
                                sent += out[o].n;
                                bytes += out[o].bytes();
                            }
                            deliver(sender, o, out[o]);
                            out[o] = null;
                        }
                    }
                }
            }
            for (int o = 0; o < shards; o++) {
                if (out[o] == null) continue;
                if (o != self) {
                    sent += out[o].n;
                    bytes += out[o].bytes();
                }
                deliver(sender, o, out[o]);
            }
            return new Expanded(generated, terminals, sent, bytes, best, bestV);
        }

        private void deliver(Sender sender, int o, Batch b) throws Exception {
            b.trim();
            if (o == self) accept(b);
            else sender.send(o, b);
        }

        /**
         * The states received in the level that this shard had not seen, each fingerprint once with its least path:
         * how many, and how many of them come before {@code key} (a path one choice longer than the frontier's; null:
         * none).
         */
        public Fresh fresh(int[] key) {
            if (bestBatch == null) {
                bestBatch = new LongIntHashMap();
                bestIndex = new LongIntHashMap();
                for (int b = 0; b < incoming.size(); b++) {
                    Batch in = incoming.get(b);
                    int len = in.pathLength;
                    for (int i = 0; i < in.n; i++) {
                        long fp = in.fp[i];
                        if (seen.contains(fp)) continue;
                        int slot = bestBatch.indexOf(fp);
                        if (slot >= 0) {
                            Batch other = incoming.get(bestBatch.indexGet(slot));
                            int oi = bestIndex.get(fp);
                            if (compare(in.paths, i * len, other.paths, oi * len, len) >= 0) continue;
                            bestBatch.indexReplace(slot, b);
                        } else {
                            bestBatch.put(fp, b);
                        }
                        bestIndex.put(fp, i);
                    }
                }
            }
            long before = 0;
            if (key != null) {
                for (var c : bestBatch) {
                    Batch in = incoming.get(c.value);
                    int i = bestIndex.get(c.key);
                    if (compare(in.paths, i * in.pathLength, key, 0, in.pathLength) < 0) before++;
                }
            }
            return new Fresh(bestBatch.size(), before);
        }

        /** Ends the level: the new states are seen and are the next frontier. */
        public void commit() {
            fresh(null);
            Batch next = new Batch(depth + 1);
            // In fingerprint order, so that the frontier does not depend on the order batches arrived in.
            long[] fps = bestBatch.keys().toArray();
            Arrays.sort(fps);
            int len = depth + 1;
            for (long fp : fps) {
                Batch in = incoming.get(bestBatch.get(fp));
                int i = bestIndex.get(fp);
                seen.add(fp);
                next.add(fp, in.paths, i * len, in.paths[i * len + len - 1], in.words, in.off[i], in.off[i + 1] - in.off[i]);
            }
            frontier = next;
            depth++;
            incoming.clear();
            bestBatch = null;
            bestIndex = null;
        }

        @Override
        public void close() {
            if (pool != null) pool.shutdownNow();
        }
    }

    /** The shards of one search, wherever they are; each call returns once every shard has done its part. */
    public interface Shards {
        int size();

        /** Gives the initial state to its owner. */
        void seed(int owner, long fp, long[] words) throws Exception;

        /** Every shard expands its frontier (in parallel); returns when all are done and every batch delivered. */
        List<Expanded> expand() throws Exception;

        List<Fresh> fresh(int[] key) throws Exception;

        void commit() throws Exception;
    }

    /**
     * How a partitioned search went besides its result.
     *
     * @param statesSent branching successors sent to another shard, their owner
     * @param bytesSent what those states took (fingerprints, paths, words)
     * @param perShard per shard, the distinct states it owns at the end
     */
    public record Outcome(Checker.Result result, long statesSent, long bytesSent, long[] perShard) {}

    /** Called after each level with the distinct states so far and the bytes sent per state so far. */
    public interface LevelListener {
        void level(int depth, long distinct, long frontier, long[] frontierPerShard, double bytesPerState);
    }

    /**
     * Runs the search level by level on {@code shards}, as the local checker would (see the class comment).
     *
     * @param stop polled before each level: once true, the search ends without a verdict ("interrupted")
     */
    public static Outcome search(Supplier<? extends Model> initial, Set<Violation.Property> props, long maxStates, Shards shards,
                                 java.util.function.BooleanSupplier stop, LevelListener listener) throws Exception {
        Checker.Worker main = new Checker.Worker(initial.get());
        Model root = main.model;
        byte end = Checker.settle(main, props);
        long[] none = new long[shards.size()];
        if (end == Checker.Successors.VIOLATION) {
            Violation v = root.violation(props);
            return new Outcome(new Checker.Result(Checker.Verdict.UNSAFE, v != null ? v : root.stuck(), new int[0], 1, 1, 0, 0, 0), 0, 0, none);
        }
        if (end == Checker.Successors.END) return new Outcome(new Checker.Result(Checker.Verdict.SAFE, null, null, 1, 1, 0, 1, 0), 0, 0, none);
        root.save(main.out.reset());
        long fp = main.out.hash();
        shards.seed(owner(fp, shards.size()), fp, main.out.toArray());
        long generated = 1, terminals = 0, distinct = 1, frontier = 1, sent = 0, bytes = 0;
        long[] perShard = new long[shards.size()];
        perShard[owner(fp, shards.size())] = 1;
        int depth = 0;
        while (frontier > 0) {
            if (stop.getAsBoolean()) {
                return new Outcome(new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, distinct, depth, terminals,
                        Checker.collision(distinct, generated), "interrupted"), sent, bytes, perShard);
            }
            List<Expanded> ex = shards.expand();
            depth++;
            LevelSum sum = LevelSum.of(ex);
            generated += sum.generated();
            terminals += sum.terminals();
            sent += sum.sent();
            bytes += sum.bytes();
            int[] best = sum.best();
            Violation v = sum.violation();
            List<Fresh> fr = shards.fresh(best);
            long fresh = 0, before = 0;
            long[] freshPer = new long[fr.size()];
            for (int i = 0; i < fr.size(); i++) {
                fresh += fr.get(i).total();
                before += fr.get(i).before();
                freshPer[i] = fr.get(i).total();
            }
            String limit = "state limit of " + maxStates + " reached";
            // The local search stops at the first new state that brings the seen set to the limit.
            long toLimit = Math.max(1, maxStates - distinct);
            long atLimit = distinct + toLimit;
            if (best != null) {
                if (before >= toLimit) {
                    return new Outcome(new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, atLimit, depth, terminals,
                            Checker.collision(atLimit, generated), limit), sent, bytes, perShard);
                }
                return new Outcome(new Checker.Result(Checker.Verdict.UNSAFE, v, best, generated, distinct + before, depth, terminals,
                        Checker.collision(distinct + before, generated)), sent, bytes, perShard);
            }
            if (fresh >= toLimit) {
                return new Outcome(new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, atLimit, depth, terminals,
                        Checker.collision(atLimit, generated), limit), sent, bytes, perShard);
            }
            shards.commit();
            distinct += fresh;
            frontier = fresh;
            for (int i = 0; i < perShard.length; i++) perShard[i] += freshPer[i];
            if (listener != null) listener.level(depth, distinct, frontier, freshPer, sent == 0 ? 0 : (double) bytes / sent);
        }
        return new Outcome(new Checker.Result(Checker.Verdict.SAFE, null, null, generated, distinct, depth, terminals,
                Checker.collision(distinct, generated)), sent, bytes, perShard);
    }

    /** Shards in this process, handing batches over directly: the distributed search without a network. */
    public static final class InProcess implements Shards, AutoCloseable {
        final Shard[] shards;

        public InProcess(Supplier<? extends Model> initial, Set<Violation.Property> props, boolean reduce, int n, int threads) {
            shards = new Shard[n];
            for (int i = 0; i < n; i++) shards[i] = new Shard(initial, props, reduce, i, n, threads);
        }

        @Override public int size() { return shards.length; }

        @Override public void seed(int owner, long fp, long[] words) { shards[owner].seed(fp, words); }

        @Override
        public List<Expanded> expand() throws Exception {
            List<Expanded> out = new ArrayList<>();
            for (Shard s : shards) out.add(s.expand((o, b) -> shards[o].accept(b)));
            return out;
        }

        @Override
        public List<Fresh> fresh(int[] key) {
            List<Fresh> out = new ArrayList<>();
            for (Shard s : shards) out.add(s.fresh(key));
            return out;
        }

        @Override
        public void commit() {
            for (Shard s : shards) s.commit();
        }

        @Override
        public void close() {
            for (Shard s : shards) s.close();
        }
    }

    /** What one level's expansions add up to, and the least path to a violation among them (the local checker's choice). */
    record LevelSum(long generated, long terminals, long sent, long bytes, int[] best, Violation violation) {
        static LevelSum of(List<Expanded> expanded) {
            long generated = 0, terminals = 0, sent = 0, bytes = 0;
            int[] best = null;
            Violation v = null;
            for (Expanded e : expanded) {
                generated += e.generated();
                terminals += e.terminals();
                sent += e.sentStates();
                bytes += e.sentBytes();
                if (e.violationPath() != null && (best == null || compare(e.violationPath(), 0, best, 0, best.length) < 0)) {
                    best = e.violationPath();
                    v = e.violation();
                }
            }
            return new LevelSum(generated, terminals, sent, bytes, best, v);
        }
    }
}
