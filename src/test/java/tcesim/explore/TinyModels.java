package tcesim.explore;

import tcesim.sim.Actor;
import tcesim.sim.Model;
import tcesim.sim.StepList;
import tcesim.sim.Violation;
import tcesim.state.StateReader;
import tcesim.state.StateWriter;

/** Hand-built models whose state spaces are known exactly. */
final class TinyModels {
    private TinyModels() {}

    /**
     * Two threads increment a shared counter without a lock: read into a register, then write register + 1.
     * When both are done the counter must be 2; the lost update needs both reads before either write.
     */
    static final class LostUpdate implements Model {
        int x;
        final int[] reg = new int[2];
        final int[] pc = new int[2];
        final Actor[] threads = {thread(0), thread(1)};

        private Actor thread(int id) {
            return new Actor() {
                @Override public String name() { return "t" + id; }
                @Override public String stepName(int kind) { return pc[id] == 0 ? "read" : "write"; }

                @Override
                public void enabledSteps(StepList out) {
                    if (pc[id] < 2) out.add(this, 0);
                }

                @Override
                public void step(int kind) {
                    if (pc[id] == 0) reg[id] = x;
                    else x = reg[id] + 1;
                    pc[id]++;
                }
            };
        }

        @Override
        public void enabledSteps(StepList out) {
            out.clear();
            for (Actor a : threads) a.enabledSteps(out);
        }

        @Override
        public Violation violation() {
            if (pc[0] == 2 && pc[1] == 2 && x != 2) return new Violation(Violation.Property.CORRUPTION, 0, "t", "x = " + x, "an update was lost", -1, -1);
            return null;
        }

        @Override public boolean done() { return pc[0] == 2 && pc[1] == 2; }
        @Override public Violation stuck() { return null; }

        @Override
        public void save(StateWriter out) {
            out.put(x);
            out.put(pc[0], pc[1]);
            out.put(reg[0], reg[1]);
        }

        @Override
        public void restore(StateReader in) {
            x = in.nextInt();
            pc[0] = in.nextInt();
            pc[1] = in.nextInt();
            reg[0] = in.nextInt();
            reg[1] = in.nextInt();
        }
    }

    /** Two counters, each stepped atomically from 0 to n: the grid of (n + 1)^2 states. */
    static final class Grid implements Model {
        final int n;
        /** The counter declared independent of the other (the reduction's ample set), or null. */
        String independent;
        final int[] c = new int[2];
        /** Runs after every step (a test's hook to act part-way through a search). */
        Runnable onStep = () -> { };
        final Actor[] counters = {counter(0), counter(1)};

        Grid(int n) { this.n = n; }

        private Actor counter(int id) {
            return new Actor() {
                @Override public String name() { return "c" + id; }
                @Override public String stepName(int kind) { return "inc"; }

                @Override
                public void enabledSteps(StepList out) {
                    if (c[id] < n) out.add(this, 0);
                }

                @Override
                public void step(int kind) {
                    c[id]++;
                    onStep.run();
                }
            };
        }

        @Override
        public void enabledSteps(StepList out) {
            out.clear();
            for (Actor a : counters) a.enabledSteps(out);
        }

        @Override public Violation violation() { return null; }
        @Override public String independentActor() { return independent; }
        @Override public boolean done() { return c[0] == n && c[1] == n; }
        @Override public Violation stuck() { return null; }
        @Override public void save(StateWriter out) { out.put(c[0], c[1]); }

        @Override
        public void restore(StateReader in) {
            c[0] = in.nextInt();
            c[1] = in.nextInt();
        }
    }
}
