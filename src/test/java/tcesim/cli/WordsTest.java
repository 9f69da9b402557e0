package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tcesim.sim.Violation;

/**
 * What a person reads: a property is named by what breaking it is ("stale access found", "stall"), never as a double
 * negative ("no stale access is broken"), and with one spelling in every command's output, text, Markdown, HTML, JSON
 * and CSV alike: the text its {@link Violation.Property#label}, JSON and CSV its {@link Violation.Property#key} (the
 * name {@code --until} and {@code --properties} take).
 */
class WordsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A property named by what it forbids, then said to be broken: the double negatives the outputs must not have. */
    static final Pattern DOUBLE_NEGATIVE = Pattern.compile("(?i)\\bno (stale access|corruption|isolation|progress|host memory)[a-z ]*\\b(is |was |not |never )*broken"
            + "|VIOLATED: no |\\bno (stale access|corruption)\\b[^\\n]*\\bheld\\b");

    /** Any old spelling of a property next to "broken": what the outputs said before they named what was found. */
    static final Pattern PROPERTY_BROKEN = Pattern.compile("(?i)\\b(stale access|corruption|isolation( breach)?|progress|stall|host memory( overrun)?)( is| was)? broken");

    @Test
    void eachLabelNamesWhatHappenedOnce() {
        List<String> labels = new ArrayList<>();
        for (Violation.Property p : Violation.Property.values()) {
            assertThat(p.label()).as(p.name()).doesNotStartWith("no ").isNotBlank().isLowerCase();
            assertThat(p.key()).isEqualTo(p.name().toLowerCase(Locale.ROOT));
            labels.add(p.label());
        }
        assertThat(labels).doesNotHaveDuplicates();
    }

    /** Every command, in every output format, on runs that break each kind of property: no double negative anywhere. */
    @Test
    void noOutputReadsAsADoubleNegative() throws Exception {
        List<String[]> commands = List.of(
                new String[] {"check", "--design", "D0"},
                new String[] {"check", "--design", "D0", "--json"},
                new String[] {"check", "--design", "D0", "--hazard", "update-size-0"},
                new String[] {"check", "--design", "D0", "--hazard", "partial-failure", "--properties", "host_memory"},
                new String[] {"check", "--design", "D2", "--packets", "1"},
                new String[] {"check", "--hazards", "--host", "no_kvm_tce", "--max-states", "3000"},
                new String[] {"check", "--hazards", "--host", "no_kvm_tce", "--max-states", "3000", "--json"},
                new String[] {"repro", "--hazard", "window-removal", "--packets", "50", "--until", "corruption"},
                new String[] {"repro", "--hazard", "window-removal", "--packets", "50"},
                new String[] {"repro", "--seeds", "2", "--hazard", "window-removal", "--packets", "50", "--until", "corruption"},
                new String[] {"repro", "--seeds", "2", "--hazard", "window-removal", "--packets", "50", "--until", "stale_access"},
                new String[] {"repro", "--host", "no_vfio_tce", "--packets", "50"},
                new String[] {"repro", "--max-steps", "0", "--until", "progress"},
                new String[] {"campaign", "--hazard", "window-removal", "--packets", "50", "--seeds", "1..2"},
                new String[] {"campaign", "--hazard", "window-removal", "--packets", "50", "--seeds", "1..2", "--json"},
                new String[] {"compare", "--designs", "D0,D2", "--packets", "100"},
                new String[] {"compare", "--designs", "D0,D2", "--packets", "100", "--json"},
                new String[] {"compare", "--designs", "D0,D2", "--packets", "100", "--csv"});
        for (String[] c : commands) {
            CliRun r = CliRun.of(c);
            String all = r.stdout() + r.err();
            assertThat(all).as(String.join(" ", c)).doesNotContainPattern(DOUBLE_NEGATIVE).doesNotContainPattern(PROPERTY_BROKEN);
        }
        String history = HistoryCommand.run(HistoryCommand.BUGS.get(1), "2019", true).found() + "\n"
                + HistoryCommand.run(HistoryCommand.BUGS.get(1), "current", false).found();
        assertThat(history).doesNotContainPattern(DOUBLE_NEGATIVE).doesNotContainPattern(PROPERTY_BROKEN).contains("host memory overrun found (1 choice)")
                .contains("nothing found");
        assertThat(ReadmeTest.readme()).doesNotContainPattern(DOUBLE_NEGATIVE).doesNotContainPattern(PROPERTY_BROKEN);
    }

    /** The same property, as each command prints it: the label in text, the key in JSON and CSV. */
    @Test
    void onePropertyHasOneSpellingInEveryCommand() throws Exception {
        Violation.Property stale = Violation.Property.STALE_ACCESS;
        List<String> text = new ArrayList<>();
        List<String> keys = new ArrayList<>();

        text.add(group(CliRun.of("check", "--design", "D0").stdout(), "(?m)^Error: (.+) found\\. The shortest counterexample"));
        text.add(group(CliRun.of("check", "--design", "D0").stdout(), "(?m)^VIOLATION: (.+) at step \\d+$"));
        keys.add(JSON.readTree(CliRun.of("check", "--design", "D0", "--json").stdout()).get("property").asText());

        String seeds = CliRun.of("repro", "--seeds", "2", "--hazard", "window-removal", "--packets", "50").stdout();
        text.add(group(seeds, "(?m)^  seed 1 +(.+) found at step \\d+$"));
        text.add(group(CliRun.of("repro", "--hazard", "window-removal", "--packets", "50", "--until", "corruption").stdout(),
                "(?m)^VIOLATION: (.+) at step \\d+$"));

        String[] campaign = {"campaign", "--hazard", "window-removal", "--packets", "50", "--seeds", "1..2"};
        text.add(group(CliRun.of(campaign).stdout(), "(?m)^first failing seed: 1 \\((.+) at step \\d+\\)$"));
        keys.add(JSON.readTree(CliRun.of(append(campaign, "--json")).stdout()).get("property").asText());

        String[] compare = {"compare", "--designs", "D0", "--packets", "100"};
        text.add(group(CliRun.of(compare).stdout(), "(?m)^D0 +unsafe \\((.+?)\\) "));
        JsonNode d0 = JSON.readTree(CliRun.of(append(compare, "--json")).stdout()).get("designs").get(0);
        keys.add(d0.get("property").asText());
        String csv = CliRun.of(append(compare, "--csv")).stdout();
        List<String> head = Arrays.asList(csv.lines().findFirst().orElseThrow().split(","));
        csv.lines().skip(1).forEach(l -> keys.add(l.split(",", -1)[head.indexOf("property")]));

        String hazards = CliRun.of("check", "--hazards", "--host", "no_kvm_tce", "--max-states", "3000", "--markdown").stdout();
        Matcher row = Pattern.compile("(?m)^\\| `window-removal` \\| [^|]+ \\| ([^|]+) \\|").matcher(hazards);
        assertThat(row.find()).as(hazards).isTrue();
        text.add(row.group(1).trim());
        text.add(group(HistoryCommand.run(HistoryCommand.BUGS.get(2), "2019", true).found(), "^(.+) found \\("));

        assertThat(text).as("the words of each command").containsOnly(stale.label());
        assertThat(keys).as("the JSON and CSV of each command").containsOnly(stale.key());
    }

    /** The property each kind of run breaks is printed by its label, the one its JSON key stands for. */
    @Test
    void everyPropertyIsPrintedByItsLabel() throws Exception {
        String[][] runs = {
                {"--design", "D0", "--hazard", "partial-failure", "--properties", "host_memory"},
                {"--design", "D0", "--hazard", "update-size-0"},
                {"--design", "D0", "--properties", "corruption", "--packets", "3", "--tx-packets", "0"},
        };
        List<Violation.Property> seen = new ArrayList<>();
        for (String[] run : runs) {
            String[] args = new String[run.length + 1];
            args[0] = "check";
            System.arraycopy(run, 0, args, 1, run.length);
            JsonNode n = JSON.readTree(CliRun.of(append(args, "--json")).stdout());
            Violation.Property p = Violation.Property.valueOf(n.get("property").asText().toUpperCase(Locale.ROOT));
            seen.add(p);
            assertThat(CliRun.of(args).stdout()).as(String.join(" ", run)).contains("Error: " + p.label() + " found.").contains("VIOLATION: " + p.label() + " at step ");
        }
        assertThat(seen).containsExactly(Violation.Property.HOST_MEMORY, Violation.Property.PROGRESS, Violation.Property.CORRUPTION);
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("'%s' in%n%s", regex, text).isTrue();
        return m.group(1);
    }

    private static String[] append(String[] a, String b) {
        String[] all = Arrays.copyOf(a, a.length + 1);
        all[a.length] = b;
        return all;
    }
}
