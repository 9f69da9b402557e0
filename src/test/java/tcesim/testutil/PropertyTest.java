package tcesim.testutil;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PropertyTest {

    /** Lists of 5..40 longs in [0, 10_000). */
    private static List<Long> randomList(SplittableRandom r) {
        int n = 5 + r.nextInt(36);
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(r.nextLong(10_000));
        return l;
    }

    @Test
    void passingPropertyRunsTheConfiguredNumberOfCases() {
        AtomicInteger runs = new AtomicInteger();
        Property.forAll("counts", 37, r -> r.nextInt(), v -> runs.incrementAndGet());
        assertThat(runs).hasValue(37);
    }

    @Test
    void defaultCaseCountComesFromTheSystemProperty() {
        String old = System.getProperty(Property.CASES_PROPERTY);
        try {
            System.setProperty(Property.CASES_PROPERTY, "11");
            assertThat(Property.cases()).isEqualTo(11);
            System.clearProperty(Property.CASES_PROPERTY);
            assertThat(Property.cases()).isEqualTo(Property.DEFAULT_CASES);
        } finally {
            if (old != null) System.setProperty(Property.CASES_PROPERTY, old);
        }
    }

    @Test
    void seedsAreDeterministicAndDistinctPerCaseAndName() {
        assertThat(Property.caseSeed("a", 3)).isEqualTo(Property.caseSeed("a", 3));
        assertThat(Property.caseSeed("a", 3)).isNotEqualTo(Property.caseSeed("a", 4));
        assertThat(Property.caseSeed("a", 3)).isNotEqualTo(Property.caseSeed("b", 3));
    }

    @Test
    void failingListPropertyIsReportedWithSeedAndShrunkToOneElement() {
        // Fails when some element is >= 100: the minimal counterexample is one element in [100, 200).
        assertThatThrownBy(() -> Property.forAll("must-fail", 200, PropertyTest::randomList,
                Property.listShrinker(Property::halve),
                l -> assertThat(l).allMatch(v -> v < 100)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("property 'must-fail' failed on case 1/200")
                .hasMessageContaining("seed=" + Property.caseSeed("must-fail", 0))
                .hasMessageContaining("-Dtcesim.prop.seed=" + Property.caseSeed("must-fail", 0))
                .satisfies(e -> {
                    String shrunk = e.getMessage().lines().filter(s -> s.contains("shrunk")).findFirst().orElseThrow();
                    String list = shrunk.substring(shrunk.indexOf(": ") + 2);
                    assertThat(list).startsWith("[").endsWith("]").doesNotContain(",");
                    long v = Long.parseLong(list.substring(1, list.length() - 1));
                    assertThat(v).isBetween(100L, 199L);
                })
                .hasCauseInstanceOf(AssertionError.class);
    }

    @Test
    void shrinkingKeepsTwoInteractingElements() {
        // Fails when the list holds two elements >= 10: minimal is two elements, each in [10, 20).
        Property.Shrunk<List<Long>> s = Property.shrink(List.of(4L, 1000L, 7L, 3L, 2000L, 9L, 31L), new AssertionError(),
                Property.listShrinker(Property::halve), PropertyTest::twoAtLeast10);
        assertThat(s.value()).hasSize(2);
        assertThat(s.value()).allMatch(v -> v >= 10 && v < 20);
    }

    private static void twoAtLeast10(List<Long> l) {
        if (l.stream().filter(v -> v >= 10).count() >= 2) throw new AssertionError("two >= 10");
    }

    @Test
    void replaySeedRunsExactlyThatCase() {
        long seed = Property.caseSeed("replay", 17);
        long expected = new SplittableRandom(seed).nextLong();
        String old = System.getProperty(Property.SEED_PROPERTY);
        List<Long> seen = new ArrayList<>();
        try {
            System.setProperty(Property.SEED_PROPERTY, Long.toString(seed));
            Property.forAll("replay", 500, SplittableRandom::nextLong, seen::add);
        } finally {
            if (old == null) System.clearProperty(Property.SEED_PROPERTY);
            else System.setProperty(Property.SEED_PROPERTY, old);
        }
        assertThat(seen).containsExactly(expected);
    }

    @Test
    void replayedFailureNamesTheSameSeed() {
        long seed = Property.caseSeed("replay-fail", 5);
        String old = System.getProperty(Property.SEED_PROPERTY);
        try {
            System.setProperty(Property.SEED_PROPERTY, "0x" + Long.toHexString(seed));
            assertThatThrownBy(() -> Property.forAll("replay-fail", 10, r -> r.nextInt(), v -> {
                throw new IllegalStateException("boom");
            })).hasMessageContaining("replayed case").hasMessageContaining("seed=" + seed).hasMessageContaining("boom");
        } finally {
            if (old == null) System.clearProperty(Property.SEED_PROPERTY);
            else System.setProperty(Property.SEED_PROPERTY, old);
        }
    }

    @Test
    void predicateFormFailsToo() {
        assertThatThrownBy(() -> Property.forAllHolds("pred", 50, r -> r.nextInt(10), Property.Shrinker.none(), v -> v < 9))
                .hasMessageContaining("property 'pred' failed").hasMessageContaining("predicate is false");
    }
}
