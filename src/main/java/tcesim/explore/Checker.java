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
 * <p>Breadth-first over the branching points of a run: a state is one where more than one step is enabled
 * (steps with no alternative are taken at once, as {@link tcesim.sim.Simulation} does, so a counterexample's
 * choices, one per branching point, replay with {@code Chooser.scripted}). Each state of the frontier is kept as
 * the words its model {@linkplain Model#save saves}; a worker {@linkplain Model#restore restores} them into its
 * own model, takes one step, runs on to the next branching point and saves the result, whose hash is the
 * fingerprint kept in a primitive {@link FingerprintSet}. Breadth-first order makes the first violation found one
 * with the fewest choices; ties go to the lowest state and step index, so results do not depend on the number of
 * workers. Each state remembers its parent and the choice that led to it, for the counterexample.
 *
 * <p>Reduction (optional, on by default): when the model names an independent actor
 * ({@link Model#independentActor()}) and it has an enabled step, that step alone is explored. The model vouches
 * that the actor's steps commute with every other actor's step enabled beside them, enable or disable none of
 * them, and are invisible to the oracles, and that its state graph is acyclic (which discharges the cycle
 * proviso): then the singleton is an ample set in the sense of partial-order reduction, and verdicts are those of
 * the full search (tests check this against the unreduced search on the hand-built models). The stack names
 * none: a packet's arrival wakes vhost's RX queue, so whether it comes before or after a miss decides whether
 * vhost tries again and queues a second MISS, and every interleaving of the stack is explored.
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
     * @param frontierLimit the most states a breadth-first level may hold: the search goes on {@linkplain DepthFirst
     *     depth-first} from each state of a larger one
     */
    public record Options(long maxStates, int workers, boolean reduce, PrintWriter progress, Set<Violation.Property> properties,
                          long maxBytes, java.nio.file.Path checkpoint, java.nio.file.Path resume, long frontierLimit) {
        /**
         * The default frontier limit: a level of a million states takes about half a gigabyte packed, with the next
         * level's records beside it; searches of two packets each way never reach it.
         */
        public static final long FRONTIER_LIMIT = 1_000_000;

        public Options(long maxStates, int workers, boolean reduce, PrintWriter progress, Set<Violation.Property> properties,
                       long maxBytes, java.nio.file.Path checkpoint, java.nio.file.Path resume) {
            this(maxStates, workers, reduce, progress, properties, maxBytes, checkpoint, resume, FRONTIER_LIMIT);
        }

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
     * @param depth BFS levels explored (choices along the longest shortest path); with a depth-first rest, the longest
     *     path it followed
     * @param terminals end states where the workload finished
     * @param stopped why an INCOMPLETE search stopped (state limit, memory bound, interrupted), else null
     * @param depthFirst whether the search went on {@linkplain DepthFirst depth-first} past a level larger than the
     *     frontier limit: then a counterexample is not always the shortest
     */
    public record Result(Verdict verdict, Violation violation, int[] choices, long generated, long distinct, int depth,
                         long terminals, double collisionProbability, String stopped, boolean depthFirst) {
        Result(Verdict verdict, Violation violation, int[] choices, long generated, long distinct, int depth, long terminals, double collisionProbability) {
            this(verdict, violation, choices, generated, distinct, depth, terminals, collisionProbability, null);
        }

        public Result(Verdict verdict, Violation violation, int[] choices, long generated, long distinct, int depth, long terminals,
                      double collisionProbability, String stopped) {
            this(verdict, violation, choices, generated, distinct, depth, terminals, collisionProbability, stopped, false);
        }

        /** Whether the counterexample is known to be one of the shortest (breadth-first found it). */
        public boolean shortest() { return choices != null && !depthFirst; }
    }

    /** What the search has done so far, readable from another thread (e.g. on Ctrl-C). */
    public record Progress(long generated, long distinct, int depth, long queued) {}

    private volatile Progress progress = new Progress(0, 0, 0, 0);
    /** Distinct states when this run started: those of the checkpoint it resumed, or 0. */
    private volatile long distinctAtStart;
    private volatile boolean stopRequested;
    private final long signature;

    private final Supplier<? extends Model> initial;
    private final Options opt;

    // Nodes: parent index and the choice that led from it.
    private int[] parent = new int[1024];
    private int[] choice = new int[1024];
    private int nodes;

    /** @param initial builds the initial state afresh (once per worker: states are restored into it) */
    public Checker(Supplier<? extends Model> initial, Options opt) {
        this(initial, opt, 0);
    }

    /**
     * @param signature identifies the configuration, so that a checkpoint is only resumed for the same one
     */
    public Checker(Supplier<? extends Model> initial, Options opt, long signature) {
        this(initial, opt, signature, false);
    }

    /**
     * @param timed time each phase of the expansion ({@link #phases()}): a measurement for {@code bench}, which costs a few
     *     reads of the clock per successor
     */
    public Checker(Supplier<? extends Model> initial, Options opt, long signature, boolean timed) {
        this(initial, opt, signature, timed, CHECKPOINT_PERIOD_NANOS);
    }

    /** @param checkpointPeriodNanos how often a checkpoint asked for is written (a test's value; else {@link #CHECKPOINT_PERIOD_NANOS}) */
    Checker(Supplier<? extends Model> initial, Options opt, long signature, boolean timed, long checkpointPeriodNanos) {
        this.initial = initial;
        this.opt = opt;
        this.signature = signature;
        this.timed = timed;
        this.checkpointPeriodNanos = checkpointPeriodNanos;
    }

    /** How often --checkpoint's file is written: every minute, at the end of a level (depth-first: between two states of the level it goes on from). */
    public static final long CHECKPOINT_PERIOD_NANOS = 60_000_000_000L;

    private final long checkpointPeriodNanos;

    private final boolean timed;

    /**
     * Where the expansion's time went, in ns of the wall clock summed over the workers: the model's steps (with the
     * search for the enabled ones and the oracles' verdicts), saving states, restoring them, hashing their words. The
     * rest of a search (the seen set, the successors' records, the merge, the levels) is its bookkeeping.
     */
    public record Phases(long step, long save, long restore, long hash) {
        public long sum() { return step + save + restore + hash; }
    }

    /** The phases' times of a {@code timed} checker's runs so far (zeros when not timed). */
    public Phases phases() {
        long[] ns = phaseNanos;
        synchronized (ns) {
            return new Phases(ns[Laps.STEP], ns[Laps.SAVE], ns[Laps.RESTORE], ns[Laps.HASH]);
        }
    }

    private final long[] phaseNanos = new long[4];

    /** A worker's clock for the phases: {@link #start} before a phase, {@link #lap} after it. */
    static final class Laps {
        static final int STEP = 0, SAVE = 1, RESTORE = 2, HASH = 3;
        final long[] ns = new long[4];
        private long from;

        void start() { from = System.nanoTime(); }

        void lap(int phase) { ns[phase] += System.nanoTime() - from; }
    }

    /** Asks the search to stop at the end of the current level (it then writes its checkpoint, if one is configured). */
    public void stop() { stopRequested = true; }

    public Progress progress() { return progress; }

    /**
     * The model steps the search has taken: one per successor generated, plus those taken on the way to the next
     * branching point (a measure of its work apart from saving, restoring and hashing states).
     */
    public long steps() { return modelSteps.get(); }

    private final java.util.concurrent.atomic.AtomicLong modelSteps = new java.util.concurrent.atomic.AtomicLong();

    /** The levels' states: words as saved and as packed, summed over the levels of the search. */
    private long savedWords, packedWords;

    /** What the levels' states took packed, as a share of their words as saved (1 before the first level). */
    public double packedShare() { return savedWords == 0 ? 1 : (double) packedWords / savedWords; }

    /**
     * The states of one breadth-first level: their node numbers and saved words, packed ({@link PackedStates}). The words
     * stay where the expansion packed them: the level takes over its successor records' stores (segments) and names
     * each state by its segment and entry there, so that the merge moves no words (a successor the merge drops, one
     * seen already, stays in its segment unnamed). States {@link #add}ed one by one (the root, a checkpoint's) go in a
     * segment of the level's own.
     */
    static final class Level {
        private final PackedStates.Blocks pool;
        int[] node = new int[16];
        private int[] seg = new int[16];
        private int[] entry = new int[16];
        private final List<PackedStates> segments = new ArrayList<>();
        private PackedStates own;
        int count;
        /** The words of the states, as saved. */
        long savedWords;

        Level(PackedStates.Blocks pool) {
            this.pool = pool;
        }

        void add(int nodeId, long[] w, int from, int n) {
            if (own == null) {
                own = new PackedStates(pool);
                segments.add(own);
            }
            own.add(w, from, n);
            name(nodeId, segments.size() - 1, own.count() - 1, n);
        }

        /** Takes entry {@code e} of {@code s} as the next state; a store taken over is the level's until it is cleared. */
        void adopt(int nodeId, PackedStates s, int e) {
            int last = segments.size() - 1;
            if (last < 0 || segments.get(last) != s) {
                segments.add(s);
                last++;
            }
            name(nodeId, last, e, s.length(e));
        }

        private void name(int nodeId, int s, int e, int n) {
            if (count == node.length) {
                node = Arrays.copyOf(node, count * 2);
                seg = Arrays.copyOf(seg, count * 2);
                entry = Arrays.copyOf(entry, count * 2);
            }
            node[count] = nodeId;
            seg[count] = s;
            entry[count++] = e;
            savedWords += n;
        }

        /** Words its segments hold packed. */
        long packedWords() {
            long w = 0;
            for (PackedStates s : segments) w += s.words();
            return w;
        }

        /** What the level takes besides the blocks of its states (which their pool counts). */
        long bytes() {
            long b = 12L * node.length;
            for (PackedStates s : segments) b += s.bytes();
            return b;
        }

        /** Empties the level, its segments' blocks back to the pool (its own arrays are kept: the next level is about as large). */
        Level clear() {
            for (PackedStates s : segments) s.clear();
            segments.clear();
            own = null;
            count = 0;
            savedWords = 0;
            return this;
        }

        /** Reads the level's states, in order from any one of them (one reader a thread). */
        Reader reader() { return new Reader(); }

        final class Reader {
            private PackedStates.Cursor cursor;
            private int at = -1;

            /** Reads state {@code k}: its words are {@code words()[0, length())} until the next read. */
            void read(int k) {
                if (cursor == null || seg[k] != at) {
                    at = seg[k];
                    cursor = segments.get(at).cursor();
                }
                cursor.read(entry[k]);
            }

            long[] words() { return cursor.words(); }

            int length() { return cursor.length(); }
        }
    }

    /**
     * What the successors of a run of frontier states led to, in order: per successor its state's index in
     * the run, the choice, how it ended, and for a new branching state its fingerprint and words.
     */
    static final class Successors {
        /** A branching state not seen before this level (its words are kept), an end state, a violation, a branching state seen already (no words). */
        static final byte BRANCH = 0, END = 1, VIOLATION = 2, SEEN = 3;
        /** The first frontier state of the run. */
        int start;
        int n;
        int[] from = new int[64];
        int[] choice = new int[64];
        byte[] kind = new byte[64];
        long[] fp = new long[64];
        int[] off = new int[65];
        /**
         * The saved words of the branching successors, back to back (the model saves straight into it); when the record
         * packs them, only the words of the successor being saved, until {@link #keep} packs them into {@link #packed}.
         */
        final tcesim.state.StateWriter words = new tcesim.state.StateWriter();
        /** The branching successors' words, in order, when the record packs them; else null. */
        PackedStates packed;
        private final PackedStates.Blocks pool;
        /**
         * With packed words, the fingerprints of the branching successors packed so far: one that comes again in the
         * record (the same state reached another way, mostly in the same level) is recorded as seen, without words, as
         * the merge, which keeps the first in order, would drop it. Null otherwise.
         */
        private final FingerprintSet packedFps;
        final List<Violation> violations = new ArrayList<>();

        /** A record keeping the successors' words as saved, at {@link #off}. */
        Successors() {
            this(null);
        }

        /** @param pool if not null, keep the successors' words packed in its blocks, to be read in order with a cursor of {@link #packed} */
        Successors(PackedStates.Blocks pool) {
            this.pool = pool;
            packed = pool == null ? null : new PackedStates(pool);
            packedFps = pool == null ? null : FingerprintSet.small(1024);
        }

        /** Whether a branching successor of fingerprint {@code fp}, not seen before the level, is the record's first of it. */
        boolean firstInRecord(long fp) {
            return packedFps == null || packedFps.add(fp);
        }

        /** The packed words, for the next level to keep: the record goes on with an empty store of its own. */
        PackedStates handOver() {
            PackedStates s = packed;
            packed = new PackedStates(pool);
            return s;
        }

        /** What the record takes besides the blocks of its packed words (which their pool counts). */
        long bytes() { return 8L * words.words().length + 25L * from.length + (packed == null ? 0 : packed.bytes()); }

        /** Keeps the words saved since {@code mark} as those of the branching successor recorded next (packed, when this record packs). */
        void keep(int mark) {
            if (packed == null) return;
            packed.add(words.words(), mark, words.size() - mark);
            words.truncate(mark);
        }

        /** Empties the record for the run starting at frontier state {@code first} (its arrays are kept). */
        Successors reset(int first) {
            start = first;
            n = 0;
            words.reset();
            if (packed != null) packed.clear();
            if (packedFps != null) packedFps.clear();
            violations.clear();
            return this;
        }

        /** Records a successor; a branching one's words are those written to {@link #words} since {@code mark}. */
        void add(int state, int c, byte k, long f) {
            if (n == from.length) {
                int cap = n * 2;
                from = Arrays.copyOf(from, cap);
                choice = Arrays.copyOf(choice, cap);
                kind = Arrays.copyOf(kind, cap);
                fp = Arrays.copyOf(fp, cap);
                off = Arrays.copyOf(off, cap + 1);
            }
            from[n] = state;
            choice[n] = c;
            kind[n] = k;
            fp[n] = f;
            n++;
            off[n] = words.size();
        }
    }

    /** A model and its buffers, used by one thread at a time. */
    static final class Worker {
        final Model model;
        final StepList enabled = new StepList();
        final StepList steps = new StepList();
        /** Model steps taken since the last {@link #flushSteps}. */
        long stepsTaken;
        final tcesim.state.StateWriter out = new tcesim.state.StateWriter();
        final tcesim.state.StateReader in = new tcesim.state.StateReader();
        /** Whether the model is in the state it last saved or restored (then only the parts that differ need restoring). */
        boolean atSnapshot;
        /** The phases' clock when the search is timed, else null. */
        final Laps laps;

        Worker(Model model) {
            this(model, false);
        }

        Worker(Model model, boolean timed) {
            this.model = model;
            this.laps = timed ? new Laps() : null;
        }

        void restore(long[] words, int at, int len) {
            if (atSnapshot) model.restoreChanged(in.reset(words, at, len));
            else model.restore(in.reset(words, at, len));
            atSnapshot = true;
        }
    }

    /** Successor records handed back after each level, so that their buffers are reused. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Successors> spareSuccessors = new java.util.concurrent.ConcurrentLinkedQueue<>();

    public Result run() {
        long t0 = System.nanoTime();
        long lastReport = t0;
        long lastCheckpoint = t0;
        FingerprintSet seen;
        long generated;
        long terminals;
        int depth;
        Level frontier;
        Level spare = new Level(blocks);
        java.util.concurrent.BlockingQueue<Worker> workers = new java.util.concurrent.LinkedBlockingQueue<>();
        Worker main = new Worker(initial.get(), timed);
        workers.add(main);
        // A checkpoint written depth-first: the search goes on depth-first from its first state, as it went.
        boolean deep = false;
        int deepest = 0;
        if (opt.resume() != null) {
            Resumed r = readCheckpoint(opt.resume());
            seen = r.seen();
            generated = r.generated();
            terminals = r.terminals();
            depth = r.depth();
            frontier = r.frontier();
            deep = r.depthFirst();
            deepest = r.deepest();
        } else {
            seen = new FingerprintSet(1 << 16);
            generated = 1;
            terminals = 0;
            depth = 0;
            Model root = main.model;
            byte end = settle(main, opt.properties());
            flushSteps(main);
            if (end == Successors.VIOLATION) return new Result(Verdict.UNSAFE, root.violation(opt.properties()) != null ? root.violation(opt.properties())
                    : root.stuck(), new int[0], 1, 1, 0, 0, 0);
            if (end == Successors.END) return new Result(Verdict.SAFE, null, null, 1, 1, 0, 1, 0);
            root.save(main.out.reset());
            seen.add(main.out.hash());
            addNode(-1, -1);
            frontier = new Level(blocks);
            frontier.add(0, main.out.words(), 0, main.out.size());
        }
        // Counted from what a resumed search already holds, not from 0; the rates count only what this run finds.
        progress = new Progress(generated, seen.size(), depth, frontier.count);
        distinctAtStart = seen.size();
        for (int w = 1; w < opt.workers(); w++) workers.add(new Worker(initial.get(), timed));
        ExecutorService pool = opt.workers() > 1 ? Executors.newFixedThreadPool(opt.workers(), r -> {
            Thread t = new Thread(r, "tcesim-check");
            t.setDaemon(true);
            return t;
        }) : null;
        this.t0 = t0;
        abort = null;
        String limit = null;
        try {
            while (frontier.count > 0) {
                String stop = limit != null ? limit : stopRequested ? "interrupted"
                        : memoryBytes(seen, frontier) + blocks.bytes() > opt.maxBytes() ? memoryStop() : null;
                if (stop != null) {
                    if (opt.checkpoint() != null) tryCheckpoint(seen, frontier, 0, deep, generated, terminals, depth, Math.max(depth, deepest));
                    return new Result(Verdict.INCOMPLETE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated), stop, deep);
                }
                if (frontier.count > opt.frontierLimit() || deep) {
                    // The first checkpoint of the depth-first search: the whole level it goes on from.
                    if (opt.checkpoint() != null && !tryCheckpoint(seen, frontier, 0, true, generated, terminals, depth, Math.max(depth, deepest))) {
                        return new Result(Verdict.INCOMPLETE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated),
                                "the checkpoint could not be written", deep);
                    }
                    // No level comes after this one: what the levels kept for the next (the spare level's blocks, the
                    // successor records) goes.
                    spare.clear();
                    spareSuccessors.clear();
                    blocks.dropFree();
                    return depthFirst(main, seen, frontier, generated, terminals, depth, deepest);
                }
                levelBase = memoryBytes(seen, frontier) + spare.bytes();
                for (Successors s : spareSuccessors) levelBase += s.bytes();
                levelRecords.set(0);
                List<Successors> expanded = expandAll(frontier, pool, workers, seen);
                if (abort != null) {
                    // The level was left half done: the frontier before it is still whole, so that is what a resume starts from.
                    spareSuccessors.addAll(expanded);
                    if (opt.checkpoint() != null) tryCheckpoint(seen, frontier, generated, terminals, depth);
                    return new Result(Verdict.INCOMPLETE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated), abort);
                }
                depth++;
                Level next = spare.clear();
                for (Successors part : expanded) {
                    int base = part.start;
                    int v = 0;
                    PackedStates packed = part.packed;
                    int entry = -1;
                    boolean kept = false;
                    for (int k = 0; k < part.n; k++) {
                        generated++;
                        int state = base + part.from[k];
                        if (part.kind[k] == Successors.VIOLATION) {
                            int[] path = append(pathOf(frontier.node[state]), part.choice[k]);
                            return new Result(Verdict.UNSAFE, part.violations.get(v), path, generated, seen.size(), depth, terminals,
                                    collision(seen.size(), generated));
                        }
                        if (part.kind[k] == Successors.SEEN) continue;
                        if (part.kind[k] == Successors.END) {
                            terminals++;
                            continue;
                        }
                        entry++; // every branching successor's words are packed, in order, whether it is new or not
                        if (!seen.add(part.fp[k])) continue;
                        addNode(frontier.node[state], part.choice[k]);
                        next.adopt(nodes - 1, packed, entry);
                        kept = true;
                        if (seen.size() >= opt.maxStates() && limit == null) {
                            limit = "state limit of " + opt.maxStates() + " reached";
                            // With a checkpoint, the level is merged to its end first, so that the checkpoint holds a whole level.
                            if (opt.checkpoint() == null) {
                                return new Result(Verdict.INCOMPLETE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated), limit);
                            }
                        }
                    }
                    if (kept) part.handOver(); // the next level holds its states where they are
                    else part.packed.clear();
                }
                spareSuccessors.addAll(expanded);
                savedWords += next.savedWords;
                packedWords += next.packedWords();
                spare = frontier.clear(); // expanded: its blocks are free for the next level
                frontier = next;
                progress = new Progress(generated, seen.size(), depth, frontier.count);
                long now = System.nanoTime();
                if (opt.progress() != null && now - lastReport > 3_000_000_000L) {
                    lastReport = now;
                    double secs = (now - t0) / 1e9;
                    opt.progress().printf("Progress: %d states generated, %d distinct, %d on queue, depth %d, %.0f distinct states/s%n",
                            generated, seen.size(), frontier.count, depth, (seen.size() - distinctAtStart) / secs);
                    opt.progress().flush();
                }
                if (opt.checkpoint() != null && now - lastCheckpoint > checkpointPeriodNanos) {
                    lastCheckpoint = now;
                    // A checkpoint asked for and not written: stop, rather than go on for hours with nothing to resume from
                    // (the file keeps the one written before, if any).
                    if (!tryCheckpoint(seen, frontier, generated, terminals, depth)) {
                        return new Result(Verdict.INCOMPLETE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated),
                                "the checkpoint could not be written");
                    }
                }
            }
        } finally {
            if (pool != null) pool.shutdownNow();
        }
        return new Result(Verdict.SAFE, null, null, generated, seen.size(), depth, terminals, collision(seen.size(), generated));
    }

    /** The rest of the search, depth-first from each state of {@code frontier}, a level larger than the frontier limit. */
    private Result depthFirst(Worker main, FingerprintSet seen, Level frontier, long generated, long terminals, int depth, int deepest) {
        long[] lastReport = {System.nanoTime()};
        long[] lastCheckpoint = {System.nanoTime()};
        DepthFirst.Watch watch = new DepthFirst.Watch() {
            @Override
            public String stop(long gen, long distinct, int levelState, long stackBytes) {
                progress = new Progress(gen, distinct, depth, frontier.count - levelState);
                long now = System.nanoTime();
                if (opt.progress() != null && now - lastReport[0] > 3_000_000_000L) {
                    lastReport[0] = now;
                    opt.progress().printf("Progress: %d states generated, %d distinct, depth-first from state %d of the %d of depth %d, %.0f distinct states/s%n",
                            gen, distinct, levelState + 1, frontier.count, depth, (distinct - distinctAtStart) / ((now - t0) / 1e9));
                    opt.progress().flush();
                }
                if (stopRequested) return "interrupted";
                return memoryBytes(seen, frontier) + blocks.bytes() + stackBytes > opt.maxBytes() ? memoryStop() : null;
            }

            @Override
            public String between(int next, long gen, long term, int deepestSoFar) {
                long now = System.nanoTime();
                if (opt.checkpoint() == null || now - lastCheckpoint[0] <= checkpointPeriodNanos) return null;
                lastCheckpoint[0] = now;
                // As the breadth-first search: a checkpoint asked for and not written stops the search.
                return tryCheckpoint(seen, frontier, next, true, gen, term, depth, deepestSoFar) ? null : "the checkpoint could not be written";
            }
        };
        try {
            return new DepthFirst(main, opt.properties(), opt.reduce(), seen, opt.maxStates(), watch)
                    .run(frontier, this::pathOf, generated, terminals, depth, deepest);
        } finally {
            flushSteps(main);
        }
    }

    private String memoryStop() {
        return String.format("memory bound of %s reached", opt.maxBytes() >= 1 << 20 ? (opt.maxBytes() >> 20) + " MiB" : opt.maxBytes() + " bytes");
    }

    // Within a level: why the workers stopped early, what the search held when it began (but its blocks, counted as they
    // are taken), successors recorded since.
    private volatile String abort;
    private long levelBase;
    private final java.util.concurrent.atomic.AtomicLong levelRecords = new java.util.concurrent.atomic.AtomicLong();
    private long t0;
    private long lastInLevelReport;

    /** Checked by the workers every few hundred states: Ctrl-C and the memory bound act within a long level too. */
    private boolean shouldAbort(long records, long states, long distinctSoFar) {
        if (stopRequested) abort = "interrupted";
        else if (levelBase + blocks.bytes() + 25 * levelRecords.addAndGet(records) > opt.maxBytes()) abort = memoryStop();
        reportInLevel(states, distinctSoFar);
        return abort != null;
    }

    private synchronized void reportInLevel(long states, long distinct) {
        long now = System.nanoTime();
        if (opt.progress() == null || now - Math.max(lastInLevelReport, t0) < 3_000_000_000L) return;
        lastInLevelReport = now;
        opt.progress().printf("Progress: %d states of the level expanded, %d distinct before it, %.0f distinct states/s%n", states, distinct,
                (distinct - distinctAtStart) / ((now - t0) / 1e9));
        opt.progress().flush();
    }

    /**
     * What the search holds: the seen set, the nodes (parent and choice), the frontier (its blocks apart); besides, what
     * growing takes (the seen set's largest table twice over, the node arrays twice over: a copy twice as large beside
     * the old one), so that a search stops at its bound rather than running out of memory in a merge.
     */
    private long memoryBytes(FingerprintSet seen, Level frontier) {
        return seen.bytes() + seen.growthBytes() + 3 * 8L * parent.length + frontier.bytes();
    }

    /** The blocks every level's and successor record's states are packed in. */
    private final PackedStates.Blocks blocks = new PackedStates.Blocks();

    /** Why the last checkpoint asked for could not be written (the file then holds the one written before it, if any), or null. */
    public String checkpointFailure() { return checkpointFailure; }

    private String checkpointFailure;

    /** Writes the checkpoint of the breadth-first level {@code frontier}; see {@link #tryCheckpoint(FingerprintSet, Level, int, boolean, long, long, int, int)}. */
    private boolean tryCheckpoint(FingerprintSet seen, Level frontier, long generated, long terminals, int depth) {
        return tryCheckpoint(seen, frontier, 0, false, generated, terminals, depth, 0);
    }

    /**
     * Writes the checkpoint to --checkpoint's file: the states of {@code frontier} from {@code from} on (breadth-first,
     * the whole level; {@code depthFirst}, those left of the level it goes on from, with {@code deepest} the longest path
     * followed); false, with {@link #checkpointFailure} saying why, when it cannot.
     */
    private boolean tryCheckpoint(FingerprintSet seen, Level frontier, int from, boolean depthFirst, long generated, long terminals, int depth, int deepest) {
        try {
            Checkpoint.ofLevel(generated, terminals, depth, nodes, parent, choice, frontier, from, seen, depthFirst, deepest).write(opt.checkpoint(), signature);
            checkpointFailure = null;
            return true;
        } catch (java.io.UncheckedIOException e) {
            checkpointFailure = e.getMessage();
            return false;
        }
    }

    private record Resumed(FingerprintSet seen, Level frontier, long generated, long terminals, int depth, boolean depthFirst, int deepest) {}

    /** Reads a checkpoint (the local checker's or a cluster's) into this checker's nodes; see {@link Checkpoint#read}. */
    private Resumed readCheckpoint(java.nio.file.Path file) {
        Checkpoint c = Checkpoint.read(file, signature);
        nodes = c.nodes();
        parent = c.parents();
        choice = c.choices();
        Level frontier = new Level(blocks);
        int[] node = c.frontierNodes(), off = c.frontierOffsets();
        long[] words = c.frontierWords();
        for (int k = 0; k < c.states(); k++) frontier.add(node[k], words, off[k], off[k + 1] - off[k]);
        long[] fps = c.seen();
        FingerprintSet seen = new FingerprintSet(Math.max(16, c.distinct()));
        for (int i = 0; i < c.distinct(); i++) seen.add(fps[i]);
        return new Resumed(seen, frontier, c.generated(), c.terminals(), c.depth(), c.depthFirst(), c.deepest());
    }

    /** TLC's estimate of the probability that two distinct states shared a fingerprint: n(g - n) / 2^64. */
    static double collision(long distinct, long generated) {
        return (double) distinct * (double) Math.max(0, generated - distinct) / 0x1p64;
    }

    /** The successors of every frontier state, in frontier order, computed in runs by the workers. */
    private List<Successors> expandAll(Level frontier, ExecutorService pool, java.util.concurrent.BlockingQueue<Worker> workers, FingerprintSet seen) {
        if (pool == null) return List.of(expand(frontier, 0, frontier.count, workers.peek(), seen));
        int chunks = Math.min(frontier.count, opt.workers() * 4);
        List<Future<Successors>> futures = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) frontier.count * c / chunks);
            int to = (int) ((long) frontier.count * (c + 1) / chunks);
            futures.add(pool.submit(() -> {
                Worker w = workers.take();
                try {
                    return expand(frontier, from, to, w, seen);
                } finally {
                    workers.add(w);
                }
            }));
        }
        List<Successors> out = new ArrayList<>(chunks);
        try {
            for (Future<Successors> f : futures) out.add(f.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("check interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a worker failed: " + e.getCause(), e.getCause());
        }
        return out;
    }

    /**
     * Every successor of frontier states {@code [from, to)}, restored one by one into the worker's model. A successor
     * already in {@code seen} (which only the merge, between levels, changes: the workers only read it) is recorded
     * without its words; two new ones with one fingerprint are told apart by the merge, in order.
     */
    private Successors expand(Level frontier, int from, int to, Worker w, FingerprintSet seen) {
        try {
            return expandRun(frontier, from, to, w, seen);
        } finally {
            flushSteps(w);
        }
    }

    private Successors expandRun(Level frontier, int from, int to, Worker w, FingerprintSet seen) {
        Successors out = spareSuccessors.poll();
        out = out == null ? new Successors(blocks).reset(from) : out.reset(from);
        Set<Violation.Property> props = opt.properties();
        long reported = 0;
        Level.Reader states = frontier.reader();
        for (int k = from; k < to; k++) {
            if (((k - from) & 255) == 255) {
                if (shouldAbort(out.n - reported, k - from, progress.distinct())) return out;
                reported = out.n;
            }
            states.read(k);
            expandState(w, states.words(), 0, states.length(), k - from, props, opt.reduce(), seen, out);
        }
        return out;
    }

    /**
     * Every successor of one state (saved in {@code words[at, at + len)}), restored into the worker's model: each
     * explored step's outcome is added to {@code out} as from state {@code index}, in step order, a branching one
     * with its fingerprint and words unless {@code seen} holds it already.
     */
    static void expandState(Worker w, long[] words, int at, int len, int index, Set<Violation.Property> props, boolean reduce,
                            FingerprintSet seen, Successors out) {
        Model m = w.model;
        Laps laps = w.laps;
        if (laps != null) laps.start();
        w.restore(words, at, len);
        if (laps != null) {
            laps.lap(Laps.RESTORE);
            laps.start();
        }
        m.enabledSteps(w.enabled);
        if (laps != null) laps.lap(Laps.STEP);
        int n = w.enabled.size();
        int only = reduce ? independentStep(m, w.enabled) : -1;
        boolean fresh = true;
        for (int i = 0; i < n; i++) {
            if (only >= 0 && i != only) continue;
            // The enabled list stays valid across restores: they bring back the same actors in the same state.
            if (!fresh) {
                if (laps != null) laps.start();
                w.restore(words, at, len);
                if (laps != null) laps.lap(Laps.RESTORE);
            }
            fresh = false;
            if (laps != null) laps.start();
            w.enabled.actor(i).step(w.enabled.kind(i));
            w.stepsTaken++;
            byte end = settle(w, props);
            if (laps != null) laps.lap(Laps.STEP);
            w.atSnapshot = end == Successors.BRANCH;
            if (end == Successors.VIOLATION) {
                Violation v = m.violation(props);
                out.violations.add(v != null ? v : m.stuck());
                out.add(index, i, end, 0);
            } else if (end == Successors.END) {
                out.add(index, i, end, 0);
            } else {
                int mark = out.words.size();
                if (laps != null) laps.start();
                m.save(out.words);
                if (laps != null) {
                    laps.lap(Laps.SAVE);
                    laps.start();
                }
                long fp = tcesim.state.StateWriter.hash(out.words.words(), mark, out.words.size() - mark);
                if (laps != null) laps.lap(Laps.HASH);
                if (seen.contains(fp) || !out.firstInRecord(fp)) {
                    out.words.truncate(mark);
                    out.add(index, i, Successors.SEEN, fp);
                } else {
                    out.keep(mark);
                    out.add(index, i, end, fp);
                }
            }
        }
    }

    private void flushSteps(Worker w) {
        modelSteps.addAndGet(w.stepsTaken);
        w.stepsTaken = 0;
        if (w.laps != null) {
            synchronized (phaseNanos) {
                for (int i = 0; i < phaseNanos.length; i++) phaseNanos[i] += w.laps.ns[i];
            }
            Arrays.fill(w.laps.ns, 0);
        }
    }

    /** The index of the model's independent actor's step when it is enabled (the ample set of the reduction), else -1. */
    static int independentStep(Model m, StepList steps) {
        String name = m.independentActor();
        if (name == null) return -1;
        for (int i = 0; i < steps.size(); i++) if (name.equals(steps.actor(i).name())) return i;
        return -1;
    }

    /**
     * Takes every step that has no alternative and says where that led: a violation of a checked property, an
     * end state (the workload done, or nothing enabled when progress is not checked), or a branching state.
     */
    static byte settle(Worker w, Set<Violation.Property> props) {
        Model s = w.model;
        StepList steps = w.steps;
        while (true) {
            if (s.violation(props) != null) return Successors.VIOLATION;
            if (s.done()) return Successors.END;
            s.enabledSteps(steps);
            if (steps.size() == 0) {
                return props.contains(Violation.Property.PROGRESS) && s.stuck() != null ? Successors.VIOLATION : Successors.END;
            }
            if (steps.size() > 1) return Successors.BRANCH;
            steps.actor(0).step(steps.kind(0));
            w.stepsTaken++;
        }
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
