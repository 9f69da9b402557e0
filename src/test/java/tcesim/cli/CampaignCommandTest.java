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
        for (String bad : new String[] {"5..2", "x..3", "1..2..3", "-1..4", "", "0", "1..9223372036854775808"}) {
            CliRun r = CliRun.of("campaign", "--seeds", bad);
            assertThat(r.exit()).as(bad).isEqualTo(2);
            assertThat(r.err()).contains("--seeds").doesNotContain("Exception");
        }
        SeedsOption.Converter c = new SeedsOption.Converter();
        assertThat(c.convert("7").bounds(1)).as("a count, as in repro").containsExactly(1, 7);
        assertThat(c.convert("0..9").bounds(1)).containsExactly(0, 9);
        assertThat(c.convert("1..20000000").bounds(1)).as("a large range is valid").containsExactly(1, 20_000_000);
    }

    @Test
    void resultsDoNotDependOnTheNumberOfWorkers() {
        StackConfig c = StackConfig.seed().toBuilder().host(HostCaps.POWERNV_HV).maxIotlbEntries(32768).rxPackets(4000).txPackets(4000).build();
        Campaign.Result one = Campaign.run(c, 1, 4, 5_000_000, 1, null);
        Campaign.Result two = Campaign.run(c, 1, 4, 5_000_000, 2, null);
        assertThat(two).isEqualTo(one);
        assertThat(one.seeds()).isEqualTo(4);
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void theLastSeedsRunAndTheCampaignEnds() {
        CliRun r = CliRun.of("campaign", "--host", "no_vfio_tce", "--packets", "50", "--seeds", "9223372036854775806..9223372036854775807");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("0 of 2 seeds break a property");
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aStoppedCampaignOfTenMillionSeedsReturnsWhatItRanWithoutQueueingTheRest() {
        StackConfig c = StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(50).txPackets(50).build();
        java.util.concurrent.atomic.AtomicLong ran = new java.util.concurrent.atomic.AtomicLong();
        Campaign.Result r = Campaign.run(c, 0, 9_999_999, 1_000_000, 2, run -> ran.incrementAndGet(), () -> ran.get() >= 40);
        assertThat(r.stopped()).isTrue();
        assertThat(r.seeds()).isBetween(40L, 40L + 2 * 16 + 2);
        assertThat(r.failing()).isZero();
    }

    @Test
    void ctrlCPrintsTheReportOfTheSeedsRunAndTheirFirstFailingSeed() throws Exception {
        CliRun r = CliRun.ctrlC((out, err) -> err.contains("1/100000 seeds done"), "campaign", "--max-iotlb-entries", "32768", "--packets", "2000",
                "--seeds", "1..100000", "--workers", "1");
        assertThat(r.exit()).as("a property broken").isEqualTo(1);
        assertThat(r.stdout()).containsPattern("Interrupted: [1-9][0-9]* of 100000 seeds run").contains("first failing seed: 1 ")
                .contains("replay: ./tcesim repro --seed 1 ");
        java.util.regex.Matcher done = java.util.regex.Pattern.compile("Interrupted: ([0-9]+) of").matcher(r.stdout());
        assertThat(done.find()).isTrue();
        long ran = Long.parseLong(done.group(1));
        assertThat(r.stdout()).as("the seeds not run, as one command").containsPattern(
                "the rest: \\./tcesim campaign --design D0 .*--seeds " + (1 + ran) + "\\.\\.100000 --max-steps 5000000\\n");
        CliRun json = CliRun.ctrlC((out, err) -> true, "campaign", "--host", "no_vfio_tce", "--packets", "50", "--seeds", "1..100000", "--json");
        assertThat(json.exit()).as("nothing broken: no verdict").isEqualTo(3);
        JsonNode n = new ObjectMapper().readTree(json.stdout());
        assertThat(n.get("interrupted").asBoolean()).isTrue();
        assertThat(n.get("seeds").asLong()).isEqualTo(100000);
        assertThat(n.get("seedsRun").asLong()).isLessThan(100000);
        assertThat(n.get("rest").asText()).startsWith("./tcesim campaign --design D0 --host no_vfio_tce ")
                .endsWith(" --seeds " + (1 + n.get("seedsRun").asLong()) + "..100000 --max-steps 5000000");
    }

    @Test
    void seedsStoppedAtTheStepLimitAreNoVerdict() {
        CliRun r = CliRun.of("campaign", "--seeds", "1..2", "--max-steps", "100");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout()).contains("0 of 2 seeds break a property").contains("2 of 2 seeds did not finish in 100 steps: no verdict for them");
    }

    @Test
    void theFirstEstimateCountsTheRunsGoingOnTogether() {
        // 8 workers, 100 seeds: the first run ends after 10 s, with 7 others about to; 99 left at 8 per 10 s.
        assertThat(CampaignCommand.Progress.eta(1, 100, 10.0, 8)).isEqualTo(124);
        // Past the first round the rate is the runs done over the time: 50 in 60 s, 50 left.
        assertThat(CampaignCommand.Progress.eta(50, 100, 60.0, 8)).isEqualTo(60);
        assertThat(CampaignCommand.Progress.eta(1, 2, 10.0, 8)).as("no more at once than there are seeds").isEqualTo(5);
        assertThat(CampaignCommand.Progress.eta(0, 2, 0.0, 8)).isZero();
    }
}
