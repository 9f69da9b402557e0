package tcesim.fuzz;

/**
 * The budget of the fuzz tests: {@code -Dtcesim.fuzz.cases=N} (default {@link #DEFAULT_CASES}).
 *
 * <p>The budget counts hypercall sequences (each up to {@link HypercallFuzzTest#MAX_OPS} hypercalls); the
 * frame fuzzers take a share of it in frame sequences. A long run is {@code -Dtcesim.fuzz.cases=1000000}.
 * Any failing case is reported with its seed; replay it alone with {@code -Dtcesim.prop.seed=S}.
 */
final class FuzzBudget {
    private FuzzBudget() {}

    static final String PROPERTY = "tcesim.fuzz.cases";
    /** Sized so that the whole fuzz package runs in well under 40 s on 2 cores. */
    static final int DEFAULT_CASES = 20000;

    /** The budget; a value that is not a positive integer is an error, not silently the default. */
    static int total() {
        String s = System.getProperty(PROPERTY);
        if (s == null || s.isBlank() || s.startsWith("${")) return DEFAULT_CASES;
        int n;
        try {
            n = Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + s + " is not an integer", e);
        }
        if (n <= 0) throw new IllegalArgumentException("-D" + PROPERTY + "=" + s + " must be positive");
        return n;
    }

    /** {@code fraction} of the budget, at least one case. */
    static int share(double fraction) {
        return (int) Math.max(1, Math.round(total() * fraction));
    }
}
