package tcesim.testutil;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import tcesim.state.Snapshot;
import tcesim.state.StateReader;
import tcesim.state.StateWriter;

/** A component's saved state, for tests: as words, and restored into another component. */
public final class States {
    private States() {}

    public static long[] words(Snapshot s) {
        StateWriter w = new StateWriter();
        s.save(w);
        return w.toArray();
    }

    /** The saved words as a list (AssertJ compares and prints it). */
    public static List<Long> of(Snapshot s) {
        List<Long> out = new ArrayList<>();
        for (long w : words(s)) out.add(w);
        return out;
    }

    /** Restores {@code from}'s state into {@code into}, checks that every word was read and that {@code into} now saves the same words. */
    public static <T extends Snapshot> T copyInto(T from, T into) {
        long[] w = words(from);
        StateReader r = new StateReader(w);
        into.restore(r);
        assertThat(r.atEnd()).as("restore reads every saved word").isTrue();
        assertThat(of(into)).as("state after restore").isEqualTo(of(from));
        return into;
    }
}
