package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import tcesim.explore.Campaign;
import tcesim.kvm.HostCaps;
import tcesim.sim.StackConfig;

class CampaignCommandTest {
    @Test
    void aCampaignOfTheSeedsBugReportsTheFractionAndTheFirstFailingSeed() {
        CliRun r = CliRun.of("campaign", "--max-iotlb-entries", "32768", "--packets", "5000", "--seeds", "3..5", "--workers", "2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("3 of 3 seeds break a property (100.0 %)").contains("first failing seed: 3")
                .contains("replay: ./tcesim repro --seed 3 ");
        assertThat(r.err()).contains("3/3 seeds done");
    }

    @Test
    void aCleanCampaignExitsZeroAndJsonIsParseable() throws Exception {
        CliRun r = CliRun.of("campaign", "--host", "no_vfio_tce", "--packets", "300", "--seeds", "0..3", "--json");
        assertThat(r.exit()).isEqualTo(0);
        JsonNode n = new ObjectMapper().readTree(r.stdout());
        assertThat(n.get("seeds").asLong()).isEqualTo(4);
        assertThat(n.get("failing").asLong()).isZero();
        assertThat(n.get("packets").asLong()).isEqualTo(4 * 600);
    }

    @Test
    void badRangesAreUsageErrors() {
        for (String bad : new String[] {"5..2", "x..3", "1..2..3", "-1..4", ""}) {
            CliRun r = CliRun.of("campaign", "--seeds", bad);
            assertThat(r.exit()).as(bad).isEqualTo(2);
            assertThat(r.err()).contains("--seeds").doesNotContain("Exception");
        }
        assertThat(CampaignCommand.parseRange("7")).containsExactly(7, 7);
        assertThat(CampaignCommand.parseRange("0..9")).containsExactly(0, 9);
    }

    @Test
    void resultsDoNotDependOnTheNumberOfWorkers() {
        StackConfig c = StackConfig.seed().toBuilder().host(HostCaps.POWERNV_HV).maxIotlbEntries(32768).rxPackets(4000).txPackets(4000).build();
        Campaign.Result one = Campaign.run(c, 1, 4, 5_000_000, 1, null);
        Campaign.Result two = Campaign.run(c, 1, 4, 5_000_000, 2, null);
        assertThat(two.runs()).isEqualTo(one.runs());
    }
}
