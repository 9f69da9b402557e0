package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckCommandTest {
    /** {@code tcesim check} on its default small configuration (two packets each way). */
    static CliRun check(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "check";
        System.arraycopy(args, 0, all, 1, args.length);
        return CliRun.of(all);
    }

    @Test
    void anUnsafeDesignExitsOneWithANumberedCounterexampleAndAReplayLine() {
        CliRun r = check("--design", "D0");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("Error: stale access found").contains("    1. ")
                .contains("H_STUFF_TCE").contains("VIOLATION").contains("replay: ./tcesim repro --choices ")
                .contains("distinct states found").contains("fingerprint collision");
    }

    @Test
    void theReplayLineReproducesTheViolation() {
        CliRun r = check("--design", "D0");
        String line = r.stdout().lines().filter(l -> l.startsWith("replay: ./tcesim repro ")).findFirst().orElseThrow();
        String[] args = line.substring("replay: ./tcesim ".length()).split(" ");
        CliRun replay = CliRun.of(args);
        assertThat(replay.exit()).isEqualTo(1);
        assertThat(replay.stdout()).contains("VIOLATION: stale access");
    }

    @Test
    void aSafeDesignExitsZero() {
        CliRun r = check("--design", "D2", "--packets", "1");
        assertThat(r.exit()).isEqualTo(0);
        assertThat(r.stdout()).contains("Model checking completed. No property is broken.");
    }

    @Test
    void jsonIsParseable() throws Exception {
        CliRun r = check("--design", "D0", "--json");
        assertThat(r.exit()).isEqualTo(1);
        JsonNode n = new ObjectMapper().readTree(r.stdout());
        assertThat(n.get("verdict").asText()).isEqualTo("unsafe");
        assertThat(n.get("property").asText()).isEqualTo("stale_access");
        assertThat(n.get("choices").isArray()).isTrue();
        assertThat(n.get("distinctStates").asLong()).isPositive();
    }

    @Test
    void aStateLimitExitsThree() {
        CliRun r = check("--design", "D2", "--max-states", "5");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout()).contains("Stopped: state limit of 5 reached").contains("Raise --max-states");
    }

    @Test
    void badConfigurationsAndFlagsExitTwo() {
        for (String[] bad : new String[][] {{"--workers", "0"}, {"--window-kib", "48"}, {"--design", "D9"}, {"--properties", "speed"}, {"--bogus"}}) {
            CliRun r = check(bad);
            assertThat(r.exit()).as(String.join(" ", bad)).isEqualTo(2);
            assertThat(r.err()).doesNotContain("Exception");
        }
    }

    @Test
    void aMemoryBoundAndACheckpointGiveExitThreeAndAResumeLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        java.nio.file.Path ck = dir.resolve("c.ck");
        CliRun r = check("--design", "D2", "--max-memory", "1m", "--checkpoint", ck.toString());
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout()).contains("Stopped: memory bound of 1 MiB reached").contains("--resume " + ck);
        CliRun resumed = check("--design", "D2", "--packets", "1", "--resume", ck.toString());
        assertThat(resumed.exit()).as("another configuration").isEqualTo(2);
        assertThat(resumed.err()).isEqualTo("tcesim check: " + ck + " was written for another configuration" + System.lineSeparator());
        CliRun bad = check("--max-memory", "lots");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--max-memory takes a size");
    }

    @Test
    void theHazardTableNamesEachHazardUnderEachDesign() {
        CliRun r = check("--hazards", "--workers", "2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("window-removal").contains("no DMA window covers this IOVA").contains("update-size-0")
                .contains("overwrite-without-clear  D4      unsafe").contains("partial-failure          D2      safe");
    }

    @Test
    void allAndHazardsExcludeEachOther() {
        CliRun r = check("--all", "--hazards");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--all and --hazards exclude each other").contains("Try 'tcesim check --help' for more information.").doesNotContain("Usage:");
        assertThat(r.stdout()).isEmpty();
        assertThat(check("--hazards", "--hazard", "ro-cached-rw").err()).contains("--hazards checks every hazard: leave out --hazard");
    }

    @Test
    void checkpointsAreForOneCheckNotForATable(@TempDir Path dir) {
        for (String[] bad : new String[][] {{"--all", "--checkpoint", dir.resolve("c").toString()}, {"--hazards", "--resume", dir.resolve("c").toString()}}) {
            CliRun r = check(bad);
            assertThat(r.exit()).as(String.join(" ", bad)).isEqualTo(2);
            assertThat(r.err()).contains(bad[1] + " works for one check, not with " + bad[0]);
            assertThat(r.stdout()).isEmpty();
        }
    }

    @Test
    void theHazardTableKeepsTheMemoryBoundForEachCheck() {
        CliRun r = check("--hazards", "--max-memory", "1");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout().lines().filter(l -> l.contains(" incomplete "))).hasSize((int) java.util.Arrays.stream(tcesim.sim.Design.values()).filter(d -> !d.passthrough()).count() * tcesim.sim.Hazard.values().length);
        assertThat(r.stdout()).doesNotContain(" unsafe ").doesNotContain(" safe ");
    }

    @Test
    void aCheckpointThatIsADirectoryOrInAMissingOneIsRefusedUpFront(@TempDir Path dir) {
        CliRun r = check("--design", "D2", "--checkpoint", dir.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tcesim check: --checkpoint " + dir + ": is a directory; give a file name" + System.lineSeparator());
        assertThat(r.stdout()).isEmpty();
        assertThat(dir.resolveSibling(dir.getFileName() + ".tmp")).doesNotExist();
        r = check("--design", "D2", "--checkpoint", dir.resolve("no/such/c.ck").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("the directory " + dir.resolve("no/such") + " does not exist").doesNotContain("Exception");
    }

    @Test
    void aMissingCheckpointIsNamed(@TempDir Path dir) {
        CliRun r = check("--resume", dir.resolve("none.ck").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tcesim check: --resume " + dir.resolve("none.ck") + ": no such file" + System.lineSeparator());
    }

    @Test
    void aStateLimitWritesTheCheckpointItNamesAndTheResumeFinishesTheSearch(@TempDir Path dir) {
        Path ck = dir.resolve("ck1");
        CliRun whole = check("--design", "D2");
        CliRun r = check("--design", "D2", "--checkpoint", ck.toString(), "--max-states", "5000");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout()).contains("Stopped: state limit of 5000 reached").contains("The search state is in " + ck + ": go on with\n  ./tcesim check --design D2 ");
        assertThat(ck).isRegularFile();
        // The command printed: the same configuration, a higher limit, and the checkpoint written again; run without the
        // limit (the default's), so that the search ends here.
        String command = line(r, "  ./tcesim check ").strip();
        assertThat(command).endsWith(" --checkpoint " + ck + " --resume " + ck);
        java.util.regex.Matcher limit = java.util.regex.Pattern.compile(" --max-states (\\d+) ").matcher(command);
        assertThat(limit.find()).isTrue();
        assertThat(Long.parseLong(limit.group(1))).as("a higher limit").isGreaterThan(5000);
        CliRun resumed = CliRun.of(command.substring("./tcesim ".length()).replaceAll(" --max-states \\d+", "").split(" "));
        assertThat(resumed.exit()).isZero();
        assertThat(resumed.stdout()).contains("Model checking completed. No property is broken.");
        assertThat(line(resumed, "states generated")).isEqualTo(line(whole, "states generated"));
    }

    /**
     * Past a level of more than --frontier-limit states the check goes on depth-first: the same states counted, and a
     * counterexample said not to be the shortest, which replays; the resume line keeps the limit.
     */
    @Test
    void pastTheFrontierLimitTheCheckGoesOnDepthFirst(@TempDir Path dir) throws Exception {
        CliRun whole = check("--design", "D2", "--packets", "1");
        CliRun deep = check("--design", "D2", "--packets", "1", "--frontier-limit", "10");
        assertThat(deep.exit()).isZero();
        assertThat(deep.stdout()).contains("Depth-first past a level of more than 10 states; the longest path followed has ");
        assertThat(line(deep, "states generated").replaceAll("(end states\\.).*", "$1"))
                .isEqualTo(line(whole, "states generated").replaceAll("(end states\\.).*", "$1"));

        CliRun unsafe = check("--design", "D0", "--frontier-limit", "1");
        assertThat(unsafe.exit()).isEqualTo(1);
        assertThat(unsafe.stdout()).contains("A counterexample found depth-first (a shorter one may exist) has ");
        String replay = line(unsafe, "replay: ./tcesim repro ");
        assertThat(CliRun.of(replay.substring("replay: ./tcesim ".length()).split(" ")).stdout()).contains("VIOLATION: stale access");
        JsonNode n = new ObjectMapper().readTree(check("--design", "D0", "--frontier-limit", "1", "--json").stdout());
        assertThat(n.get("depthFirst").asBoolean()).isTrue();
        assertThat(new ObjectMapper().readTree(check("--design", "D0", "--json").stdout()).has("depthFirst")).isFalse();

        Path ck = dir.resolve("deep.ck");
        CliRun stopped = check("--design", "D2", "--packets", "1", "--frontier-limit", "10", "--checkpoint", ck.toString(), "--max-states", "200");
        assertThat(stopped.exit()).isEqualTo(3);
        assertThat(line(stopped, "  ./tcesim check ")).contains(" --frontier-limit 10 ");
        CliRun resumed = CliRun.of(line(stopped, "  ./tcesim check ").strip().substring("./tcesim ".length()).replaceAll(" --max-states \\d+", "").split(" "));
        assertThat(resumed.exit()).isZero();
        assertThat(line(resumed, "states generated")).isEqualTo(line(deep, "states generated"));
        CliRun onCluster = check("--design", "D2", "--packets", "1", "--resume", ck.toString(), "--cluster", "127.0.0.1:1");
        assertThat(onCluster.exit()).isEqualTo(2);
        assertThat(onCluster.err()).contains("gone depth-first").doesNotContain("Exception");

        for (String[] bad : new String[][] {{"--frontier-limit", "0"}, {"--frontier-limit", "x"}, {"--frontier-limit", "5", "--cluster", "127.0.0.1:1"}}) {
            CliRun r = check(bad);
            assertThat(r.exit()).as(String.join(" ", bad)).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", bad)).doesNotContain("Exception");
        }
        assertThat(check("--frontier-limit", "5", "--cluster", "127.0.0.1:1").err()).contains("not with --frontier-limit");
    }

    /** A table whose checks went depth-first marks their counterexamples so, and keeps the breadth-first table's verdicts. */
    @Test
    void aTableMarksTheCounterexamplesFoundDepthFirst() {
        String bfs = check("--all", "--packets", "1", "--markdown").stdout();
        String dfs = check("--all", "--packets", "1", "--markdown", "--frontier-limit", "1").stdout();
        assertThat(dfs).contains(", depth-first)");
        assertThat(bfs).doesNotContain("depth-first");
        java.util.function.UnaryOperator<String> verdicts = t -> t.replaceAll(" \\(\\d+(, depth-first)?\\)", "");
        assertThat(verdicts.apply(dfs)).isEqualTo(verdicts.apply(bfs));
        CliRun text = check("--all", "--packets", "1", "--frontier-limit", "1");
        assertThat(text.stdout()).containsPattern("D0      Linux \\(STUFF\\+IND\\)      unsafe      stale access \\(\\d+, depth-first\\) +\\d+  ");
        // The columns stay aligned: the states column ends where the header's does.
        String header = line(text, "found (choices)");
        String row = line(text, "depth-first)");
        int end = header.indexOf("states") + "states".length();
        assertThat(Character.isDigit(row.charAt(end - 1)) && row.charAt(end) == ' ').as(header + "\n" + row).isTrue();
    }

    static String line(CliRun r, String part) {
        return r.stdout().lines().filter(l -> l.contains(part)).findFirst().orElseThrow();
    }

    /** A checkpoint that cannot be written when the check stops (its directory gone) is said with the result, which is printed all the same. */
    @Test
    void aCheckpointThatCannotBeWrittenIsSaidAndTheResultStillPrinted(@TempDir Path dir) throws Exception {
        Path sub = java.nio.file.Files.createDirectory(dir.resolve("gone"));
        Path ck = sub.resolve("c.ck");
        // The directory is there when the command checks its options, and gone when Ctrl-C stops the search.
        CliRun r = CliRun.ctrlC((out, err) -> sub.toFile().delete() || true, "check", "--design", "D2", "--checkpoint", ck.toString());
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout()).contains("Stopped: interrupted. No verdict yet.").contains("No checkpoint was written: cannot write checkpoint " + ck)
                .contains("distinct states found").doesNotContain(" --resume ");
        assertThat(ck).doesNotExist();
    }

    @Test
    void ctrlCStopsACheckAndItsResultIsPrinted(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("c.ck");
        CliRun r = CliRun.ctrlC((out, err) -> true, "check", "--design", "D2", "--checkpoint", ck.toString());
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout()).contains("Stopped: interrupted. No verdict yet.").contains(" --checkpoint " + ck + " --resume " + ck);
        assertThat(ck).isRegularFile();
        CliRun json = CliRun.ctrlC((out, err) -> true, "check", "--design", "D2", "--json");
        assertThat(json.exit()).isEqualTo(3);
        JsonNode n = new ObjectMapper().readTree(json.stdout());
        assertThat(n.get("verdict").asText()).isEqualTo("incomplete");
        assertThat(n.get("stopped").asText()).isEqualTo("interrupted");
    }

    @Test
    void ctrlCStopsATableAndKeepsTheRowsDone() throws Exception {
        CliRun r = CliRun.ctrlC((out, err) -> out.contains("D0      Linux"), "check", "--all");
        assertThat(r.exit()).as("D0 breaks a property before the stop").isEqualTo(1);
        assertThat(r.stdout()).contains("D0      Linux (STUFF+IND)      unsafe").containsPattern("Interrupted: [1-9][0-9]* of 39 checks done")
                .doesNotContain("V       Linux");
        CliRun h = CliRun.ctrlC((out, err) -> true, "check", "--hazards", "--json");
        assertThat(h.exit()).as("nothing broken yet: no verdict").isEqualTo(3);
        JsonNode n = new ObjectMapper().readTree(h.stdout());
        assertThat(n.get("interrupted").asBoolean()).isTrue();
        assertThat(n.get("hazards")).isEmpty();
    }

    /** With --workers, a table's checks run side by side: the table is the one they give one after the other. */
    @Test
    void aTableIsTheSameWithItsChecksSideBySide() throws Exception {
        assertThat(check("--all", "--packets", "1", "--markdown", "--workers", "3").stdout())
                .isEqualTo(check("--all", "--packets", "1", "--markdown").stdout());
        JsonNode one = new ObjectMapper().readTree(check("--hazards", "--packets", "1", "--json").stdout());
        JsonNode two = new ObjectMapper().readTree(check("--hazards", "--packets", "1", "--json", "--workers", "2").stdout());
        for (JsonNode n : new JsonNode[] {one, two}) for (JsonNode row : n.get("hazards")) ((com.fasterxml.jackson.databind.node.ObjectNode) row).remove("millis");
        assertThat(two).isEqualTo(one);
        CliRun r = CliRun.ctrlC((out, err) -> out.contains("D0      Linux"), "check", "--all", "--workers", "2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).containsPattern("Interrupted: [1-9][0-9]* of 39 checks done");
    }

    @Test
    void aMemoryBoundTooLargeForALongIsOutOfRange() {
        BadInputTest.bad("--max-memory out of range: 99999999999999999999g", "check", "--max-memory", "99999999999999999999g");
    }

    @Test
    void aMemoryBoundUnderOneMebibyteIsPrintedInBytes() {
        CliRun r = CliRun.of("check", "--design", "D2", "--max-memory", "1");
        assertThat(r.exit()).isEqualTo(3);
        BadInputTest.noTrace(r);
        assertThat(r.stdout()).contains("Stopped: memory bound of 1 bytes reached. No verdict yet.");
    }

    /** The JSON's figures are rounded (the collision probability had 16 digits), numbers staying numbers. */
    @Test
    void theJsonFiguresAreRounded() throws Exception {
        JsonNode n = new ObjectMapper().readTree(check("--design", "D0", "--json").stdout());
        assertThat(n.get("collisionProbability").isNumber()).isTrue();
        assertThat(n.get("collisionProbability").asDouble()).isPositive();
        java.util.List<JsonNode> numbers = new java.util.ArrayList<>();
        CompareCommandTest.collectNumbers(n, numbers);
        for (JsonNode x : numbers) assertThat(x.asText()).matches(FiguresTest.ROUNDED);
    }

    /** A row the state limit stopped has no property to name: the Markdown table says "no verdict" and why, as the text table does. */
    @Test
    void aHazardRowWithoutAVerdictSaysSoInMarkdown() {
        CliRun r = check("--hazards", "--host", "no_kvm_tce", "--max-states", "3000", "--markdown");
        assertThat(r.err()).isEmpty();
        assertThat(r.stdout()).contains("| `ro-cached-rw` | D0, D2 | no verdict | state limit of 3000 reached |")
                .contains("| `window-removal` | D0, D2 | stale access | no DMA window covers this IOVA |");
    }

    /**
     * The --hazards table cuts nothing (it used to cut addresses: "maps this IOVA to gpa ..."): each row's finding and
     * why, whole, at the end of its line; its times in a column whose header carries the unit, and "-" where nothing was found.
     */
    @Test
    void theHazardTableCutsNothingAndItsHeaderCarriesTheUnits() throws Exception {
        String[] args = {"--hazards", "--host", "no_kvm_tce", "--max-states", "3000"};
        CliRun text = check(args);
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(check(
                java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--json")).toArray(String[]::new)).stdout());
        String header = text.stdout().lines().filter(l -> l.startsWith("hazard ")).findFirst().orElseThrow();
        assertThat(header).containsPattern("hazard +design +verdict +states +time \\(ms\\) +found: why$");
        int rows = 0;
        for (com.fasterxml.jackson.databind.JsonNode row : json.get("hazards")) {
            String found = row.has("why") ? ReplayTest.label(row.get("property").asText()) + ": " + row.get("why").asText() : "-";
            assertThat(text.stdout()).containsPattern("(?m)^" + java.util.regex.Pattern.quote(row.get("hazard").asText()) + " +" + row.get("design").asText()
                    + " +" + row.get("verdict").asText() + " +" + row.get("distinctStates").asLong() + " +\\d+  " + java.util.regex.Pattern.quote(found) + "$");
            rows++;
        }
        assertThat(rows).isEqualTo(12);
        assertThat(text.stdout()).contains("gpa 0x140000").doesNotContain("...").doesNotContainPattern("\\d ms\\b");
    }

    @Test
    void aCheckpointOnADeviceIsRefusedAndTheDeviceLeftAlone() {
        Path dev = Path.of("/dev/null");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(dev) && !java.nio.file.Files.isRegularFile(dev));
        BadInputTest.badContent("--checkpoint /dev/null: exists and is not a regular file", "check", "--design", "D2", "--checkpoint", "/dev/null");
        assertThat(java.nio.file.Files.isRegularFile(dev)).isFalse();
    }

    /** A table says which host and eras it was computed on, in text and JSON. */
    @Test
    void theTablesSayWhichErasTheyRan() throws Exception {
        CliRun text = check("--hazards", "--packets", "1", "--host-kernel", "current", "--qemu", "5.2");
        assertThat(text.stdout()).startsWith("host powernv, host kernel current, QEMU 5.2" + System.lineSeparator());
        JsonNode n = new ObjectMapper().readTree(check("--all", "--json", "--packets", "1", "--host", "powernv8").stdout());
        assertThat(n.get("host").asText()).isEqualTo("powernv8");
        assertThat(n.get("hostKernel").asText()).isEqualTo("2019");
        assertThat(n.get("qemu").asText()).isEqualTo("4.2");
    }

    /** A table exits 1 once a row found a property broken, whatever rows without a verdict it also has (as when interrupted). */
    @Test
    void aTableWithABrokenRowExitsOneEvenBesideRowsWithoutAVerdict() {
        assertThat(CheckCommand.tableExit(0, 0)).isZero();
        assertThat(CheckCommand.tableExit(0, 3)).isEqualTo(3);
        assertThat(CheckCommand.tableExit(3, 1)).isEqualTo(1);
        assertThat(CheckCommand.tableExit(1, 3)).isEqualTo(1);
        assertThat(CheckCommand.tableExit(1, 0)).isEqualTo(1);
    }
}
