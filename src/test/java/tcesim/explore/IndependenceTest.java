package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The census of commuting steps, on models whose answer is known. */
class IndependenceTest {
    /** Two counters share nothing: every pair of their steps commutes. */
    @Test
    void theStepsOfTwoCountersAllCommute() {
        Independence.Census c = Independence.sample(() -> new TinyModels.Grid(3), 5, 50, 100);
        assertThat(c.pairs()).singleElement().satisfies(p -> {
            assertThat(p.first()).isEqualTo("c0:inc");
            assertThat(p.second()).isEqualTo("c1:inc");
            assertThat(p.commuting()).isEqualTo(p.tried()).isPositive();
        });
        assertThat(c.share()).isEqualTo(1.0);
    }

    /**
     * Two threads incrementing a shared counter without a lock: their reads commute (neither writes), a read and the
     * other's write do not (the read sees the counter before or after), and their two writes do (both hold the value
     * read before either wrote, so either order leaves the same counter).
     */
    @Test
    void aReadAndAWriteOfOneCounterDoNotCommute() {
        Independence.Census c = Independence.sample(TinyModels.LostUpdate::new, 9, 400, 100);
        assertThat(c.pairs()).extracting(p -> p.first() + " | " + p.second())
                .containsExactly("t0:read | t1:read", "t0:read | t1:write", "t0:write | t1:read", "t0:write | t1:write");
        for (Independence.Pair p : c.pairs()) {
            assertThat(p.tried()).as(p.toString()).isPositive();
            if (p.first().endsWith("read") == p.second().endsWith("read")) assertThat(p.commuting()).as(p.toString()).isEqualTo(p.tried());
            else assertThat(p.commuting()).as(p.toString()).isZero();
        }
        assertThat(c.share()).isStrictlyBetween(0.0, 1.0);
    }

    @Test
    void theSameSeedGivesTheSameCensusAndAnotherSeedAnotherSample() {
        Independence.Census a = Independence.sample(TinyModels.LostUpdate::new, 3, 200, 100);
        assertThat(Independence.sample(TinyModels.LostUpdate::new, 3, 200, 100)).isEqualTo(a);
        assertThat(Independence.sample(TinyModels.LostUpdate::new, 4, 200, 100)).isNotEqualTo(a);
    }
}
