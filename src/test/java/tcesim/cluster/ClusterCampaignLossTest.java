package tcesim.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tcesim.explore.Campaign;
import tcesim.sim.StackConfig;

/**
 * Workers that come and go during a campaign: one killed in the middle has its blocks run again on the other, one that
 * joins takes blocks from then on; the result is still the local one.
 */
class ClusterCampaignLossTest {
    @Test
    @Timeout(300)
    void aWorkerKilledMidCampaignLosesNothingAndIsReported() throws Exception {
        StackConfig cfg = ClusterCampaignTest.PASSING.toBuilder().rxPackets(1500).txPackets(1500).build();
        Campaign.Result local = Campaign.run(cfg, 1, 40, 5_000_000, 2, null);
        try (Workers w = Workers.start(2, 1)) {
            HazelcastInstance client = w.client();
            try {
                AtomicBoolean killed = new AtomicBoolean();
                long[] tallied = new long[1];
                DistributedCampaign.Outcome o = DistributedCampaign.run(client, cfg, 1, 40, 5_000_000, 2, n -> {
                    tallied[0] += n;
                    // Once the first block is in, each worker holds blocks (two each, one running): the second one dies.
                    if (!killed.getAndSet(true)) {
                        try {
                            w.kill(1);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }, () -> false);
                assertThat(killed).isTrue();
                assertThat(o.result()).isEqualTo(local);
                assertThat(tallied[0]).isEqualTo(40);
                assertThat(o.lost()).containsExactly("127.0.0.1:" + w.ports.get(1));
                assertThat(o.blocksRerun()).isPositive();
                assertThat(o.noVerdict()).isNull();
                assertThat(o.result().stopped()).isFalse();
            } finally {
                client.shutdown();
            }
        }
    }

    @Test
    @Timeout(300)
    void withEveryWorkerLostTheSeedsDoneAreReportedWithoutAVerdictForTheRest() throws Exception {
        StackConfig cfg = ClusterCampaignTest.PASSING.toBuilder().rxPackets(1500).txPackets(1500).build();
        try (Workers w = Workers.start(2, 1)) {
            HazelcastInstance client = w.client();
            try {
                AtomicBoolean killed = new AtomicBoolean();
                DistributedCampaign.Outcome o = DistributedCampaign.run(client, cfg, 1, 40, 5_000_000, 2, n -> {
                    if (!killed.getAndSet(true)) {
                        try {
                            w.kill(0);
                            w.kill(1);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }, () -> false);
                assertThat(o.noVerdict()).isEqualTo("every worker was lost");
                assertThat(o.lost()).containsExactlyInAnyOrder("127.0.0.1:" + w.ports.get(0), "127.0.0.1:" + w.ports.get(1));
                assertThat(o.result().stopped()).isTrue();
                // The seeds tallied are the range's first ones, as the local campaign's of the same seeds.
                long done = o.result().seeds();
                assertThat(done).isBetween(2L, 38L);
                assertThat(o.result()).usingRecursiveComparison().ignoringFields("stopped").isEqualTo(Campaign.run(cfg, 1, done, 5_000_000, 2, null));
            } finally {
                client.shutdown();
            }
        }
    }

    @Test
    @Timeout(300)
    void aWorkerThatJoinsMidCampaignIsSentBlocks() throws Exception {
        StackConfig cfg = ClusterCampaignTest.PASSING.toBuilder().rxPackets(1500).txPackets(1500).build();
        Campaign.Result local = Campaign.run(cfg, 1, 40, 5_000_000, 2, null);
        try (Workers w = Workers.start(1, 1)) {
            HazelcastInstance client = w.client();
            try {
                AtomicBoolean added = new AtomicBoolean();
                String[] late = new String[1];
                DistributedCampaign.Outcome o = DistributedCampaign.run(client, cfg, 1, 40, 5_000_000, 2, n -> {
                    // Once the first block is in, a second worker joins (this waits until it is a member).
                    if (!added.getAndSet(true)) {
                        try {
                            late[0] = w.add(1);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }, () -> false);
                assertThat(o.workers()).isEqualTo(1);
                assertThat(o.joined()).containsExactly(late[0]);
                assertThat(o.blocksByWorker().get(late[0])).as("blocks the late worker answered").isPositive();
                assertThat(o.blocksByWorker().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(20);
                assertThat(o.result()).isEqualTo(local);
                assertThat(o.lost()).isEmpty();
            } finally {
                client.shutdown();
            }
        }
    }
}
