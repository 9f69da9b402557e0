package tcesim.sim;

import java.util.SplittableRandom;

/**
 * Picks the next step among the enabled ones: from a seeded random source (simulation and campaigns) or
 * from an explicit list of choices (replay of a counterexample, and the checker's hook).
 */
public interface Chooser {
    /** An index in {@code [0, n)}, n >= 1. */
    int choose(int n);

    static Chooser seeded(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return r::nextInt;
    }

    /** Replays {@code choices}, then picks the first enabled step once they run out. */
    static Chooser scripted(int[] choices) {
        return new Chooser() {
            private int pos;

            @Override
            public int choose(int n) {
                if (pos >= choices.length) return 0;
                int c = choices[pos++];
                if (c < 0 || c >= n) throw new IllegalArgumentException("choice " + c + " at step " + (pos - 1) + " but only " + n + " steps enabled");
                return c;
            }
        };
    }
}
