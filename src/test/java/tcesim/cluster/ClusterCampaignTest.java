package tcesim.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hazelcast.core.HazelcastInstance;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tcesim.cli.Main;
import tcesim.explore.Campaign;
import tcesim.kvm.HostCaps;
import tcesim.sim.StackConfig;

/** Campaigns on two worker processes give the local campaign's result. */
@Timeout(300)
class ClusterCampaignTest {
    static Workers workers;
    static HazelcastInstance client;

    @BeforeAll
    static void start() throws Exception {
        workers = Workers.start(2, 1);
        client = workers.client();
    }

    @AfterAll
    static void stop() throws Exception {
        if (workers != null) workers.close();
    }

    /** The seed's bug: every seed breaks a property (the first failing seed and its violation must come back intact). */
    static final StackConfig FAILING = StackConfig.seed().toBuilder().host(HostCaps.POWERNV_HV).maxIotlbEntries(32768).rxPackets(1500).txPackets(1500).build();
    static final StackConfig PASSING = StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(300).txPackets(300).build();

    @Test
    void theTallyFirstFailingSeedAndDigestAreTheLocalOnes() {
        Campaign.Result local = Campaign.run(FAILING, 5, 14, 5_000_000, 1, null);
        DistributedCampaign.Outcome o = DistributedCampaign.run(client, FAILING, 5, 14, 5_000_000, 3, null, () -> false);
        assertThat(o.result()).isEqualTo(local);
        assertThat(local.failing()).isPositive();
        assertThat(o.result().firstFailing().seed()).isEqualTo(5);
        assertThat(o.workers()).isEqualTo(2);
        assertThat(o.lost()).isEmpty();
        assertThat(o.blocksRerun()).isZero();
        assertThat(o.noVerdict()).isNull();
    }

    @Test
    void aCleanCampaignInUnevenBlocksIsTheLocalOne() {
        Campaign.Result local = Campaign.run(PASSING, 0, 22, 5_000_000, 2, null);
        for (long block : new long[] {1, 4, 0}) {
            DistributedCampaign.Outcome o = DistributedCampaign.run(client, PASSING, 0, 22, 5_000_000, block, null, () -> false);
            assertThat(o.result()).as("blocks of %d", block).isEqualTo(local);
        }
        assertThat(local.failing()).isZero();
        assertThat(local.seeds()).isEqualTo(23);
    }

    @Test
    void theCommandLinePrintsWhatTheLocalCommandPrintsAndTheWorkers() throws Exception {
        String[] args = {"campaign", "--max-iotlb-entries", "32768", "--packets", "1500", "--seeds", "3..9", "--json"};
        Run local = run(args);
        Run dist = run(concat(args, "--cluster", workers.list(), "--block-seeds", "2"));
        assertThat(dist.exit).isEqualTo(local.exit).isEqualTo(1);
        ObjectNode d = (ObjectNode) new ObjectMapper().readTree(dist.out);
        assertThat(d.get("workers").asInt()).isEqualTo(2);
        assertThat(d.get("workersLost")).isEmpty();
        assertThat(d.get("workersJoined")).isEmpty();
        long blocks = 0;
        for (JsonNode n : d.get("blocksByWorker")) blocks += n.asLong();
        assertThat(blocks).as("7 seeds in blocks of 2").isEqualTo(4);
        d.remove(java.util.List.of("workers", "workersLost", "workersJoined", "blocksByWorker", "blocksRerun"));
        JsonNode l = new ObjectMapper().readTree(local.out);
        assertThat(d).isEqualTo(l);
        assertThat(l.get("replay").asText()).startsWith("./tcesim repro --seed 3 ");

        Run text = run("campaign", "--host", "no_vfio_tce", "--packets", "300", "--seeds", "1..6", "--cluster", workers.list());
        assertThat(text.exit).isZero();
        assertThat(text.out).contains("on 2 workers of tcesim-" + Main.VERSION).contains("0 of 6 seeds break a property");
        assertThat(text.err).doesNotContain("Exception").doesNotContain("INFO");
    }

    @Test
    void aStoppedCampaignReportsTheRangesFirstSeedsAsTheLocalOneWould() {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        DistributedCampaign.Outcome o = DistributedCampaign.run(client, PASSING, 1, 30, 5_000_000, 2, n -> stop.set(true), stop::get);
        Campaign.Result r = o.result();
        assertThat(r.stopped()).isTrue();
        assertThat(o.noVerdict()).isNull();
        assertThat(r.seeds()).isBetween(2L, 28L);
        assertThat(r).usingRecursiveComparison().ignoringFields("stopped").isEqualTo(Campaign.run(PASSING, 1, r.seeds(), 5_000_000, 1, null));
    }

    @Test
    void benchPrintsTheDistributedPathAgainstTheLocalOne() {
        StringWriter sw = new StringWriter();
        tcesim.cli.BenchCommand.distributed(new PrintWriter(sw), client, ClusterCheckTest.small(tcesim.sim.Design.D2), PASSING, 4, 1, 1);
        assertThat(sw.toString()).containsPattern("check, D2 \\(\\d+ distinct states\\), wall clock: here on 1 thread \\d+ distinct states/s; on 2 workers"
                + " \\d+ distinct states/s; [1-9]\\d* bytes sent per state sent \\([1-9]\\d* of them\\), [1-9]\\d* per distinct state; overhead -?[0-9.]+ us a distinct state\n");
        assertThat(sw.toString()).containsPattern("campaign, 4 seeds \\(2400 packets\\), wall clock: here with 1 threads \\d+ packets/s; on 2 workers \\d+ packets/s;"
                + " overhead -?[0-9.]+ ms a seed\n");
    }

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    static String[] concat(String[] a, String... b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
