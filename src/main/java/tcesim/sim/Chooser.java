package tcesim.sim;

import java.util.SplittableRandom;

/**
 * Picks the next step among the enabled ones: from a seeded random source (simulation and campaigns) or
 * from an explicit list of choices (replay of a counterexample, and the checker's hook).
 */
public interface Chooser {
    /** An index in {@code [0, n)}, n >= 1. */
    int choose(int n);

    /** An index into the enabled {@code steps} (at least one); by default it depends only on their number. */
    default int choose(StepList steps) {
        return choose(steps.size());
    }

    /**
     * The step that can start first in simulated time (its actor's clock, or later when it waits for another's
     * work); on a tie, the one whose input was produced first (a thread serves its oldest event first), then the
     * first: a discrete-event run of the stack, for the cost model. No randomness.
     */
    static Chooser earliest(Stack stack) {
        return new Chooser() {
            @Override
            public int choose(int n) {
                throw new IllegalStateException("the earliest-start scheduler needs the steps");
            }

            @Override
            public int choose(StepList steps) {
                int best = 0;
                double t = Double.MAX_VALUE;
                double input = Double.MAX_VALUE;
                for (int i = 0; i < steps.size(); i++) {
                    double s = stack.readyTime(steps.actor(i), steps.kind(i));
                    double in = stack.inputTime(steps.actor(i), steps.kind(i));
                    if (s < t || (s == t && in < input)) {
                        t = s;
                        input = in;
                        best = i;
                    }
                }
                return best;
            }
        };
    }

    static Chooser seeded(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return r::nextInt;
    }

    /** A replayed choice that names a step the run does not have there. */
    final class ChoiceOutOfRange extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        /** 1-based position of the bad choice in the script, and the script's length. */
        public final int position, of;
        /** The bad choice, and how many steps were enabled when it was read. */
        public final int choice, enabled;

        ChoiceOutOfRange(int position, int of, int choice, int enabled) {
            super(String.format("choice %d of %d is %d, but only %d steps are enabled there (0..%d)", position, of, choice, enabled, enabled - 1));
            this.position = position;
            this.of = of;
            this.choice = choice;
            this.enabled = enabled;
        }
    }

    /** Replays {@code choices}, then picks the first enabled step once they run out; a choice out of range is {@link ChoiceOutOfRange}. */
    static Chooser scripted(int[] choices) {
        return new Chooser() {
            private int pos;

            @Override
            public int choose(int n) {
                if (pos >= choices.length) return 0;
                int c = choices[pos++];
                if (c < 0 || c >= n) {
                    throw new ChoiceOutOfRange(pos, choices.length, c, n);
                }
                return c;
            }
        };
    }
}
