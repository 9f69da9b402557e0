package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tcesim.kvm.HostCaps;
import tcesim.sim.StackConfig;

/** Blocks of seeds, tallied in seed order, add up to the campaign seed by seed (the unit of a campaign on a cluster). */
class CampaignBlockTest {
    @Test
    void blocksAddUpToTheRunsOneByOne() {
        StackConfig failing = StackConfig.seed().toBuilder().host(HostCaps.POWERNV_HV).maxIotlbEntries(32768).rxPackets(1500).txPackets(1500).build();
        StackConfig passing = StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(200).txPackets(200).build();
        for (StackConfig c : new StackConfig[] {failing, passing}) {
            Campaign.Result local = Campaign.run(c, 3, 9, 5_000_000, 1, null);
            Campaign.Tally t = new Campaign.Tally();
            t.add(Campaign.block(c, 3, 5, 5_000_000, () -> false));
            t.add(Campaign.block(c, 6, 6, 5_000_000, () -> false));
            t.add(Campaign.block(c, 7, 9, 5_000_000, () -> false));
            assertThat(t.result(false)).isEqualTo(local);
        }
    }

    @Test
    void theDigestTellsTheOrderOfTheBlocks() {
        StackConfig c = StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(200).txPackets(200).build();
        Campaign.Block a = Campaign.block(c, 1, 2, 5_000_000, () -> false);
        Campaign.Block b = Campaign.block(c, 3, 3, 5_000_000, () -> false);
        Campaign.Tally ab = new Campaign.Tally();
        ab.add(a);
        ab.add(b);
        Campaign.Tally ba = new Campaign.Tally();
        ba.add(b);
        ba.add(a);
        assertThat(ab.result(false).digest()).isNotEqualTo(ba.result(false).digest());
        assertThat(Campaign.block(c, 1, 5, 5_000_000, () -> true)).as("stopped before its first seed").isNull();
    }
}
