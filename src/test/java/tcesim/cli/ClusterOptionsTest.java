package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.cluster.Workers.freePort;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tcesim.cluster.ClusterSettings;

/** The cluster options: bad values, no worker, a worker of another version; and nothing of it without them. */
@Timeout(120)
class ClusterOptionsTest {
    @Test
    void badClusterListsAreOneLineAndExitTwo() {
        for (String bad : new String[] {"", "host:", ":5701", "host:0", "host:70000", "host:x", "a:1,,b:2", "::1"}) {
            CliRun r = CliRun.of("campaign", "--packets", "50", "--seeds", "1..2", "--cluster", bad);
            assertThat(r.exit()).as(bad).isEqualTo(2);
            assertThat(r.err()).as(bad).contains("--cluster takes HOST:PORT").doesNotContain("Exception");
            assertThat(r.err().strip().lines()).as(bad).hasSize(1);
            CliRun w = CliRun.of("worker", "--cluster", bad);
            assertThat(w.exit()).as(bad).isEqualTo(2);
            assertThat(w.err()).as(bad).contains("--cluster takes HOST:PORT").doesNotContain("Exception");
        }
        assertThat(ClusterSettings.members("a:1, b ,c:65535")).containsExactly("a:1", "b:" + ClusterSettings.DEFAULT_PORT, "c:65535");
        assertThat(CliRun.of("worker", "--cluster", "127.0.0.1:5701", "--threads", "0").err()).contains("--threads must be 1..256");
        assertThat(CliRun.of("worker", "--cluster", "127.0.0.1:5701", "--port", "0").exit()).isEqualTo(2);
        CliRun log = CliRun.of("campaign", "--packets", "50", "--seeds", "1..2", "--cluster", "127.0.0.1:5701", "--cluster-log", "loud");
        assertThat(log.exit()).isEqualTo(2);
        assertThat(log.err()).contains("--cluster-log takes").doesNotContain("Exception");
    }

    @Test
    void withNoWorkerTheCampaignSaysSoInOneLine() throws Exception {
        int port = freePort();
        CliRun r = CliRun.of("campaign", "--packets", "50", "--seeds", "1..2", "--cluster", "127.0.0.1:" + port, "--cluster-timeout", "2");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("tcesim campaign: no worker of tcesim-" + Main.VERSION + " answered at 127.0.0.1:" + port
                + " within 2 s (is 'tcesim worker' of this version running there?)");
    }

    @Test
    void aWorkerCannotListenOnAPortInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            CliRun r = CliRun.of("worker", "--cluster", "127.0.0.1:" + port, "--port", String.valueOf(port));
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).startsWith("tcesim worker: cannot start a member on 127.0.0.1:" + port);
            assertThat(r.err().strip().lines()).hasSize(1);
        }
    }

    @Test
    void processesOfAnotherVersionRefuseEachOther() throws Exception {
        int other = freePort();
        int ours = freePort();
        HazelcastInstance old = Hazelcast.newHazelcastInstance(
                ClusterSettings.member("0.0.9", List.of("127.0.0.1:" + other), "127.0.0.1", other, false, 1));
        HazelcastInstance mine = null;
        try {
            // A coordinator of this version is refused by the other version's worker...
            CliRun r = CliRun.of("campaign", "--packets", "50", "--seeds", "1..2", "--cluster", "127.0.0.1:" + other, "--cluster-timeout", "3");
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("no worker of tcesim-" + Main.VERSION + " answered");
            // ...and so is a worker of this version, which forms a cluster of its own.
            mine = Hazelcast.newHazelcastInstance(ClusterSettings.member(Main.VERSION, List.of("127.0.0.1:" + other, "127.0.0.1:" + ours),
                    "127.0.0.1", ours, false, 1));
            assertThat(mine.getCluster().getMembers()).hasSize(1);
            assertThat(old.getCluster().getMembers()).hasSize(1);
            assertThat(mine.getConfig().getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
            assertThat(mine.getConfig().getNetworkConfig().getJoin().getMulticastConfig().isEnabled()).isFalse();
            assertThat(mine.getCluster().getLocalMember().getAddress().getHost()).isEqualTo("127.0.0.1");
        } finally {
            if (mine != null) mine.shutdown();
            old.shutdown();
        }
    }

    @Test
    void withoutClusterOptionsNothingOfHazelcastStarts() {
        var members = List.copyOf(Hazelcast.getAllHazelcastInstances());
        var clients = List.copyOf(HazelcastClient.getAllHazelcastClients());
        CliRun r = CliRun.of("campaign", "--host", "no_vfio_tce", "--packets", "50", "--seeds", "1..3", "--json");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).doesNotContain("workers");
        assertThat(Hazelcast.getAllHazelcastInstances()).containsExactlyInAnyOrderElementsOf(members);
        assertThat(HazelcastClient.getAllHazelcastClients()).containsExactlyInAnyOrderElementsOf(clients);
    }

    @Test
    void checkAndBenchTakeTheSameClusterOptions() {
        for (String cmd : new String[] {"check", "bench"}) {
            CliRun r = CliRun.of(cmd, "--cluster", "host:x");
            assertThat(r.exit()).as(cmd).isEqualTo(2);
            assertThat(r.err()).as(cmd).contains("--cluster takes HOST:PORT").doesNotContain("Exception");
        }
        CliRun r = CliRun.of("check", "--max-memory", "1g", "--cluster", "127.0.0.1:5701");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--cluster runs one check on the workers' threads and memory: not with --max-memory");
    }

    /** --no-checkpoint is for a check on a cluster that writes no checkpoint: with --checkpoint, --resume or no --cluster, one line before any worker is reached. */
    @Test
    void noCheckpointIsRefusedWithACheckpointOrAResumeOrWithoutACluster() throws Exception {
        String nobody = "127.0.0.1:" + freePort();
        String[][] cases = {
            {"--no-checkpoint and --checkpoint exclude each other: leave out one of them", "--no-checkpoint", "--checkpoint", "c.ck", "--cluster", nobody},
            {"--no-checkpoint and --resume exclude each other: a resumed check keeps its checkpoint to go on again; leave out --no-checkpoint",
                "--resume", "c.ck", "--no-checkpoint", "--cluster", nobody},
            {"--no-checkpoint is for a check on a cluster (--cluster): a check here keeps no copy and writes a checkpoint only with --checkpoint FILE",
                "--no-checkpoint"},
        };
        for (String[] c : cases) {
            String[] args = new String[c.length];
            args[0] = "check";
            System.arraycopy(c, 1, args, 1, c.length - 1);
            CliRun r = CliRun.of(args);
            assertThat(r.exit()).as(c[0]).isEqualTo(2);
            assertThat(r.err()).isEqualTo("tcesim check: " + c[0] + System.lineSeparator() + "Try 'tcesim check --help' for more information." + System.lineSeparator());
        }
        assertThat(java.nio.file.Path.of("c.ck")).doesNotExist();
    }

    /**
     * A checkpoint to resume on a cluster is read before any worker is reached: one of another configuration, damaged or
     * no checkpoint at all is refused with one line (no worker listens at the address given).
     */
    @Test
    void aCheckpointThatCannotBeResumedIsRefusedBeforeTheClusterIsReached(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path ck = dir.resolve("d2.ck");
        CliRun written = CliRun.of("check", "--design", "D2", "--tx-packets", "1", "--max-states", "300", "--checkpoint", ck.toString());
        assertThat(written.exit()).isEqualTo(3);
        String nobody = "127.0.0.1:" + freePort();
        CliRun other = CliRun.of("check", "--design", "D2", "--resume", ck.toString(), "--cluster", nobody);
        assertThat(other.exit()).isEqualTo(2);
        assertThat(other.err()).isEqualTo("tcesim check: " + ck + " was written for another configuration" + System.lineSeparator());
        byte[] b = java.nio.file.Files.readAllBytes(ck);
        b[b.length / 3] ^= 4;
        java.nio.file.Path bad = dir.resolve("bad.ck");
        java.nio.file.Files.write(bad, b);
        CliRun damaged = CliRun.of("check", "--design", "D2", "--tx-packets", "1", "--resume", bad.toString(), "--cluster", nobody);
        assertThat(damaged.exit()).isEqualTo(2);
        assertThat(damaged.err()).isEqualTo("tcesim check: " + bad + " is damaged or truncated (its checksum does not match)" + System.lineSeparator());
        java.nio.file.Path junk = dir.resolve("junk");
        java.nio.file.Files.writeString(junk, "not a checkpoint");
        CliRun notOne = CliRun.of("check", "--resume", junk.toString(), "--cluster", nobody);
        assertThat(notOne.exit()).isEqualTo(2);
        assertThat(notOne.err()).isEqualTo("tcesim check: " + junk + " is not a tcesim checkpoint (of this version)" + System.lineSeparator());
    }

    /** The commands of the README's section on several machines are valid command lines (parsed, not run). */
    @Test
    void theReadmesClusterCommandsParse() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
        int from = readme.indexOf("## Running over several machines");
        assertThat(from).isNotNegative();
        String section = readme.substring(from, readme.indexOf("\n## ", from + 1));
        List<String> commands = section.lines().filter(l -> l.startsWith("    ./tcesim ")).map(l -> l.substring("    ./tcesim ".length()).replace(" &", "")).toList();
        assertThat(commands).hasSizeGreaterThanOrEqualTo(6);
        for (String c : commands) {
            picocli.CommandLine.ParseResult p = Main.commandLine().parseArgs(c.trim().split(" +"));
            assertThat(p.subcommand()).as(c).isNotNull();
            assertThat(p.subcommand().hasMatchedOption("--cluster")).as(c).isTrue();
        }
    }
}
