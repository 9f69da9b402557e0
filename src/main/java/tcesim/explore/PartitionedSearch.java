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
 *
 * <p>A search can start from a {@link Checkpoint} (the coordinator sends each fingerprint and frontier state to its
 * owner) and, with a {@link Completed} that keeps a copy, write one: the shards send the coordinator each new level
 * once it is done everywhere, so the checkpoint is that of the last whole level, whichever shard is lost later. The
 * paths make the file's nodes and its frontier order those the local checker would have, so either goes on from
 * the other's checkpoint.
 */
public final class PartitionedSearch {
    private PartitionedSearch() {}

    /** Why a depth-first search's checkpoint does not go on here: its order is the local checker's alone. */
    public static final String DEPTH_FIRST_CHECKPOINT = "the checkpoint was written by a check gone depth-first past its frontier limit:"
            + " go on with it here, without --cluster (a cluster's search is breadth-first throughout)";

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

        /** Adds a state with its whole path, {@code path[at, at + pathLength)}. */
        void addPath(long f, int[] path, int at, long[] w, int from, int len) {
            add(f, path, at, pathLength == 0 ? 0 : path[at + pathLength - 1], w, from, len);
        }

        /** Adds state {@code i} of {@code b}, whose paths are as long as this batch's. */
        void add(Batch b, int i) {
            if (b.pathLength != pathLength) throw new IllegalArgumentException("paths of " + b.pathLength + " choices, not " + pathLength);
            addPath(b.fp[i], b.paths, i * pathLength, b.words, b.off[i], b.off[i + 1] - b.off[i]);
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

        /** Starts the search at level {@code depth}, with an empty frontier: {@link #load} then gives the shard its states. */
        public void start(int depth) {
            this.depth = depth;
            frontier = new Batch(depth);
        }

        /**
         * Adds fingerprints this shard owns to its seen set, and states it owns (with their paths, of {@code depth}
         * choices) to its frontier (their fingerprints are seen too): the initial state, or a checkpoint's states.
         */
        public void load(long[] fps, Batch states) {
            if (fps != null) for (long f : fps) seen.add(norm(f));
            if (states == null) return;
            for (int i = 0; i < states.n; i++) {
                seen.add(states.fp[i]);
                frontier.add(states, i);
            }
        }

        /**
         * A copy of frontier states {@code from} on, as many as fit in about {@code maxWords} words (at least one; none
         * past the end): how the coordinator keeps the level a checkpoint needs.
         */
        public Batch part(int from, int maxWords) {
            Batch b = new Batch(depth);
            int n = frontierSize();
            for (int i = from; i < n && (i == from || frontier.off[i + 1] - frontier.off[from] <= maxWords); i++) b.add(frontier, i);
            return b.trim();
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

        /** Every shard starts at level {@code depth}, with nothing seen and an empty frontier. */
        void start(int depth) throws Exception;

        /** Gives shard {@code owner} fingerprints to keep as seen and states for its frontier (either may be null). */
        void load(int owner, long[] fps, Batch states) throws Exception;

        /** Every shard expands its frontier (in parallel); returns when all are done and every batch delivered. */
        List<Expanded> expand() throws Exception;

        List<Fresh> fresh(int[] key) throws Exception;

        void commit() throws Exception;

        /** Each shard's {@linkplain Shard#part part} of its frontier from {@code from[i]} on (of about {@link #PART_WORDS} words). */
        List<Batch> frontier(int[] from) throws Exception;
    }

    /** Words of frontier states a shard sends the coordinator at once, for its copy of the level (about 4 MiB). */
    public static final int PART_WORDS = 1 << 19;

    /** Fingerprints of a checkpoint sent to a shard at once (512 KiB). */
    static final int LOAD_FINGERPRINTS = 1 << 16;

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
     * Runs the search level by level on {@code shards}, as the local checker would (see the class comment), from the
     * initial state, keeping no copy for a checkpoint.
     *
     * @param stop polled before each level: once true, the search ends without a verdict ("interrupted")
     */
    public static Outcome search(Supplier<? extends Model> initial, Set<Violation.Property> props, long maxStates, Shards shards,
                                 java.util.function.BooleanSupplier stop, LevelListener listener) throws Exception {
        return search(initial, props, maxStates, shards, stop, listener, null, new Completed());
    }

    /**
     * Runs the search level by level on {@code shards}, as the local checker would (see the class comment).
     *
     * @param stop polled before each level: once true, the search ends without a verdict ("interrupted")
     * @param from the checkpoint to go on from (read for this configuration), or null: the initial state
     * @param done where each level completed is recorded, with a copy of it when it {@linkplain Completed#keeping() keeps
     *     one}. With a checkpoint file, the search is the local checker with a checkpoint: it stops at the end of a
     *     level, never in the middle (the state limit reached in a level stops it when the level is done), and it writes
     *     the checkpoint whenever it ends without a verdict (a shard's failure, which ends it with an exception, is the
     *     caller's to write it for). Without one, the search is that without a copy, and writing is the caller's
     */
    public static Outcome search(Supplier<? extends Model> initial, Set<Violation.Property> props, long maxStates, Shards shards,
                                 java.util.function.BooleanSupplier stop, LevelListener listener, Checkpoint from, Completed done) throws Exception {
        if (from != null && from.depthFirst()) throw new IllegalArgumentException(DEPTH_FIRST_CHECKPOINT);
        int n = shards.size();
        long[] perShard = new long[n];
        long generated, terminals, distinct, frontier;
        int depth;
        if (from == null) {
            Checker.Worker main = new Checker.Worker(initial.get());
            Model root = main.model;
            byte end = Checker.settle(main, props);
            if (end == Checker.Successors.VIOLATION) {
                Violation v = root.violation(props);
                return new Outcome(new Checker.Result(Checker.Verdict.UNSAFE, v != null ? v : root.stuck(), new int[0], 1, 1, 0, 0, 0), 0, 0, perShard);
            }
            if (end == Checker.Successors.END) return new Outcome(new Checker.Result(Checker.Verdict.SAFE, null, null, 1, 1, 0, 1, 0), 0, 0, perShard);
            root.save(main.out.reset());
            long fp = norm(main.out.hash());
            Batch start = new Batch(0);
            start.addPath(fp, new int[0], 0, main.out.words(), 0, main.out.size());
            shards.start(0);
            shards.load(owner(fp, n), new long[] {fp}, start.trim());
            generated = 1;
            terminals = 0;
            distinct = 1;
            frontier = 1;
            depth = 0;
            perShard[owner(fp, n)] = 1;
            done.start(generated, terminals, depth, perShard, new long[] {fp}, start, null);
        } else {
            generated = from.generated();
            terminals = from.terminals();
            distinct = from.distinct();
            frontier = from.states();
            depth = from.depth();
            shards.start(depth);
            load(from, shards, perShard);
            done.start(generated, terminals, depth, perShard, from.seen(), null, from);
        }
        boolean whole = done.wholeLevels();
        long sent = 0, bytes = 0;
        while (frontier > 0) {
            if (stop.getAsBoolean()) {
                return done.stopped(new Outcome(new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, distinct, depth, terminals,
                        Checker.collision(distinct, generated), "interrupted"), sent, bytes, perShard));
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
            // The local search stops at the first new state that brings the seen set to the limit (with a checkpoint,
            // at the end of that state's level; a violation in that level is still found).
            long toLimit = Math.max(1, maxStates - distinct);
            long atLimit = distinct + toLimit;
            if (best != null) {
                if (before >= toLimit && !whole) {
                    return new Outcome(new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, atLimit, depth, terminals,
                            Checker.collision(atLimit, generated), limit), sent, bytes, perShard);
                }
                return new Outcome(new Checker.Result(Checker.Verdict.UNSAFE, v, best, generated, distinct + before, depth, terminals,
                        Checker.collision(distinct + before, generated)), sent, bytes, perShard);
            }
            boolean limited = fresh >= toLimit;
            if (limited && !whole) {
                return new Outcome(new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, atLimit, depth, terminals,
                        Checker.collision(atLimit, generated), limit), sent, bytes, perShard);
            }
            shards.commit();
            distinct += fresh;
            frontier = fresh;
            for (int i = 0; i < perShard.length; i++) perShard[i] += freshPer[i];
            if (done.keeping()) done.copy(shards, depth, freshPer);
            done.level(generated, terminals, depth, perShard);
            if (done.writeFailure() != null) {
                // As the local checker: a checkpoint asked for and not written stops the search, rather than let it run on
                // with nothing to resume from.
                return new Outcome(new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, distinct, depth, terminals,
                        Checker.collision(distinct, generated), "the checkpoint could not be written"), sent, bytes, perShard);
            }
            if (listener != null) listener.level(depth, distinct, frontier, freshPer, sent == 0 ? 0 : (double) bytes / sent);
            if (limited) {
                return done.stopped(new Outcome(new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, distinct, depth, terminals,
                        Checker.collision(distinct, generated), limit), sent, bytes, perShard));
            }
        }
        return new Outcome(new Checker.Result(Checker.Verdict.SAFE, null, null, generated, distinct, depth, terminals,
                Checker.collision(distinct, generated)), sent, bytes, perShard);
    }

    /** Sends each of the checkpoint's fingerprints and frontier states to the shard that owns it. */
    private static void load(Checkpoint from, Shards shards, long[] perShard) throws Exception {
        int n = shards.size();
        long[] seen = from.seen();
        long[][] fps = new long[n][];
        int[] count = new int[n];
        for (int i = 0; i < from.distinct(); i++) {
            long fp = norm(seen[i]);
            int o = owner(fp, n);
            if (fps[o] == null) fps[o] = new long[LOAD_FINGERPRINTS];
            fps[o][count[o]++] = fp;
            perShard[o]++;
            if (count[o] == LOAD_FINGERPRINTS) {
                shards.load(o, fps[o], null);
                fps[o] = null;
                count[o] = 0;
            }
        }
        for (int o = 0; o < n; o++) if (count[o] > 0) shards.load(o, Arrays.copyOf(fps[o], count[o]), null);
        Batch[] out = new Batch[n];
        long[] words = from.wordsOf();
        for (int k = 0; k < from.states(); k++) {
            int at = from.wordsFrom(k);
            int len = from.wordsTo(k) - at;
            long fp = norm(tcesim.state.StateWriter.hash(words, at, len));
            int o = owner(fp, n);
            if (out[o] == null) out[o] = new Batch(from.depth());
            out[o].addPath(fp, from.path(k), 0, words, at, len);
            if (out[o].off[out[o].n] >= BATCH_WORDS) {
                shards.load(o, null, out[o].trim());
                out[o] = null;
            }
        }
        for (int o = 0; o < n; o++) if (out[o] != null) shards.load(o, null, out[o].trim());
    }

    /**
     * The coordinator's record of the last level every shard completed: its counts and, when it keeps a copy (for a
     * checkpoint), every fingerprint seen and the whole frontier with its states' paths, which each shard sends at the
     * end of each level. A shard lost later takes nothing of it away: the checkpoint written from it is that of a whole
     * level, whatever happens in the level under way. The copy costs, on the wire and in this process's memory, each
     * distinct state once (its fingerprint, path and words: {@link #keptBytes()}), and the seen fingerprints stay
     * here (8 bytes a distinct state) with the frontier of one level.
     *
     * <p>Three kinds: counts only ({@link #Completed()}); a copy for a file of the caller's choosing, which the search
     * ends at the end of a level as the local checker with a checkpoint does, and writes every so often and when it
     * ends without a verdict ({@link #Completed(java.nio.file.Path, long, long)}); and a copy that the search does not
     * change and never writes itself, within a bound on the memory it holds, for the caller to write where it likes
     * when the search ends without a verdict ({@link #Completed(long, long)}).
     */
    public static final class Completed {
        private final java.nio.file.Path file;
        private final long signature;
        private final long periodNanos;
        /** Whether the state limit ends the search at the end of its level (a checkpoint file's search) rather than at the state that reaches it. */
        private final boolean wholeLevels;
        /** The most bytes the copy may hold (its arrays) before it is dropped. */
        private final long maxBytes;
        private boolean keep;
        /** Why the copy was dropped, or null. */
        private String dropped;
        private long generated;
        private long terminals;
        private int depth;
        private long[] perShard = new long[0];
        private long[] seen;
        private int seenCount;
        /** The frontier, with paths; null while it is that of {@link #resumed}. */
        private Batch frontier;
        private Checkpoint resumed;
        private long keptStates;
        private long keptBytes;
        /** When the checkpoint was last written: the wall clock decides when to write it again, never a result. */
        private long lastWrite = System.nanoTime();
        private boolean written;

        /** Counts only: no copy, no checkpoint. */
        public Completed() {
            this(null, 0, 0, false, false, Long.MAX_VALUE);
        }

        /**
         * Keeping a copy of each level, written as a checkpoint to {@code file} for the configuration of {@code signature}
         * when the search ends without a verdict ({@link #write()}), and every {@code periodNanos} at the end of a level.
         * The search ends at the end of a level, the state limit too, as the local checker with a checkpoint does.
         */
        public Completed(java.nio.file.Path file, long signature, long periodNanos) {
            this(file, signature, periodNanos, true, true, Long.MAX_VALUE);
        }

        /**
         * Keeping a copy of each level for the caller to write ({@link #write(java.nio.file.Path)}), while it holds at
         * most {@code maxBytes}: a copy that would hold more is dropped, with the reason ({@link #dropped()}), and the
         * search goes on without it. The search is the one without a copy: the state limit stops it at the state that
         * reaches it, and the copy is then that of the level before.
         */
        public Completed(long signature, long maxBytes) {
            this(null, signature, Long.MAX_VALUE, true, false, maxBytes);
        }

        private Completed(java.nio.file.Path file, long signature, long periodNanos, boolean keep, boolean wholeLevels, long maxBytes) {
            this.file = file;
            this.signature = signature;
            this.periodNanos = periodNanos;
            this.keep = keep;
            this.wholeLevels = wholeLevels;
            this.maxBytes = maxBytes;
        }

        /** Whether a copy of the last level completed is kept (until it is {@linkplain #dropped() dropped}). */
        public boolean keeping() { return keep; }

        /** Whether the search ends only at the end of a level, the state limit included (a copy for a checkpoint file). */
        boolean wholeLevels() { return wholeLevels; }

        /** Why the copy was dropped before the search ended, or null. */
        public String dropped() { return dropped; }

        public long generated() { return generated; }

        public long terminals() { return terminals; }

        /** The levels completed. */
        public int depth() { return depth; }

        public long distinct() { return java.util.Arrays.stream(perShard).sum(); }

        /** Distinct states per shard. */
        public long[] perShard() { return perShard.clone(); }

        /** States sent to this process for its copy, and their bytes (fingerprints, paths, words). */
        public long keptStates() { return keptStates; }

        public long keptBytes() { return keptBytes; }

        /** Whether the checkpoint file was written. */
        public boolean written() { return written; }

        /** The checkpoint file, or null (none, or the caller's to choose). */
        public java.nio.file.Path file() { return file; }

        /**
         * Starts from checkpoint {@code from}, before the shards hold it: a search stopped before its first level ends
         * leaves this checkpoint as it was.
         */
        public void resuming(Checkpoint from) {
            start(from.generated(), from.terminals(), from.depth(), new long[] {from.distinct()}, from.seen(), null, from);
        }

        void start(long generated, long terminals, int depth, long[] perShard, long[] seen, Batch frontier, Checkpoint resumed) {
            this.generated = generated;
            this.terminals = terminals;
            this.depth = depth;
            this.perShard = perShard.clone();
            if (!keeping()) return;
            this.seen = seen;
            this.seenCount = resumed != null ? resumed.distinct() : seen.length;
            this.frontier = frontier;
            this.resumed = resumed;
        }

        /** Fetches every shard's new frontier (of {@code count[i]} states on shard {@code i}) for the copy, or drops the copy when it would hold too much. */
        void copy(Shards shards, int depth, long[] count) throws Exception {
            long total = Arrays.stream(count).sum();
            // The seen fingerprints once the level is in (their array grown), and the level before while this one arrives.
            long base = 8L * Math.max(seen.length, seenCount + total) + held(frontier)
                    + (resumed == null ? 0 : 8L * resumed.wordsOf().length + 8L * resumed.parents().length + 8L * resumed.states());
            if (base > maxBytes) {
                drop(depth, base);
                return;
            }
            Batch next = new Batch(depth);
            int[] at = new int[count.length];
            while (true) {
                boolean more = false;
                for (int i = 0; i < at.length; i++) more |= at[i] < count[i];
                if (!more) break;
                List<Batch> parts = shards.frontier(at);
                for (int i = 0; i < at.length; i++) {
                    if (at[i] >= count[i]) continue;
                    Batch p = parts.get(i);
                    if (p.n == 0) throw new IllegalStateException("shard " + i + " sent no frontier state from " + at[i] + " of " + count[i]);
                    for (int k = 0; k < p.n; k++) next.add(p, k);
                    at[i] += p.n;
                    keptStates += p.n;
                    keptBytes += p.bytes();
                }
                if (base + held(next) > maxBytes) {
                    drop(depth, base + held(next));
                    return;
                }
            }
            // Only now, with the whole level here, does the copy move on to it.
            if (seenCount + next.n > seen.length) seen = Arrays.copyOf(seen, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * seen.length, seenCount + (long) next.n)));
            System.arraycopy(next.fp, 0, seen, seenCount, next.n);
            seenCount += next.n;
            frontier = next;
            resumed = null;
        }

        /** The bytes of a batch's arrays (0 for none). */
        private static long held(Batch b) {
            return b == null ? 0 : 8L * b.fp.length + 4L * b.paths.length + 4L * b.off.length + 8L * b.words.length;
        }

        /** Drops the copy, which would hold {@code bytes} with level {@code depth}: no checkpoint from now on. */
        private void drop(int depth, long bytes) {
            keep = false;
            seen = null;
            frontier = null;
            resumed = null;
            dropped = "the copy for the checkpoint was dropped at depth " + depth + ": it would have held " + size(bytes) + ", more than its " + size(maxBytes);
        }

        /** {@code bytes} in MiB, or KiB below one MiB. */
        private static String size(long bytes) {
            return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
        }

        /** A level was completed: its counts, and the checkpoint written if it is time. */
        void level(long generated, long terminals, int depth, long[] perShard) {
            this.generated = generated;
            this.terminals = terminals;
            this.depth = depth;
            this.perShard = perShard.clone();
            if (file != null && System.nanoTime() - lastWrite >= periodNanos) tryWrite();
        }

        /**
         * Writes the checkpoint file as {@link #write()} does; a failure (a full disk, a directory gone) is kept as
         * {@link #writeFailure()} instead of thrown, so that the search's result is not lost with it.
         */
        public boolean tryWrite() {
            try {
                boolean w = write();
                if (w) writeFailure = null;
                return w;
            } catch (java.io.UncheckedIOException e) {
                writeFailure = e.getMessage();
                return false;
            }
        }

        /** Why the checkpoint file could not be written the last time it was tried (it holds the one before, if any), or null. */
        public String writeFailure() { return writeFailure; }

        private String writeFailure;

        /** The result of a search stopped after the last level completed: no verdict, for the reason {@code why}. */
        public Checker.Result incomplete(String why) {
            long distinct = distinct();
            return new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, distinct, depth, terminals, Checker.collision(distinct, generated), why);
        }

        /** The search ends without a verdict: the checkpoint file is written (when there is one). */
        Outcome stopped(Outcome o) {
            if (file != null) tryWrite();
            return o;
        }

        /** The checkpoint of the last level completed, or null before the search has started. */
        public Checkpoint checkpoint() {
            if (!keeping()) throw new IllegalStateException(dropped != null ? dropped : "no copy kept for a checkpoint");
            if (frontier == null) return resumed;
            return Checkpoint.ofPaths(generated, terminals, depth, frontier.n, frontier.paths, frontier.off, frontier.words, seen, seenCount);
        }

        /** Writes the checkpoint of the last level completed to the file; false (nothing written) before the search has started. */
        public boolean write() {
            if (file == null) throw new IllegalStateException("no checkpoint file");
            if (!write(file)) return false;
            written = true;
            lastWrite = System.nanoTime();
            return true;
        }

        /**
         * Writes the checkpoint of the last level completed to {@code to}; false (nothing written) before the search has
         * started.
         *
         * @throws java.io.UncheckedIOException "cannot write checkpoint FILE: why"
         */
        public boolean write(java.nio.file.Path to) {
            Checkpoint c = checkpoint();
            if (c == null) return false;
            c.write(to, signature);
            return true;
        }
    }

    /** Shards in this process, handing batches over directly: the distributed search without a network. */
    public static final class InProcess implements Shards, AutoCloseable {
        final Shard[] shards;

        public InProcess(Supplier<? extends Model> initial, Set<Violation.Property> props, boolean reduce, int n, int threads) {
            shards = new Shard[n];
            for (int i = 0; i < n; i++) shards[i] = new Shard(initial, props, reduce, i, n, threads);
        }

        @Override public int size() { return shards.length; }

        @Override
        public void start(int depth) {
            for (Shard s : shards) s.start(depth);
        }

        @Override public void load(int owner, long[] fps, Batch states) { shards[owner].load(fps, states); }

        @Override
        public List<Batch> frontier(int[] from) {
            List<Batch> out = new ArrayList<>();
            for (int i = 0; i < shards.length; i++) out.add(shards[i].part(from[i], PART_WORDS));
            return out;
        }

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
