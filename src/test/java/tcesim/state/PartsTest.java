package tcesim.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PartsTest {
    /** A part holding a list of numbers (its words: the length, then the numbers), counting its restores. */
    static final class ListPart implements Snapshot {
        final List<Long> values = new ArrayList<>();
        int restores;

        @Override
        public void save(StateWriter out) {
            out.put(values.size());
            for (long v : values) out.put(v);
        }

        @Override
        public void restore(StateReader in) {
            restores++;
            values.clear();
            for (int n = in.nextInt(); n > 0; n--) values.add(in.next());
        }
    }

    static long[] words(Snapshot s) {
        StateWriter w = new StateWriter();
        s.save(w);
        return w.toArray();
    }

    @Test
    void onlyThePartsThatDifferAreRead() {
        ListPart a = new ListPart(), b = new ListPart(), c = new ListPart();
        Parts parts = new Parts(a, b, c);
        a.values.add(1L);
        b.values.addAll(List.of(2L, 3L));
        c.values.add(4L);
        long[] x = words(parts);
        b.values.add(5L);      // a successor: b grew, so c's words moved
        c.values.set(0, 6L);
        words(parts);
        parts.restoreChanged(new StateReader(x));
        assertThat(a.restores).isZero();
        assertThat(b.restores).isEqualTo(1);
        assertThat(c.restores).isEqualTo(1);
        assertThat(words(parts)).containsExactly(x);
        assertThat(parts.partsRead()).isEqualTo(2);
        assertThat(parts.partsSkipped()).isEqualTo(1);
    }

    @Test
    void aCompositesSmallerSnapshotsAreRestoredEachOnItsOwn() {
        ListPart a = new ListPart(), b = new ListPart(), c = new ListPart();
        Composite ab = () -> new Snapshot[] {a, b};
        Parts parts = new Parts(ab, c);
        a.values.add(1L);
        b.values.add(2L);
        c.values.add(3L);
        long[] x = words(parts);
        assertThat(x).containsExactly(words(ab)[0], 1L, 1L, 2L, 1L, 3L); // the composite's words are its snapshots' in order
        b.values.add(4L); // a successor: b alone of the composite changed
        words(parts);
        parts.restoreChanged(new StateReader(x));
        assertThat(a.restores).isZero();
        assertThat(b.restores).isEqualTo(1);
        assertThat(c.restores).isZero();
        assertThat(b.values).containsExactly(2L);
        assertThat(parts.partsSkipped()).isEqualTo(2);
    }

    @Test
    void thePrefixOfALongerPartIsNotMistakenForIt() {
        ListPart a = new ListPart(), b = new ListPart();
        Parts parts = new Parts(a, b);
        a.values.addAll(List.of(7L, 8L));
        b.values.add(9L);
        long[] x = words(parts);      // a: [2, 7, 8], b: [1, 9]
        a.values.remove(1);           // a: [1, 7], b: [1, 9] -- not a prefix of x's words for a
        words(parts);
        parts.restoreChanged(new StateReader(x));
        assertThat(a.values).containsExactly(7L, 8L);
        assertThat(b.values).containsExactly(9L);
        assertThat(words(parts)).containsExactly(x);
    }

    @Test
    void restoringChangedPartsAgreesWithARestoreOverRandomStates() {
        SplittableRandom r = new SplittableRandom(7);
        ListPart[] mine = {new ListPart(), new ListPart(), new ListPart(), new ListPart()};
        Parts parts = new Parts(mine);
        List<long[]> seen = new ArrayList<>();
        seen.add(words(parts));
        for (int i = 0; i < 2000; i++) {
            for (ListPart p : mine) {
                if (r.nextInt(3) == 0) {
                    p.values.clear();
                    for (int n = r.nextInt(4); n > 0; n--) p.values.add((long) r.nextInt(3));
                }
            }
            seen.add(words(parts));
            long[] back = seen.get(r.nextInt(seen.size()));
            StateReader in = new StateReader(back);
            parts.restoreChanged(in);
            assertThat(in.atEnd()).isTrue();
            assertThat(words(parts)).containsExactly(back);
        }
    }

    /** One restore after another, with nothing saved between: each compares with the words the one before it left. */
    @Test
    void consecutiveRestoresCompareWithTheStateTheLastOneLeft() {
        SplittableRandom r = new SplittableRandom(11);
        ListPart[] mine = {new ListPart(), new ListPart(), new ListPart()};
        Parts parts = new Parts(mine);
        List<long[]> states = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            for (ListPart p : mine) {
                p.values.clear();
                for (int n = r.nextInt(4); n > 0; n--) p.values.add((long) r.nextInt(2));
            }
            states.add(words(parts));
        }
        for (int i = 0; i < 2000; i++) {
            long[] x = states.get(r.nextInt(states.size()));
            int before = 0;
            for (ListPart p : mine) before += p.restores;
            long read = parts.partsRead();
            StateReader in = new StateReader(x);
            parts.restoreChanged(in);
            assertThat(in.atEnd()).isTrue();
            int after = 0;
            for (ListPart p : mine) after += p.restores;
            assertThat(after - before).isEqualTo(parts.partsRead() - read);
            assertThat(words(mine[0]).length + words(mine[1]).length + words(mine[2]).length).isEqualTo(x.length);
            StateWriter w = new StateWriter();
            for (ListPart p : mine) p.save(w);
            assertThat(w.toArray()).containsExactly(x);
        }
    }

    @Test
    void withNothingRememberedEveryPartIsRead() {
        ListPart a = new ListPart(), b = new ListPart();
        a.values.add(1L);
        long[] x = words(new Parts(a, b));
        ListPart c = new ListPart(), d = new ListPart();
        Parts fresh = new Parts(c, d);
        fresh.restoreChanged(new StateReader(x));
        assertThat(c.restores + d.restores).isEqualTo(2);
        assertThat(c.values).containsExactly(1L);
    }
}
