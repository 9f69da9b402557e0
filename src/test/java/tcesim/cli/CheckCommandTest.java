package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

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
        assertThat(r.stdout()).contains("Error: no stale access is broken").contains("    1. ")
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
        assertThat(replay.stdout()).contains("VIOLATION: no stale access");
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
        assertThat(resumed.err()).contains("written for another configuration");
        CliRun bad = check("--max-memory", "lots");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--max-memory takes a size");
    }

    @Test
    void theHazardTableNamesEachHazardUnderEachDesign() {
        CliRun r = check("--hazards", "--workers", "2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("window-removal").contains("no DMA window covers this IOVA").contains("update-size-0")
                .contains("overwrite-without-clear  D4    safe");
    }
}
