package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tcesim.sim.StackConfig;

/**
 * The README's tables and figures are what the tool prints: each test runs the command behind one of them (at the
 * README's size, or fewer seeds of the same table) and fails when the README says something else.
 */
class ReadmeTest {
    static final Path README = Path.of("README.md");

    static String readme() throws Exception {
        return Files.readString(README);
    }

    /** The block the README keeps between {@code <!-- COMMAND -->} and {@code <!-- end -->}. */
    static String block(String command) throws Exception {
        String r = readme();
        String open = "<!-- " + command + " -->\n";
        int from = r.indexOf(open);
        assertThat(from).as("the README has a block for '%s'", command).isNotNegative();
        int to = r.indexOf("<!-- end -->", from);
        return r.substring(from + open.length(), to);
    }

    @Test
    void theVerdictTableAndTheD4CounterexampleAreWhatCheckAllPrints() throws Exception {
        CliRun r = CliRun.of("check", "--all", "--markdown");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(block("check --all --markdown")).isEqualTo(r.stdout());
        Matcher d4 = Pattern.compile("(?m)^\\| D4 \\| stale access \\((\\d+)\\)").matcher(r.stdout());
        assertThat(d4.find()).isTrue();
        assertThat(readme()).contains("installs the old\ntranslation (" + d4.group(1) + " choices)");
    }

    /**
     * The two-vCPU table, cell by cell: each check that ends within {@code LIMIT} distinct states gives the README's cell;
     * one that does not (a safe design's millions of states) finds nothing in its first {@code LIMIT}, and the README
     * says safe. The whole table takes minutes (the README's command); this takes seconds.
     */
    @Test
    void theTwoVcpuTableIsWhatItsChecksFind() throws Exception {
        final int limit = 110_000;
        String[] lines = block("check --all --vcpus 2 --markdown").split("\n");
        String[] guests = lines[0].split(" \\| ");
        java.util.Map<String, String> flags = java.util.Map.of("Linux (STUFF+IND)", "", "no STUFF_TCE", "--no-stuff-tce", "no PUT_TCE_IND", "--no-indirect",
                "overwrites, no clear", "--no-clear", "DDW", "--ddw");
        int exact = 0, partial = 0;
        for (int i = 2; i < lines.length; i++) {
            String[] cells = lines[i].substring(2, lines[i].length() - 2).split(" \\| ");
            for (int g = 1; g < cells.length; g++) {
                String guest = guests[g].replace(" |", "");
                if (cells[g].equals("-")) continue;
                java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("check", "--design", cells[0], "--vcpus", "2",
                        "--max-states", Integer.toString(limit), "--json"));
                assertThat(flags).containsKey(guest);
                if (!flags.get(guest).isEmpty()) args.add(flags.get(guest));
                CliRun r = CliRun.of(args.toArray(String[]::new));
                com.fasterxml.jackson.databind.JsonNode j = new ObjectMapper().readTree(r.stdout());
                String where = cells[0] + " / " + guest;
                switch (j.get("verdict").asText()) {
                    case "incomplete" -> {
                        assertThat(cells[g]).as(where).isEqualTo("safe");
                        partial++;
                    }
                    case "safe" -> {
                        assertThat(cells[g]).as(where).isEqualTo("safe");
                        exact++;
                    }
                    default -> {
                        String label = tcesim.sim.Violation.Property.valueOf(j.get("property").asText().toUpperCase(java.util.Locale.ROOT)).label();
                        assertThat(cells[g]).as(where).isEqualTo(label + " (" + j.get("choices").size() + ")");
                        exact++;
                    }
                }
            }
        }
        assertThat(exact).as("cells checked to the end").isGreaterThan(3 * partial);
        // What the README says of it: every verdict as with one vCPU.
        assertThat(readme()).contains("Every design's verdict is the same as with one vCPU");
        assertThat(block("check --all --vcpus 2 --markdown")).isEqualTo(block("check --all --markdown"));
    }

    @Test
    void theHazardTableIsWhatCheckHazardsPrints() throws Exception {
        CliRun r = CliRun.of("check", "--hazards", "--markdown");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(block("check --hazards --markdown")).isEqualTo(r.stdout());
    }

    @Test
    void theLargestStateCountIsWhatCheckPrints() throws Exception {
        CliRun r = CliRun.of("check", "--design", "D2", "--json");
        long distinct = new ObjectMapper().readTree(r.stdout()).get("distinctStates").asLong();
        assertThat(readme()).contains(String.format(java.util.Locale.ROOT, "D2, the largest, has %,d distinct states", distinct).replace("\u00a0", ","));
    }

    @Test
    void theReceiveOnlyClaimsAreWhatCheckFinds() throws Exception {
        assertThat(CliRun.of("check", "--design", "D0", "--packets", "3", "--tx-packets", "0").exit()).isEqualTo(1);
        assertThat(CliRun.of("check", "--design", "D0", "--packets", "2", "--tx-packets", "0").exit()).isZero();
        assertThat(readme()).contains("`check --design D0 --packets 3 --tx-packets 0`");
    }

    /** The README's complete scenario is a valid file whose every key has the value the seed's configuration has. */
    @Test
    void theCompleteScenarioIsTheSeedsConfiguration() throws Exception {
        Matcher m = Pattern.compile("(?s)```yaml\n(.*?)```").matcher(readme());
        assertThat(m.find()).isTrue();
        Scenario.Loaded s = Scenario.parse("README.md", m.group(1));
        assertThat(s.config()).isEqualTo(StackConfig.seed().toBuilder().maxIotlbEntries(32768).build());
        assertThat(s.seed()).isEqualTo(1L);
    }

    /**
     * The rarity table at a fewer seeds: for each cell the README gives, the first seeds of the range behave as the
     * counts allow (a cell of 40 corrupts on every seed, a cell of 0 with nothing in brackets on none).
     */
    @Test
    void theRarityTableHoldsOnItsFirstSeeds() throws Exception {
        Matcher head = Pattern.compile("(?m)^\\| `--disk-io` \\|(.*)\\|$").matcher(readme());
        assertThat(head.find()).isTrue();
        String[] cols = head.group(1).split("\\|");
        int checked = 0;
        for (String entries : new String[] {"2048", "32768"}) {
            Matcher row = Pattern.compile("(?m)^\\| " + entries + " entries \\|(.*)\\|$").matcher(readme());
            assertThat(row.find()).as("a row for %s entries", entries).isTrue();
            String[] cells = row.group(1).split("\\|");
            assertThat(cells).hasSameSizeAs(cols);
            for (int i = 0; i < cols.length; i += cols.length - 1) { // the first and the last column
                String disk = cols[i].trim(), cell = cells[i].trim();
                if (!cell.equals("40") && !cell.equals("0")) continue;
                CliRun r = CliRun.of("repro", "--seeds", "3", "--until", "corruption", "--disk-io", disk, "--max-iotlb-entries", entries);
                long corrupted = r.stdout().lines().filter(l -> l.matches("  seed \\d+ +corruption found at step \\d+")).count();
                long any = r.stdout().lines().filter(l -> l.contains(" found at step")).count();
                if (cell.equals("40")) assertThat(corrupted).as("%s entries, --disk-io %s", entries, disk).isEqualTo(3);
                else assertThat(any).as("%s entries, --disk-io %s", entries, disk).isZero();
                checked++;
            }
        }
        assertThat(checked).as("cells checked").isPositive();
    }
}
