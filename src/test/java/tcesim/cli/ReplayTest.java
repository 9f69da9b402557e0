package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tcesim.sim.Violation;

/**
 * Every replay line the commands print, run as printed: it reaches the same property, with the same choices and
 * the same step count as the run that printed it. Tables are checked on small configurations (one packet, or a
 * state bound that leaves only the small rows), so that every row with a counterexample is replayed cheaply.
 */
class ReplayTest {
    private static final Pattern VIOLATION = Pattern.compile("(?m)^VIOLATION: (.+) at step (\\d+)$");
    private static final Pattern SCRIPTED = Pattern.compile("(?m)^(\\d+) scripted choices; replay: ");

    /** What a replay printed: its property (label), its step, the choices it was given (-1 for a seed). */
    record Outcome(String property, long step, int choices) {}

    /** Runs {@code line} ("./tcesim repro ..."), which must break a property, and returns what it reached. */
    static Outcome replay(String line) {
        assertThat(line).startsWith("./tcesim repro ");
        CliRun r = CliRun.of(line.substring("./tcesim ".length()).split(" "));
        assertThat(r.exit()).as("exit of %s%n%s", line, r.err()).isEqualTo(1);
        Matcher v = VIOLATION.matcher(r.stdout());
        assertThat(v.find()).as("a violation from %s", line).isTrue();
        Matcher s = SCRIPTED.matcher(r.stdout());
        return new Outcome(v.group(1), Long.parseLong(v.group(2)), s.find() ? Integer.parseInt(s.group(1)) : -1);
    }

    static String label(String jsonProperty) {
        return Violation.Property.valueOf(jsonProperty.toUpperCase(java.util.Locale.ROOT)).label();
    }

    /** The replay lines of a text output (a single check's "replay: ..." or a table's indented ones). */
    static List<String> replayLines(String out) {
        List<String> lines = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*replay: (\\./tcesim repro .*)$").matcher(out);
        while (m.find()) lines.add(m.group(1));
        return lines;
    }

    static int choicesIn(String line) {
        Matcher m = Pattern.compile(" --choices ([0-9,]+)").matcher(line);
        assertThat(m.find()).as(line).isTrue();
        return m.group(1).split(",").length;
    }

    @Test
    void aSingleCheckReplaysInTextAndJson() throws Exception {
        String[][] checks = {
                {"--design", "D0"},
                {"--design", "D4", "--no-stuff-tce", "--packets", "1"},
                {"--design", "D0", "--hazard", "ro-cached-rw"},
                {"--design", "D1", "--hazard", "overwrite-without-clear", "--packets", "1"},
                {"--design", "D2", "--ddw", "--ddw-removal", "without_clear", "--packets", "1"},
                {"--design", "D0", "--properties", "corruption", "--hazard", "ro-cached-rw"},
        };
        for (String[] c : checks) {
            CliRun text = CheckCommandTest.check(c);
            assertThat(text.exit()).as(String.join(" ", c)).isEqualTo(1);
            Matcher m = Pattern.compile("Error: (.+) found\\. The shortest counterexample has (\\d+) scheduling choices and (\\d+) steps").matcher(text.stdout());
            assertThat(m.find()).as(String.join(" ", c)).isTrue();
            List<String> lines = replayLines(text.stdout());
            assertThat(lines).as(String.join(" ", c)).hasSize(1);
            assertThat(replay(lines.get(0))).as(lines.get(0)).isEqualTo(new Outcome(m.group(1), Long.parseLong(m.group(3)), Integer.parseInt(m.group(2))));

            String[] withJson = java.util.Arrays.copyOf(c, c.length + 1);
            withJson[c.length] = "--json";
            JsonNode n = new ObjectMapper().readTree(CheckCommandTest.check(withJson).stdout());
            assertThat(n.get("replay").asText()).isEqualTo(lines.get(0));
            assertThat(replay(n.get("replay").asText())).isEqualTo(new Outcome(label(n.get("property").asText()), n.get("steps").asLong(), n.get("choices").size()));
        }
    }

    /** A table's text rows and JSON rows: the same replay lines, in the same order, and each reaches what the row says. */
    private static JsonNode tableReplays(String key, String... args) throws Exception {
        CliRun text = CheckCommandTest.check(args);
        String[] withJson = java.util.Arrays.copyOf(args, args.length + 1);
        withJson[args.length] = "--json";
        JsonNode rows = new ObjectMapper().readTree(CheckCommandTest.check(withJson).stdout()).get(key);
        List<String> fromJson = new ArrayList<>();
        for (JsonNode row : rows) {
            if (!row.has("replay")) continue;
            fromJson.add(row.get("replay").asText());
            assertThat(replay(row.get("replay").asText())).as(row.toString())
                    .isEqualTo(new Outcome(label(row.get("property").asText()), row.get("steps").asLong(), row.get("choices").size()));
        }
        assertThat(fromJson).as("rows with a counterexample").hasSizeGreaterThan(3);
        assertThat(replayLines(text.stdout())).isEqualTo(fromJson);
        // Each text row with a verdict "unsafe" is followed by its replay line.
        List<String> lines = text.stdout().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).contains(" unsafe ")) continue;
            assertThat(lines.get(i + 1)).as("the line after %s", lines.get(i)).startsWith("       replay: ./tcesim repro --choices ")
                    .contains(" --design " + lines.get(i).split("\\s+")[key.equals("hazards") ? 1 : 0] + " ");
        }
        return rows;
    }

    @Test
    void everyRowOfTheVerdictTableReplays() throws Exception {
        // --ddw-removal is for the DDW rows: it makes them unsafe, and their replay lines carry it with --ddw; the others have neither.
        JsonNode rows = tableReplays("results", "--all", "--packets", "1", "--ddw-removal", "without_clear");
        int ddw = 0;
        for (JsonNode row : rows) {
            if (!row.has("replay")) continue;
            String line = row.get("replay").asText();
            if (row.get("guest").asText().equals("DDW")) {
                assertThat(line).contains(" --ddw ").contains(" --ddw-removal without_clear ");
                ddw++;
            } else {
                assertThat(line).doesNotContain("--ddw");
            }
        }
        assertThat(ddw).as("DDW rows with a counterexample").isPositive();
    }

    @Test
    void everyRowOfTheHazardTableReplays() throws Exception {
        tableReplays("hazards", "--hazards", "--max-states", "3000");
    }

    @Test
    void theFirstFailingSeedReplays() {
        CliRun r = CliRun.of("repro", "--seeds", "3", "--host", "no_vfio_tce", "--rx-revokes", "1", "--packets", "400", "--no-kernel-churn");
        assertThat(r.exit()).isEqualTo(1);
        Matcher first = Pattern.compile("(?m)^first failing seed: (\\d+); replay: (.*)$").matcher(r.stdout());
        assertThat(first.find()).isTrue();
        Matcher row = Pattern.compile("(?m)^  seed " + first.group(1) + " +(.+) found at step (\\d+)$").matcher(r.stdout());
        assertThat(row.find()).isTrue();
        assertThat(replay(first.group(2))).isEqualTo(new Outcome(row.group(1), Long.parseLong(row.group(2)), -1));
    }

    /** The replay line of {@code check --design D0}, as args for {@link CliRun#of}, with {@code edit} applied to it. */
    private static String[] d0Replay(java.util.function.UnaryOperator<String> edit) {
        String line = replayLines(CheckCommandTest.check("--design", "D0").stdout()).get(0);
        return edit.apply(line).substring("./tcesim ".length()).split(" ");
    }

    @Test
    void aReplayOnAnotherConfigurationIsRefusedNamingWhatDiffers() {
        CliRun other = CliRun.of(d0Replay(l -> l.replace(" --packets 2 ", " --packets 3 ")));
        assertThat(other.exit()).isEqualTo(2);
        assertThat(other.err().strip()).isEqualTo("tcesim repro: --config-id: the replay came from another configuration than this command line's:"
                + " --packets, --tx-packets differ; run the replay line as it was printed");
        assertThat(other.stdout()).as("nothing ran").isEmpty();

        CliRun bare = CliRun.of(d0Replay(l -> l.replaceAll(" --design .* --config-id ", " --config-id ")));
        assertThat(bare.exit()).isEqualTo(2);
        assertThat(bare.err()).contains("--max-iotlb-entries, --packets, --tx-packets, --ring-size, --ram-mib, --window-kib, --no-kernel-churn differ")
                .doesNotContain("--design,").hasLineCount(1);

        CliRun bad = CliRun.of(d0Replay(l -> l.replaceAll("--config-id \\S+", "--config-id c2-00")));
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--config-id c2-00: not a configuration id this tcesim writes").hasLineCount(1);
    }

    @Test
    void aReplayLineWithoutItsIdStillReplays() {
        CliRun r = CliRun.of(d0Replay(l -> l.replaceAll(" --config-id \\S+", "")));
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("VIOLATION: stale access");
    }

    @Test
    void theSameConfigurationSpeltAnotherWayHasTheSameId() {
        String id = "--config-id (\\S+)";
        Matcher a = Pattern.compile(id).matcher(CheckCommandTest.check("--design", "D0", "--hazard", "overwrite-without-clear").stdout());
        Matcher b = Pattern.compile(id).matcher(CheckCommandTest.check("--design", "D0", "--no-clear").stdout());
        assertThat(a.find() && b.find()).isTrue();
        assertThat(a.group(1)).isEqualTo(b.group(1));
    }
}
