package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tcesim.sim.Violation;

/** The checker on models whose answers are known by hand. */
class CheckerTest {
    static Checker.Options opts(int workers) {
        return new Checker.Options(1_000_000, workers, true, null);
    }

    @Test
    void findsThePlantedLostUpdateWithTheFewestChoices() {
        Checker.Result r = new Checker(TinyModels.LostUpdate::new, opts(1)).run();
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(r.violation().property()).isEqualTo(Violation.Property.CORRUPTION);
        // t0 reads, t1 reads, t0 writes; t1's write is then the only step left. Three choices, at the third BFS level.
        assertThat(r.choices()).containsExactly(0, 1, 0);
        assertThat(r.depth()).isEqualTo(3);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 20})
    void exploresASafeGridCompletelyWithTheExactCounts(int n) {
        Checker checker = new Checker(() -> new TinyModels.Grid(n), opts(1));
        Checker.Result r = checker.run();
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.SAFE);
        // Branching states are those with both counters below n; once one reaches n the rest is forced.
        assertThat(r.distinct()).isEqualTo((long) n * n);
        assertThat(r.generated()).isEqualTo(1 + 2L * n * n);
        assertThat(r.terminals()).isEqualTo(2L * n);
        assertThat(r.depth()).isEqualTo(2 * n - 1);
        // One step per choice (two from each branching state), and the forced tail after a counter reaches n at (n, j)
        // or (i, n): n - j more steps, summed over j, both ways.
        assertThat(checker.steps()).isEqualTo(2L * n * n + (long) n * (n + 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 9})
    void withAnIndependentCounterTheReductionFollowsItAloneAndKeepsTheVerdict(int n) {
        // The two counters commute and nothing observes them: exploring c0's step alone wherever it is enabled is an
        // ample set, so the search walks c0 up to n and then c1 (forced): n branching states instead of n * n.
        Checker.Result reduced = new Checker(() -> {
            TinyModels.Grid g = new TinyModels.Grid(n);
            g.independent = "c0";
            return g;
        }, opts(1)).run();
        Checker.Result full = new Checker(() -> new TinyModels.Grid(n), opts(1)).run();
        assertThat(reduced.verdict()).isEqualTo(full.verdict()).isEqualTo(Checker.Verdict.SAFE);
        assertThat(reduced.distinct()).isEqualTo(n);
        assertThat(reduced.terminals()).isEqualTo(1);
        assertThat(full.distinct()).isEqualTo((long) n * n);
        Checker.Result off = new Checker(() -> {
            TinyModels.Grid g = new TinyModels.Grid(n);
            g.independent = "c0";
            return g;
        }, new Checker.Options(1_000_000, 1, false, null)).run();
        assertThat(off.distinct()).as("--no-reduction ignores the declaration").isEqualTo(full.distinct());
    }

    @Test
    void twoWorkersFindTheSameResult() {
        Checker single = new Checker(() -> new TinyModels.Grid(12), opts(1));
        Checker pair = new Checker(() -> new TinyModels.Grid(12), opts(2));
        Checker.Result one = single.run();
        Checker.Result two = pair.run();
        assertThat(two.distinct()).isEqualTo(one.distinct());
        assertThat(two.generated()).isEqualTo(one.generated());
        assertThat(pair.steps()).as("steps counted on both workers").isEqualTo(single.steps());
        Checker.Result race = new Checker(TinyModels.LostUpdate::new, opts(2)).run();
        assertThat(race.choices()).containsExactly(0, 1, 0);
    }

    @Test
    void aStateLimitGivesNoVerdict() {
        Checker.Result r = new Checker(() -> new TinyModels.Grid(50), new Checker.Options(100, 1, true, null)).run();
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(r.distinct()).isEqualTo(100);
    }

    @Test
    void theCollisionEstimateIsTlcs() {
        assertThat(Checker.collision(1000, 3000)).isEqualTo(1000.0 * 2000.0 / 0x1p64);
        assertThat(Checker.collision(10, 5)).isZero();
    }

    @Test
    void fingerprintSetAddsOnceGrowsAndTreatsZeroAsAValue() {
        for (FingerprintSet s : new FingerprintSet[] {new FingerprintSet(4), FingerprintSet.small(4)}) {
            for (long i = 1; i <= 10_000; i++) assertThat(s.add(i * 0x9E3779B97F4A7C15L)).isTrue();
            for (long i = 1; i <= 10_000; i++) assertThat(s.add(i * 0x9E3779B97F4A7C15L)).isFalse();
            assertThat(s.size()).isEqualTo(10_000);
            assertThat(s.contains(12345)).isFalse();
            assertThat(s.add(0)).isTrue();
            assertThat(s.contains(0)).isTrue();
            assertThat(s.add(0)).isFalse();
            s.clear();
            assertThat(s.size()).isZero();
            assertThat(s.contains(0)).isFalse();
        }
        assertThat(FingerprintSet.small(1024).bytes()).isEqualTo(8L * 2048);
    }

    /** Its tables grow one at a time: growing never needs the set's size again beside it, and nothing is lost on the way. */
    @Test
    void fingerprintSetGrowsOneTableAtATime() throws Exception {
        FingerprintSet s = new FingerprintSet(16);
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        long[] added = new long[300_000];
        java.lang.reflect.Field tables = FingerprintSet.class.getDeclaredField("tables");
        tables.setAccessible(true);
        for (int i = 0; i < added.length; i++) {
            added[i] = r.nextLong();
            assertThat(s.add(added[i])).isTrue();
            if (i % 10_000 == 0 || i == added.length - 1) {
                // What the set says it holds, kept as it grows, is what its tables hold.
                long bytes = 0;
                long largest = 0;
                for (long[] t : (long[][]) tables.get(s)) {
                    bytes += 8L * t.length;
                    largest = Math.max(largest, t.length);
                }
                assertThat(s.bytes()).isEqualTo(bytes);
                assertThat(s.growthBytes()).isEqualTo(16 * largest);
            }
        }
        assertThat(s.bytes()).isLessThanOrEqualTo(8L * 4 * added.length); // no table more than 3/4 full, none under 3/8 but by chance
        assertThat(s.growthBytes()).isLessThan(s.bytes() / 256);
        long[] all = s.toArray();
        java.util.Arrays.sort(all);
        java.util.Arrays.sort(added);
        assertThat(all).isEqualTo(added);
        for (long fp : added) assertThat(s.contains(fp)).isTrue();
    }
}
