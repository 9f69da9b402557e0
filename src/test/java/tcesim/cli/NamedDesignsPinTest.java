package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * The named designs D0 .. V are combinations of mechanisms ({@link tcesim.sim.Mechanisms}); building them from their
 * mechanisms must not move a verdict, a counterexample, a state count or a cost. The files under
 * src/test/resources/tcesim/pinned/ are what {@code check --all --json} and {@code compare --json} printed when each
 * design was still its own hard-wired configuration (wall-clock times left out).
 */
class NamedDesignsPinTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode pinned(String name) throws Exception {
        try (InputStream in = NamedDesignsPinTest.class.getResourceAsStream("/tcesim/pinned/" + name + ".json")) {
            return JSON.readTree(in);
        }
    }

    /** The JSON without its wall-clock times. */
    static JsonNode withoutTimes(JsonNode n) {
        if (n.isObject()) {
            ((ObjectNode) n).remove("millis");
            n.forEach(NamedDesignsPinTest::withoutTimes);
        } else if (n.isArray()) {
            n.forEach(NamedDesignsPinTest::withoutTimes);
        }
        return n;
    }

    @Test
    void checkAllFindsWhatItFoundBeforeTheDesignsWereMadeOfMechanisms() throws Exception {
        CliRun r = CliRun.of("check", "--all", "--json");
        assertThat(r.exit()).isEqualTo(1);
        JsonNode now = withoutTimes(JSON.readTree(r.stdout()));
        JsonNode before = pinned("check-all");
        assertThat(now.get("results")).hasSize(before.get("results").size());
        for (int i = 0; i < before.get("results").size(); i++) {
            assertThat(now.get("results").get(i)).as("row %d", i).isEqualTo(before.get("results").get(i));
        }
        assertThat(now).isEqualTo(before);
    }

    @Test
    void compareCostsWhatItCostBeforeTheDesignsWereMadeOfMechanisms() throws Exception {
        CliRun r = CliRun.of("compare", "--json");
        assertThat(r.exit()).isZero();
        JsonNode now = withoutTimes(JSON.readTree(r.stdout()));
        JsonNode before = pinned("compare");
        for (int i = 0; i < before.get("designs").size(); i++) {
            assertThat(now.get("designs").get(i)).as("design %s", before.get("designs").get(i).get("design")).isEqualTo(before.get("designs").get(i));
        }
        assertThat(now).isEqualTo(before);
    }
}
