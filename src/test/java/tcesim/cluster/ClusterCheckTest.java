package tcesim.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tcesim.explore.Checker;
import tcesim.guest.FirmwareFeatures;
import tcesim.sim.Design;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/** Checks on three worker processes give the local checker's verdict, distinct states and counterexample. */
@Timeout(300)
class ClusterCheckTest {
    static Workers workers;
    static HazelcastInstance client;
    static final Set<Violation.Property> ALL = EnumSet.allOf(Violation.Property.class);

    @BeforeAll
    static void start() throws Exception {
        workers = Workers.start(3, 1);
        client = workers.client();
    }

    @AfterAll
    static void stop() throws Exception {
        if (workers != null) workers.close();
    }

    /** StackCheckTest's small configuration. */
    static StackConfig small(Design d) {
        return d.applyTo(StackConfig.seed().toBuilder().ramBytes(16L << 20).windowBytes(64L << 10).maxIotlbEntries(8).ringSize(2)
                .rxPackets(2).txPackets(1).kernelChurn(false).fw(FirmwareFeatures.MULTI_TCE).build());
    }

    static Checker.Result local(StackConfig c, long maxStates) {
        return new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(maxStates, 1, true, null)).run();
    }

    @Test
    void anUnsafeDesignHasTheLocalCounterexample() throws Exception {
        for (Design d : new Design[] {Design.D0, Design.D4}) {
            StackConfig c = small(d);
            Checker.Result l = local(c, 1_000_000);
            DistributedCheck.Outcome o = DistributedCheck.run(client, c, ALL, true, 1_000_000, () -> false, null);
            assertThat(l.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
            assertThat(o.result().verdict()).as("%s", d).isEqualTo(l.verdict());
            assertThat(o.result().choices()).as("%s", d).isEqualTo(l.choices());
            assertThat(o.result().violation()).as("%s", d).isEqualTo(l.violation());
            assertThat(o.result().distinct()).as("%s", d).isEqualTo(l.distinct());
            assertThat(o.result().depth()).as("%s", d).isEqualTo(l.depth());
            assertThat(o.workers()).hasSize(3);
            assertThat(o.lost()).isNull();
        }
    }

    @Test
    void aSafeDesignHasTheLocalCountsAndEveryWorkerOwnsStates() throws Exception {
        StackConfig c = small(Design.D2);
        Checker.Result l = local(c, 1_000_000);
        DistributedCheck.Outcome o = DistributedCheck.run(client, c, ALL, true, 1_000_000, () -> false, null);
        assertThat(l.verdict()).isEqualTo(Checker.Verdict.SAFE);
        assertThat(o.result()).usingRecursiveComparison().isEqualTo(l);
        assertThat(o.perWorker()).hasSize(3).doesNotContain(0L);
        assertThat(java.util.Arrays.stream(o.perWorker()).sum()).isEqualTo(l.distinct());
        assertThat(o.statesSent()).isPositive();
        assertThat(o.bytesSent()).isGreaterThan(8 * o.statesSent());
    }

    /**
     * Ctrl-C takes effect while a level is under way, not only between levels: the stop here answers true only to the
     * polls made while the coordinator waits for a level (never to the one before each level), once three levels are
     * done. The check ends without a verdict, counting the levels done; the state limit is a net should no level last
     * long enough to be polled.
     */
    @Test
    void aStopAskedForDuringALevelEndsTheCheckWithoutAVerdict(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        StackConfig c = small(Design.D2).toBuilder().rxPackets(3).txPackets(3).build();
        int[] levels = {0};
        java.util.function.BooleanSupplier duringALevel = () -> levels[0] >= 3
                && StackWalker.getInstance().walk(f -> f.anyMatch(x -> x.getMethodName().equals("all") && x.getClassName().endsWith("DistributedCheck$Remote")));
        java.nio.file.Path ck = dir.resolve("stopped.ck");
        DistributedCheck.Outcome o = DistributedCheck.run(client, c, ALL, true, 2_000_000, duringALevel,
                (depth, distinct, frontier, fresh, bytesPerState) -> levels[0] = depth, null,
                new tcesim.explore.PartitionedSearch.Completed(ck, 7, Long.MAX_VALUE));
        assertThat(o.result().verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(o.result().stopped()).isEqualTo("interrupted");
        assertThat(o.result().depth()).isEqualTo(levels[0]).isGreaterThanOrEqualTo(3);
        assertThat(o.lost()).isNull();
        // The checkpoint holds the levels done, not the one dropped.
        assertThat(o.checkpoint()).isEqualTo(ck);
        tcesim.explore.Checkpoint written = tcesim.explore.Checkpoint.read(ck, 7);
        assertThat(written.depth()).isEqualTo(o.result().depth());
        assertThat((long) written.distinct()).isEqualTo(o.result().distinct());
        assertThat(written.generated()).isEqualTo(o.result().generated());
        // The workers dropped the stopped check: the next one runs as usual.
        assertThat(DistributedCheck.run(client, small(Design.D0), ALL, true, 1_000_000, () -> false, null).result().verdict()).isEqualTo(Checker.Verdict.UNSAFE);
    }

    /**
     * A checkpoint written at the end of every level (a period of 0) by a check that then finds its counterexample: the
     * last one is the level before it, from which the local checker finds the same counterexample.
     */
    @Test
    void aCheckpointWrittenAsTheCheckGoesResumesHereToTheSameCounterexample(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        StackConfig c = small(Design.D0);
        Checker.Result l = local(c, 1_000_000);
        java.nio.file.Path ck = dir.resolve("d0.ck");
        tcesim.explore.PartitionedSearch.Completed done = new tcesim.explore.PartitionedSearch.Completed(ck, 11, 0);
        DistributedCheck.Outcome o = DistributedCheck.run(client, c, ALL, true, 1_000_000, () -> false, null, null, done);
        assertThat(o.result().choices()).isEqualTo(l.choices());
        assertThat(o.checkpoint()).as("written as it went").isEqualTo(ck);
        assertThat(o.statesKept()).isEqualTo(done.keptStates()).isPositive();
        assertThat(o.bytesKept()).isGreaterThan(8 * o.statesKept());
        assertThat(tcesim.explore.Checkpoint.read(ck, 11).depth()).isEqualTo(l.choices().length - 1);
        Checker.Result resumed = new Checker(() -> new tcesim.sim.Stack(c, Trace.off()),
                new Checker.Options(1_000_000, 1, true, null, ALL, Long.MAX_VALUE, null, ck), 11).run();
        assertThat(resumed).usingRecursiveComparison().isEqualTo(l);
    }

    @Test
    void theStateLimitStopsWhereTheLocalCheckStops() throws Exception {
        StackConfig c = small(Design.D2);
        Checker.Result l = local(c, 500);
        DistributedCheck.Outcome o = DistributedCheck.run(client, c, ALL, true, 500, () -> false, null);
        assertThat(o.result().verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(o.result().distinct()).isEqualTo(l.distinct()).isEqualTo(500);
        assertThat(o.result().stopped()).isEqualTo(l.stopped());
    }

    @Test
    void theCommandLinePrintsTheLocalReplayLine() {
        String[] args = {"check", "--design", "D0"};
        ClusterCampaignTest.Run local = ClusterCampaignTest.run(args);
        ClusterCampaignTest.Run dist = ClusterCampaignTest.run(ClusterCampaignTest.concat(args, "--cluster", workers.list()));
        assertThat(dist.exit()).isEqualTo(local.exit()).isEqualTo(1);
        String replay = local.out().lines().filter(s -> s.startsWith("replay: ")).findFirst().orElseThrow();
        assertThat(dist.out()).contains(replay).contains("on 3 workers of tcesim-");
        String counts = local.out().lines().filter(s -> s.contains("distinct states found")).findFirst().orElseThrow();
        assertThat(dist.out()).contains(counts.substring(counts.indexOf("states generated, ") + "states generated, ".length()));
        ClusterCampaignTest.Run bad = ClusterCampaignTest.run("check", "--all", "--cluster", workers.list());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--cluster runs one check").doesNotContain("Exception");
    }
}
