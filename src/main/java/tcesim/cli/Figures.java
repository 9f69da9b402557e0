package tcesim.cli;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;

/**
 * How the commands print figures. JSON and CSV get rounded numbers ({@link #round}: four significant digits, whole
 * units never cut, so 19092.099999 is 19092 and 0.021556714 is 0.02156) and null or an empty field where a figure does
 * not apply; text tables put the unit in the column's header, a plain number in the cell, and "-" where a figure does
 * not apply, never 0 (the throughput of a run that took no time, the latency of packets that were not measured).
 */
final class Figures {
    /** What a text table prints for a figure that does not apply. */
    static final String NONE = "-";

    private static final MathContext SIGNIFICANT = new MathContext(4);

    private Figures() {}

    /**
     * {@code x} rounded for JSON: an integral value as a Long, else a Double of four significant digits; null when it
     * is not finite.
     */
    static Number round(double x) {
        BigDecimal d = decimal(x);
        if (d == null) return null;
        return d.scale() <= 0 && d.toBigInteger().bitLength() < 63 ? (Number) d.longValueExact() : (Number) d.doubleValue();
    }

    /** {@link #round}, or null where the figure does not apply. */
    static Number roundIf(boolean applies, double x) {
        return applies ? round(x) : null;
    }

    /** {@code x} as {@link #round} has it, as a CSV field: plain digits, no exponent; empty where the figure does not apply. */
    static String csv(boolean applies, double x) {
        BigDecimal d = applies ? decimal(x) : null;
        return d == null ? "" : d.toPlainString();
    }

    private static BigDecimal decimal(double x) {
        if (!Double.isFinite(x)) return null;
        if (x == 0) return BigDecimal.ZERO;
        BigDecimal d = BigDecimal.valueOf(x);
        BigDecimal r = Math.abs(x) >= 1000 ? d.setScale(0, java.math.RoundingMode.HALF_UP) : d.round(SIGNIFICANT);
        r = r.stripTrailingZeros();
        return r.scale() < 0 ? r.setScale(0) : r;
    }

    /** {@code x} formatted with {@code format} for a text cell, or "-" where the figure does not apply. */
    static String cell(boolean applies, String format, double x) {
        return applies ? String.format(java.util.Locale.ROOT, format, x) : NONE;
    }

    /** A count for a text cell, or "-" where it does not apply. */
    static String cell(boolean applies, long n) {
        return applies ? Long.toString(n) : NONE;
    }

    /**
     * A text table whose columns are as wide as their widest cell, so that nothing is cut and every row lines up: text
     * columns to the left, figures to the right.
     */
    static final class Table {
        private final String[] header;
        private final boolean[] right;
        private final List<String[]> rows = new ArrayList<>();

        /** @param columns each column's header, a trailing ">" for one whose cells are figures (right-aligned) */
        Table(String... columns) {
            header = new String[columns.length];
            right = new boolean[columns.length];
            for (int i = 0; i < columns.length; i++) {
                right[i] = columns[i].endsWith(">");
                header[i] = right[i] ? columns[i].substring(0, columns[i].length() - 1) : columns[i];
            }
        }

        Table row(String... cells) {
            if (cells.length != header.length) throw new IllegalArgumentException(cells.length + " cells for " + header.length + " columns");
            rows.add(cells);
            return this;
        }

        /** The table, a line per row under the header, the columns two spaces apart. */
        String render() {
            int[] width = new int[header.length];
            for (int i = 0; i < header.length; i++) width[i] = header[i].length();
            for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
            StringBuilder sb = new StringBuilder();
            line(sb, header, width);
            for (String[] r : rows) line(sb, r, width);
            return sb.toString();
        }

        private void line(StringBuilder sb, String[] cells, int[] width) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < cells.length; i++) {
                if (i > 0) l.append("  ");
                String pad = " ".repeat(width[i] - cells[i].length());
                l.append(right[i] ? pad + cells[i] : cells[i] + pad);
            }
            sb.append(l.toString().stripTrailing()).append('\n');
        }
    }
}
