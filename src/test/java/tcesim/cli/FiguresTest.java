package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How figures are rounded for JSON and CSV, and how a text table lays them out. */
class FiguresTest {
    /** A rounded figure as JSON or CSV prints it: an integer, or at most four significant digits (what {@link Figures#round} leaves). */
    static final String ROUNDED = "-?(\\d+|0\\.0*[1-9]\\d{0,3}|[1-9]\\.\\d{1,3}|[1-9]\\d\\.\\d{1,2}|[1-9]\\d{2}\\.\\d|[1-9](\\.\\d{1,3})?E-?\\d+)";

    @Test
    void fourSignificantDigitsAndWholeUnitsNeverCut() {
        assertThat(Figures.round(19092.099999999)).isEqualTo(19092L);
        assertThat(Figures.round(1.0541615760000797E8)).isEqualTo(105416158L);
        assertThat(Figures.round(0.021556714790353735)).isEqualTo(0.02156);
        assertThat(Figures.round(2.0248)).isEqualTo(2.025);
        assertThat(Figures.round(999.96)).isEqualTo(1000L);
        assertThat(Figures.round(12.0)).isEqualTo(12L);
        assertThat(Figures.round(1.1096440606650493E-13)).isEqualTo(1.11E-13);
        assertThat(Figures.round(0)).isEqualTo(0L);
        assertThat(Figures.round(Double.NaN)).isNull();
        assertThat(Figures.round(Double.POSITIVE_INFINITY)).isNull();
        assertThat(Figures.roundIf(false, 3.5)).isNull();
        assertThat(Figures.round(1e300)).as("too large for a long: still a number").isInstanceOf(Double.class);
    }

    @Test
    void csvFieldsArePlainDigitsOrEmpty() {
        assertThat(Figures.csv(true, 1.1096440606650493E-13)).isEqualTo("0.000000000000111");
        assertThat(Figures.csv(true, 2442530.9700798756)).isEqualTo("2442531");
        assertThat(Figures.csv(true, 0.8632)).isEqualTo("0.8632");
        assertThat(Figures.csv(false, 5)).isEmpty();
        assertThat(Figures.csv(true, Double.NaN)).isEmpty();
        for (String s : new String[] {"2442531", "0.8632", "0.02156", "2.025", "105.4", "0.000000000000111", "1.11E-13", "0"}) assertThat(s).matches(ROUNDED);
        for (String s : new String[] {"0.86321", "2442530.97", "19092.1", "1.1096E-13", "105.41"}) assertThat(s).doesNotMatch(ROUNDED);
    }

    @Test
    void aTableCutsNothingAndLinesUpItsColumns() {
        String t = new Figures.Table("design", "verdict", "time (ms)>").row("D0", "unsafe (host memory overrun)", "12").row("D4k", "safe", "1234567").render();
        assertThat(t).isEqualTo("""
                design  verdict                       time (ms)
                D0      unsafe (host memory overrun)         12
                D4k     safe                            1234567
                """);
        assertThat(Figures.cell(false, "%.2f", 0)).isEqualTo("-");
        assertThat(Figures.cell(true, "%.2f", 0.5)).isEqualTo("0.50");
    }
}
