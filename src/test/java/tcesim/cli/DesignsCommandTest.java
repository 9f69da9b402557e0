package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import tcesim.sim.Design;

/** {@code tcesim designs}: the combinations, the frontier, and the README's blocks. */
class DesignsCommandTest {
    static final String REDUCED = "designs --only D3a,D4,D4+single-miss";

    /** A README block, which holds the output in a text fence. */
    static String fenced(String command) throws Exception {
        String b = ReadmeTest.block(command);
        assertThat(b).startsWith("```text\n").endsWith("```\n");
        return b.substring("```text\n".length(), b.length() - "```\n".length());
    }

    @Test
    void theCombinationsAreEveryBuildableOneButV() {
        // 2 tables x 7 clear paths, of which 7 pairs can be built; 4 vhost sides; 2 answers.
        assertThat(DesignsCommand.combinations()).hasSize(7 * 4 * 2).doesNotHaveDuplicates()
                .contains(Design.D0, Design.D1, Design.D2, Design.D3a, Design.D3b, Design.D4, Design.D4k).doesNotContain(Design.V);
        assertThat(DesignsCommand.combinations().get(0)).isSameAs(Design.D0);
    }

    @Test
    void theReducedRunIsTheReadmeBlockAndItsRowsAreTheFullTables() throws Exception {
        CliRun r = CliRun.of(REDUCED.split(" "));
        assertThat(r.exit()).isZero();
        assertThat(fenced(REDUCED)).isEqualTo(r.stdout());
        String full = fenced("designs");
        // Every design row of the reduced table is the full table's row for that design: same verdicts, states and costs.
        r.stdout().lines().filter(l -> l.matches("^D[0-9].*\\d\\.\\d\\dx$")).forEach(row -> assertThat(full).contains(row + "\n"));
        assertThat(r.stdout()).contains("D4+single-miss (kvm-table+link+single-miss+rw):").contains("drivers/vhost/vhost.c: vhost_iotlb_miss");
    }

    @Test
    void jsonHasTheVerdictsTheFrontierAndThePatches() throws Exception {
        CliRun r = CliRun.of("designs", "--only", "D4+single-miss", "--json");
        assertThat(r.exit()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.stdout());
        assertThat(j.get("designs")).hasSize(2); // D0 comes along: costs are relative to it
        JsonNode d = j.get("designs").get(1);
        assertThat(d.get("design").asText()).isEqualTo("D4+single-miss");
        assertThat(d.get("mechanisms").get("vhost").asText()).isEqualTo("single-miss");
        assertThat(d.get("verdicts").get("Linux (STUFF+IND)").asText()).isEqualTo("safe");
        assertThat(j.get("designs").get(0).get("verdicts").get("Linux (STUFF+IND)").asText()).isEqualTo("stale access");
        assertThat(j.get("designs").get(0).get("relativeToD0").get("throughput").asDouble()).isEqualTo(1.0);
        assertThat(j.get("frontier").get(0).get("designs").get(0).asText()).isEqualTo("D4+single-miss");
        assertThat(j.get("patches").get("D4+single-miss").get(0).asText()).contains("book3s_64_vio.c");
    }

    @Test
    void whatDesignsSetsItselfIsRefused() {
        CliRun r = CliRun.of("designs", "--design", "D4");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--design: designs sets it itself");
        CliRun v = CliRun.of("designs", "--only", "V");
        assertThat(v.exit()).isEqualTo(2);
        assertThat(v.err()).contains("V has no vhost to fix");
        assertThat(CliRun.of("designs", "--only", "D4+nope").err()).contains("unknown mechanism 'nope'");
    }
}
