package tcesim.cli;

import picocli.CommandLine;

/**
 * {@code --seeds} as {@code repro} and {@code campaign} both take it: {@code N}, a count of seeds (from {@code --seed}
 * in repro, from 1 in campaign), or {@code A..B}, the seeds A to B inclusive.
 *
 * @param first the range's first seed, or null for a count
 * @param last the range's last seed, or the count
 */
record SeedsOption(Long first, long last) {

    boolean isRange() { return first != null; }

    /** The first and last seed: a count starts at {@code from}; null when the last would be past Long.MAX_VALUE. */
    long[] bounds(long from) {
        if (isRange()) return new long[] {first, last};
        if (from > Long.MAX_VALUE - (last - 1)) return null;
        return new long[] {from, from + last - 1};
    }

    @Override
    public String toString() { return isRange() ? first + ".." + last : Long.toString(last); }

    static final class Converter implements CommandLine.ITypeConverter<SeedsOption> {
        @Override
        public SeedsOption convert(String value) {
            String[] p = value.trim().split("\\.\\.", -1);
            if (p.length > 2) throw bad(value);
            long a = seed(p[0], value);
            if (p.length == 1) {
                if (a < 1) throw new CommandLine.TypeConversionException("--seeds N takes a count of at least 1, got '" + value + "'");
                return new SeedsOption(null, a);
            }
            long b = seed(p[1], value);
            if (b < a) throw new CommandLine.TypeConversionException("--seeds A..B needs A <= B, got '" + value + "'");
            return new SeedsOption(a, b);
        }

        private static long seed(String s, String value) {
            try {
                long v = Long.parseLong(s.trim());
                if (v >= 0) return v;
            } catch (NumberFormatException e) {
                // below
            }
            throw bad(value);
        }

        private static CommandLine.TypeConversionException bad(String value) {
            return new CommandLine.TypeConversionException("--seeds takes a count N or a range A..B of seeds 0 to " + Long.MAX_VALUE + ", got '" + value + "'");
        }
    }
}
