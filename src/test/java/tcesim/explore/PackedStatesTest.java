package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tcesim.cli.StackOptions;
import tcesim.sim.Design;
import tcesim.sim.StepList;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.state.StateWriter;

class PackedStatesTest {
    /** States that grow, shrink and change a few words at a time, as a level's do, with now and then one unlike the last. */
    private static List<long[]> alike(long seed, int count) {
        SplittableRandom r = new SplittableRandom(seed);
        List<long[]> out = new ArrayList<>();
        long[] s = r.longs(1 + r.nextInt(150)).toArray();
        for (int i = 0; i < count; i++) {
            switch (r.nextInt(6)) {
                case 0 -> s = r.longs(r.nextInt(200)).toArray(); // unlike the last, of any length (0 included)
                case 1 -> s = Arrays.copyOf(s, s.length + 1 + r.nextInt(70)); // longer: new words are 0 ...
                case 2 -> s = Arrays.copyOf(s, Math.max(0, s.length - 1 - r.nextInt(70))); // ... or shorter
                default -> {
                    s = s.clone();
                    for (int k = r.nextInt(4); k > 0 && s.length > 0; k--) s[r.nextInt(s.length)] = r.nextInt(3) == 0 ? 0 : r.nextLong();
                }
            }
            out.add(s);
        }
        return out;
    }

    private static PackedStates pack(List<long[]> states) {
        PackedStates p = new PackedStates();
        long[] buf = new long[8];
        for (long[] s : states) {
            // Saved among other words, as a successor is saved after its siblings.
            if (buf.length < s.length + 5) buf = new long[s.length + 5];
            Arrays.fill(buf, -1L);
            System.arraycopy(s, 0, buf, 5, s.length);
            p.add(buf, 5, s.length);
        }
        return p;
    }

    private static long[] read(PackedStates.Cursor c, int k) {
        c.read(k);
        return Arrays.copyOf(c.words(), c.length());
    }

    @Test
    void everyStateReadsBackAsAddedInOrderAndInAnyOrder() {
        for (long seed = 1; seed <= 20; seed++) {
            List<long[]> states = alike(seed, 500);
            PackedStates p = pack(states);
            assertThat(p.count()).isEqualTo(500);
            PackedStates.Cursor inOrder = p.cursor();
            for (int k = 0; k < states.size(); k++) assertThat(read(inOrder, k)).isEqualTo(states.get(k));
            SplittableRandom r = new SplittableRandom(seed);
            PackedStates.Cursor any = p.cursor();
            for (int i = 0; i < 2000; i++) {
                int k = r.nextInt(500);
                assertThat(read(any, k)).as("seed %d, state %d", seed, k).isEqualTo(states.get(k));
            }
            // Two readers side by side do not disturb each other.
            PackedStates.Cursor a = p.cursor(), b = p.cursor();
            for (int k = 499; k >= 0; k--) {
                assertThat(read(a, k)).isEqualTo(states.get(k));
                assertThat(read(b, 499 - k)).isEqualTo(states.get(499 - k));
            }
        }
    }

    @Test
    void clearedItHoldsTheNextLevelAlone() {
        PackedStates p = pack(alike(3, 300));
        p.clear();
        List<long[]> next = alike(4, 100);
        for (long[] s : next) p.add(s, 0, s.length);
        assertThat(p.count()).isEqualTo(100);
        PackedStates.Cursor c = p.cursor();
        for (int k = 0; k < 100; k++) assertThat(read(c, k)).isEqualTo(next.get(k));
        assertThatThrownBy(() -> c.read(100)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void statesSpanningManyBlocksOfASharedPoolReadBackAndTheBlocksAreReused() {
        PackedStates.Blocks pool = new PackedStates.Blocks();
        PackedStates a = new PackedStates(pool), b = new PackedStates(pool);
        SplittableRandom r = new SplittableRandom(9);
        List<long[]> states = new ArrayList<>();
        for (int i = 0; i < 12_000; i++) states.add(r.longs(150 + r.nextInt(100)).toArray()); // unlike each other: about 3M words
        for (long[] s : states) {
            a.add(s, 0, s.length);
            b.add(s, 0, s.length);
        }
        assertThat(a.words()).isGreaterThan(2L * PackedStates.BLOCK);
        PackedStates.Cursor c = a.cursor();
        for (int k = states.size() - 1; k >= 0; k -= 7) assertThat(read(c, k)).isEqualTo(states.get(k));
        long held = pool.bytes();
        a.clear();
        for (long[] s : states) a.add(s, 0, s.length); // the whole blocks a gave back hold the same states again
        assertThat(pool.bytes()).isLessThanOrEqualTo(held + 8L * PackedStates.BLOCK); // at most its small first blocks anew
        PackedStates.Cursor cb = b.cursor();
        for (int k = 0; k < states.size(); k += 5) {
            assertThat(read(cb, k)).isEqualTo(states.get(k));
            assertThat(read(a.cursor(), k)).isEqualTo(states.get(k));
        }
    }

    /** A state larger than a block gets one of its own. */
    @Test
    void aStateLargerThanABlockIsKept() {
        PackedStates p = new PackedStates();
        long[] huge = new SplittableRandom(1).longs(PackedStates.BLOCK + 10).toArray();
        long[] small = {1, 2, 3};
        p.add(small, 0, 3);
        p.add(huge, 0, huge.length);
        p.add(small, 0, 3);
        PackedStates.Cursor c = p.cursor();
        assertThat(read(c, 1)).isEqualTo(huge);
        assertThat(read(c, 2)).isEqualTo(small);
        assertThat(read(c, 0)).isEqualTo(small);
    }

    /** Words of the states a seeded run of the stack goes through, one after another, and what they pack to. */
    private static double packedShare(StackConfig cfg) {
        Stack stack = new Stack(cfg, Trace.off());
        List<long[]> states = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(7);
        StepList steps = new StepList();
        for (int i = 0; i < 400 && !stack.workloadDone(); i++) {
            stack.enabledSteps(steps);
            if (steps.size() == 0) break;
            int k = random.nextInt(steps.size());
            steps.actor(k).step(steps.kind(k));
            StateWriter w = new StateWriter();
            stack.save(w);
            states.add(w.toArray());
        }
        PackedStates p = pack(states);
        PackedStates.Cursor c = p.cursor();
        long raw = 0;
        for (int k = 0; k < states.size(); k++) {
            assertThat(read(c, k)).isEqualTo(states.get(k));
            raw += states.get(k).length;
        }
        return (double) p.words() / raw;
    }

    @Test
    void theStacksStatesPackToAFractionOfTheirWords() {
        StackConfig small = Design.D2.applyTo(StackOptions.small().toConfig());
        assertThat(packedShare(small)).isLessThan(0.5);
        StackConfig ddw = small.toBuilder().fw(new tcesim.guest.FirmwareFeatures(true, true, true, true)).build();
        assertThat(packedShare(ddw)).isLessThan(0.2);
    }
}
