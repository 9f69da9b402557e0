package tcesim.testutil;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import tcesim.papr.Mix;

/**
 * A small seeded property harness (no jqwik).
 *
 * <ul>
 * <li>Case {@code i} of property {@code name} draws from {@code new SplittableRandom(caseSeed)} with
 *     {@code caseSeed = Mix.mix(baseSeed(name), i)}; {@code baseSeed} is a fixed function of the name
 *     (override all base seeds with {@code -Dtcesim.prop.baseSeed=N}).
 * <li>The case count is {@code -Dtcesim.prop.cases} (default 2000; surefire passes the pom's value).
 * <li>{@code -Dtcesim.prop.seed=S} (decimal or 0x-hex) runs exactly the one case with that case seed.
 * <li>A failing case is shrunk with the given {@link Shrinker} (for lists of operations: {@link #listShrinker})
 *     and the failure message names the property, the case seed, the replay hint, the original and the
 *     smallest failing value found, and the cause.
 * </ul>
 */
public final class Property {
    private Property() {}

    public static final String CASES_PROPERTY = "tcesim.prop.cases";
    public static final String SEED_PROPERTY = "tcesim.prop.seed";
    public static final String BASE_SEED_PROPERTY = "tcesim.prop.baseSeed";
    public static final int DEFAULT_CASES = 2000;
    /** Upper bound on check runs spent shrinking one failure. */
    public static final int SHRINK_BUDGET = 2000;

    /** Draws one value from a random source. */
    @FunctionalInterface
    public interface Gen<T> {
        T generate(SplittableRandom r);
    }

    /** Smaller candidates for a failing value, most promising first; empty when nothing is smaller. */
    @FunctionalInterface
    public interface Shrinker<T> {
        List<T> candidates(T value);

        static <T> Shrinker<T> none() { return v -> List.of(); }
    }

    /** The number of cases to run: {@code -Dtcesim.prop.cases}, else {@link #DEFAULT_CASES}. */
    public static int cases() {
        return Integer.getInteger(CASES_PROPERTY, DEFAULT_CASES);
    }

    public static long baseSeed(String name) {
        String s = System.getProperty(BASE_SEED_PROPERTY);
        long base = s == null || s.isBlank() ? 0x7ce5_1e55_5eedL : Long.decode(s.trim());
        return Mix.mix(base, name.hashCode());
    }

    public static long caseSeed(String name, int i) {
        return Mix.mix(baseSeed(name), i);
    }

    /** Runs {@code check} on {@link #cases()} values; {@code check} fails by throwing. */
    public static <T> void forAll(String name, Gen<T> gen, Consumer<T> check) {
        forAll(name, cases(), gen, Shrinker.none(), check);
    }

    public static <T> void forAll(String name, int cases, Gen<T> gen, Consumer<T> check) {
        forAll(name, cases, gen, Shrinker.none(), check);
    }

    /** As {@link #forAll(String, int, Gen, Shrinker, Consumer)} with a boolean check. */
    public static <T> void forAllHolds(String name, int cases, Gen<T> gen, Shrinker<T> shrinker, Predicate<T> check) {
        forAll(name, cases, gen, shrinker, v -> {
            if (!check.test(v)) throw new AssertionError("predicate is false");
        });
    }

    /**
     * Runs {@code check} on {@code cases} generated values (or only the replayed one); on the first
     * failure shrinks it and throws an AssertionError naming the seed, the replay hint and the smallest
     * failing value.
     */
    public static <T> void forAll(String name, int cases, Gen<T> gen, Shrinker<T> shrinker, Consumer<T> check) {
        String replay = System.getProperty(SEED_PROPERTY);
        if (replay != null && !replay.isBlank()) {
            runCase(name, Long.decode(replay.trim()), -1, cases, gen, shrinker, check);
            return;
        }
        for (int i = 0; i < cases; i++) runCase(name, caseSeed(name, i), i, cases, gen, shrinker, check);
    }

    private static <T> void runCase(String name, long seed, int i, int cases, Gen<T> gen, Shrinker<T> shrinker, Consumer<T> check) {
        T value = gen.generate(new SplittableRandom(seed));
        Throwable failure = failure(check, value);
        if (failure == null) return;
        Shrunk<T> s = shrink(value, failure, shrinker, check);
        String where = i < 0 ? "replayed case" : "case " + (i + 1) + "/" + cases;
        AssertionError e = new AssertionError(String.format(
                "property '%s' failed on %s, seed=%d (0x%x)%n  replay: -D%s=%d%n  original: %s%n  shrunk (%d steps, %d tries): %s%n  cause: %s",
                name, where, seed, seed, SEED_PROPERTY, seed, value, s.steps, s.tries, s.value, s.failure), s.failure);
        throw e;
    }

    /** The smallest failing value found, the failure it raised, and how it was reached. */
    public record Shrunk<T>(T value, Throwable failure, int steps, int tries) {}

    /** Greedy shrinking: take the first candidate that still fails, repeat until none does or the budget is spent. */
    public static <T> Shrunk<T> shrink(T value, Throwable failure, Shrinker<T> shrinker, Consumer<T> check) {
        int steps = 0, tries = 0;
        boolean progress = true;
        while (progress && tries < SHRINK_BUDGET) {
            progress = false;
            for (T c : shrinker.candidates(value)) {
                if (++tries > SHRINK_BUDGET) break;
                if (Objects.equals(c, value)) continue;
                Throwable f = failure(check, c);
                if (f != null) {
                    value = c;
                    failure = f;
                    steps++;
                    progress = true;
                    break;
                }
            }
        }
        return new Shrunk<>(value, failure, steps, tries);
    }

    private static <T> Throwable failure(Consumer<T> check, T value) {
        try {
            check.accept(value);
            return null;
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError)) throw (VirtualMachineError) t;
            return t;
        }
    }

    /**
     * Shrinking by halving for a list of operations: the first half, the second half, the list with
     * every operation's numeric arguments halved ({@code halveArgs}, returning the operation itself when
     * nothing is left to halve), and, for short lists, the list without one element.
     */
    public static <E> Shrinker<List<E>> listShrinker(UnaryOperator<E> halveArgs) {
        return list -> {
            List<List<E>> out = new ArrayList<>();
            int n = list.size();
            if (n == 0) return out;
            if (n > 1) {
                out.add(List.copyOf(list.subList(0, n / 2)));
                out.add(List.copyOf(list.subList(n / 2, n)));
            }
            if (n <= 32) {
                for (int i = 0; i < n; i++) {
                    List<E> without = new ArrayList<>(list);
                    without.remove(i);
                    out.add(without);
                }
            }
            List<E> halved = map(list, halveArgs);
            if (!halved.equals(list)) out.add(halved);
            // Halve one operation at a time too: halving all at once may lose the failure.
            for (int i = 0; i < n && n <= 32; i++) {
                E h = halveArgs.apply(list.get(i));
                if (!Objects.equals(h, list.get(i))) {
                    List<E> one = new ArrayList<>(list);
                    one.set(i, h);
                    out.add(one);
                }
            }
            return out;
        };
    }

    private static <E> List<E> map(List<E> list, Function<E, E> f) {
        List<E> out = new ArrayList<>(list.size());
        for (E e : list) out.add(f.apply(e));
        return out;
    }

    /** Halves a numeric argument towards 0 (for use in {@code halveArgs}); unsigned, so -1 halves to 2^63-1. */
    public static long halve(long v) {
        return v >>> 1;
    }
}
