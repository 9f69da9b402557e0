package tcesim.explore;

import java.util.Arrays;
import java.util.Set;
import java.util.function.IntFunction;
import tcesim.sim.Model;
import tcesim.sim.StepList;
import tcesim.sim.Violation;

/**
 * The rest of a {@link Checker} search, depth-first from each state of a breadth-first level too large to keep the
 * next level of: what the search then holds grows with the distinct states alone (the seen set's fingerprints), not
 * with the widest level's saved words, which are what stop a breadth-first search of a large space (three packets
 * each way: levels of millions of states).
 *
 * <p>The states of the level are taken in order; from each, every state not seen yet is expanded before the next
 * one of the level, its successors in step order, the path from the level's state kept on a stack with each state's
 * saved words. Exactly the states of the breadth-first search are expanded, each once, with the same successors:
 * a completed search counts the same distinct states, states generated and end states, and finds a violation when
 * and only when the breadth-first search finds one. Two things differ. The counterexample is the first violation in
 * depth-first order, so it may be longer than the shortest (the breadth-first part has shown there is none within its
 * levels). And the depth reported is the longest path followed, which the breadth-first search's longest shortest
 * path does not exceed. It runs on one thread: the order of a depth-first search is what makes its counterexample
 * and a stopped search's counts the same on every run.
 */
final class DepthFirst {
    /** What the search asks of its caller every few hundred states. */
    interface Watch {
        /** Why the search must stop now (interrupted, memory bound), or null; also the place to report progress. */
        String stop(long generated, long distinct, int levelState, long stackBytes);

        /**
         * Called between two states of the level, when every state seen is expanded or a state of the level from
         * {@code next} on (the place for a checkpoint); returns why the search must stop now, or null.
         */
        String between(int next, long generated, long terminals, int deepest);
    }

    private final Checker.Worker w;
    private final Set<Violation.Property> props;
    private final boolean reduce;
    private final FingerprintSet seen;
    private final long maxStates;
    private final Watch watch;

    // The stack: frame f is a state of the path, its words at words[at[f], at[f] + len[f]), the choice that led to it
    // from frame f - 1, its enabled steps, the next one to take (-1 before its first visit) and, under the reduction,
    // the one step explored (else -1).
    private long[] words = new long[4096];
    private int[] at = new int[64], len = new int[64], chosen = new int[64], next = new int[64], only = new int[64];
    private StepList[] enabled = new StepList[64];
    private int sp;

    private long generated, terminals;
    private int deepest;

    DepthFirst(Checker.Worker w, Set<Violation.Property> props, boolean reduce, FingerprintSet seen, long maxStates, Watch watch) {
        this.w = w;
        this.props = props;
        this.reduce = reduce;
        this.seen = seen;
        this.maxStates = maxStates;
        this.watch = watch;
    }

    /**
     * Searches on from every state of {@code level} (the states of breadth-first depth {@code depth}, whose node
     * paths {@code pathOf} gives), after {@code generated} states generated and {@code terminals} end states, and
     * paths of up to {@code deepestBefore} choices followed (by the search this one goes on from).
     */
    Checker.Result run(Checker.Level level, IntFunction<int[]> pathOf, long generated, long terminals, int depth, int deepestBefore) {
        this.generated = generated;
        this.terminals = terminals;
        this.deepest = Math.max(depth, deepestBefore);
        Model m = w.model;
        Checker.Level.Reader states = level.reader();
        long polled = generated;
        for (int k = 0; k < level.count; k++) {
            if (k > 0) {
                String stop = watch.between(k, this.generated, this.terminals, this.deepest);
                if (stop != null) return stopped(stop);
            }
            states.read(k);
            sp = 0;
            push(states.words(), 0, states.length(), -1);
            while (sp > 0) {
                if (this.generated - polled >= 256) {
                    polled = this.generated;
                    String stop = watch.stop(this.generated, seen.size(), k, stackBytes());
                    if (stop != null) return stopped(stop);
                }
                int f = sp - 1;
                if (next[f] < 0) {
                    w.restore(words, at[f], len[f]);
                    m.enabledSteps(enabled[f]);
                    only[f] = reduce ? Checker.independentStep(m, enabled[f]) : -1;
                    next[f] = 0;
                    deepest = Math.max(deepest, depth + f + 1); // the choices of a path through this state and on from it
                } else if (next[f] >= enabled[f].size()) {
                    sp--;
                    continue;
                } else {
                    // The model is in the state of another frame, or a step past this one: put this one back.
                    w.restore(words, at[f], len[f]);
                }
                int i = next[f];
                if (only[f] >= 0) {
                    i = only[f];
                    next[f] = enabled[f].size();
                } else {
                    next[f]++;
                }
                // The enabled list stays valid across restores: they bring back the same actors in the same state.
                enabled[f].actor(i).step(enabled[f].kind(i));
                w.stepsTaken++;
                byte end = Checker.settle(w, props);
                w.atSnapshot = end == Checker.Successors.BRANCH;
                this.generated++;
                if (end == Checker.Successors.VIOLATION) {
                    Violation v = m.violation(props);
                    return new Checker.Result(Checker.Verdict.UNSAFE, v != null ? v : m.stuck(), path(pathOf.apply(level.node[k]), i), this.generated,
                            seen.size(), deepest, this.terminals, Checker.collision(seen.size(), this.generated), null, true);
                }
                if (end == Checker.Successors.END) {
                    this.terminals++;
                    continue;
                }
                int mark = nextFrameAt();
                w.out.reset();
                m.save(w.out);
                int n = w.out.size();
                if (!seen.add(w.out.hash())) continue;
                if (mark + n > words.length) words = Arrays.copyOf(words, Math.max(2 * words.length, mark + n));
                System.arraycopy(w.out.words(), 0, words, mark, n);
                push(null, mark, n, i);
                if (seen.size() >= maxStates) return stopped("state limit of " + maxStates + " reached");
            }
        }
        return new Checker.Result(Checker.Verdict.SAFE, null, null, this.generated, seen.size(), deepest, this.terminals,
                Checker.collision(seen.size(), this.generated), null, true);
    }

    private Checker.Result stopped(String why) {
        return new Checker.Result(Checker.Verdict.INCOMPLETE, null, null, generated, seen.size(), deepest, terminals,
                Checker.collision(seen.size(), generated), why, true);
    }

    /** Where the next frame's words go. */
    private int nextFrameAt() {
        return sp == 0 ? 0 : at[sp - 1] + len[sp - 1];
    }

    /** Pushes a frame: its words copied from {@code from[at, at + n)}, or already in place at {@code at} when {@code from} is null. */
    private void push(long[] from, int start, int n, int choice) {
        if (sp == at.length) {
            int cap = 2 * sp;
            at = Arrays.copyOf(at, cap);
            len = Arrays.copyOf(len, cap);
            chosen = Arrays.copyOf(chosen, cap);
            next = Arrays.copyOf(next, cap);
            only = Arrays.copyOf(only, cap);
            enabled = Arrays.copyOf(enabled, cap);
        }
        if (from != null) {
            if (n > words.length) words = Arrays.copyOf(words, Math.max(2 * words.length, n));
            System.arraycopy(from, start, words, 0, n);
            start = 0;
        }
        if (enabled[sp] == null) enabled[sp] = new StepList();
        enabled[sp].clear();
        at[sp] = start;
        len[sp] = n;
        chosen[sp] = choice;
        next[sp] = -1;
        sp++;
    }

    /** The choices to the level's state ({@code toLevel}), then along the stack, then {@code last}. */
    private int[] path(int[] toLevel, int last) {
        int[] p = Arrays.copyOf(toLevel, toLevel.length + sp);
        for (int f = 1; f < sp; f++) p[toLevel.length + f - 1] = chosen[f];
        p[p.length - 1] = last;
        return p;
    }

    /** What the stack holds. */
    private long stackBytes() {
        return 8L * words.length + 20L * at.length;
    }
}
