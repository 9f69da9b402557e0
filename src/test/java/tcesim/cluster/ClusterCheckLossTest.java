package tcesim.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tcesim.explore.Checker;
import tcesim.sim.Design;
import tcesim.sim.StackConfig;

/**
 * A worker killed in the middle of a check: no verdict, the lost worker named, and with a checkpoint file the last
 * level every worker completed, which goes on here or on the cluster to the answer of a check never stopped.
 */
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

    /** The lines of {@code out} that hold {@code part}. */
    static String line(String out, String part) {
        return out.lines().filter(l -> l.contains(part)).findFirst().orElseThrow(() -> new AssertionError("no line with '" + part + "' in:\n" + out));
    }

    @Test
    @Timeout(300)
    void aWorkerKilledMidCheckLeavesACheckpointThatGoesOnHereAndOnTheClusterToTheUninterruptedAnswer(@TempDir Path dir) throws Exception {
        // D0's small configuration: a counterexample of 11 choices, found in the 11th level.
        String[] args = {"check", "--design", "D0", "--tx-packets", "1"};
        ClusterCampaignTest.Run whole = ClusterCampaignTest.run(args);
        assertThat(whole.exit()).isEqualTo(1);
        Path ck = dir.resolve("d0.ck");
        try (Workers w = Workers.start(2, 1)) {
            String lost = "127.0.0.1:" + w.ports.get(1);
            ClusterCampaignTest.Run stopped;
            DistributedCheck.afterLevel = depth -> {
                if (depth != 3) return;
                try {
                    w.kill(1);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            };
            try {
                stopped = ClusterCampaignTest.run(ClusterCampaignTest.concat(args, "--checkpoint", ck.toString(), "--cluster", w.list()));
            } finally {
                DistributedCheck.afterLevel = null;
            }
            assertThat(stopped.exit()).as(stopped.out() + stopped.err()).isEqualTo(3);
            assertThat(stopped.out()).contains("Stopped: worker " + lost + " was lost. No verdict yet.")
                    .contains("The search state after depth 3 is in " + ck + ": go on here with\n")
                    .contains("For the checkpoint, the workers sent this process each new state once: ");
            assertThat(stopped.err()).doesNotContain("Exception");
            assertThat(ck).isRegularFile();
            String[] lines = stopped.out().lines().toArray(String[]::new);
            int at = java.util.Arrays.asList(lines).indexOf("or on the cluster with");
            String here = lines[at - 1].strip();
            String there = lines[at + 1].strip();
            assertThat(here).startsWith("./tcesim check --design D0 ").contains(" --tx-packets 1 ").endsWith(" --checkpoint " + ck + " --resume " + ck);
            assertThat(there).isEqualTo(here + " --cluster " + w.list());

            // Here: the same verdict, counts, counterexample and replay line as the check never stopped.
            ClusterCampaignTest.Run local = ClusterCampaignTest.run(here.substring("./tcesim ".length()).split(" "));
            assertThat(local.exit()).isEqualTo(1);
            for (String part : new String[] {"replay: ", "The shortest counterexample has ", "distinct states found"}) {
                assertThat(line(local.out(), part)).isEqualTo(line(whole.out(), part));
            }
            // On the cluster (the worker left and one that joined since): the same verdict, distinct states,
            // counterexample and replay line.
            w.add(1, 2);
            ClusterCampaignTest.Run onCluster = ClusterCampaignTest.run(there.substring("./tcesim ".length()).split(" "));
            assertThat(onCluster.exit()).as(onCluster.out() + onCluster.err()).isEqualTo(1);
            assertThat(onCluster.out()).contains("on 2 workers of tcesim-");
            for (String part : new String[] {"replay: ", "The shortest counterexample has "}) {
                assertThat(line(onCluster.out(), part)).isEqualTo(line(whole.out(), part));
            }
            String counts = line(whole.out(), "distinct states found");
            assertThat(line(onCluster.out(), "distinct states found")).endsWith(counts.substring(counts.indexOf(" states generated, ")));
        }
    }
}
