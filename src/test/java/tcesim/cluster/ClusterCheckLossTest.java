package tcesim.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tcesim.explore.Checker;
import tcesim.sim.Design;
import tcesim.sim.StackConfig;

/** A worker killed in the middle of a check: no verdict, and the lost worker named. */
class ClusterCheckLossTest {
    @Test
    @Timeout(300)
    void aWorkerKilledMidCheckLeavesNoVerdict() throws Exception {
        StackConfig c = ClusterCheckTest.small(Design.D2);
        try (Workers w = Workers.start(2, 1)) {
            HazelcastInstance client = w.client();
            try {
                int[] levels = new int[1];
                DistributedCheck.Outcome o = DistributedCheck.run(client, c, ClusterCheckTest.ALL, true, 1_000_000, () -> false,
                        (depth, distinct, frontier, perWorker, bytesPerState) -> {
                            // After the third level, between two levels: the next one cannot be completed.
                            if (++levels[0] == 3) {
                                try {
                                    w.kill(1);
                                } catch (InterruptedException e) {
                                    throw new IllegalStateException(e);
                                }
                            }
                        });
                assertThat(levels[0]).isEqualTo(3);
                assertThat(o.result().verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
                assertThat(o.lost()).isEqualTo("127.0.0.1:" + w.ports.get(1));
                assertThat(o.result().stopped()).isEqualTo("worker 127.0.0.1:" + w.ports.get(1) + " was lost");
                assertThat(o.result().depth()).isEqualTo(3);
            } finally {
                client.shutdown();
            }
        }
    }
}
