package tcesim.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tcesim.cli.DefaultCheckpointDirectory;
import tcesim.explore.Checker;
import tcesim.sim.Design;
import tcesim.sim.StackConfig;

/**
 * A worker killed in the middle of a check: no verdict, the lost worker named, and a checkpoint of the last level every
 * worker completed (in the file given, or by default in one named after the configuration), which goes on here or on
 * the cluster to the answer of a check never stopped.
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

    /** Kills worker {@code i} of {@code w} once the check has completed level {@code depth}, while {@code command} runs. */
    static ClusterCampaignTest.Run killingAt(Workers w, int i, int depth, java.util.function.Supplier<ClusterCampaignTest.Run> command) {
        DistributedCheck.afterLevel = d -> {
            if (d != depth) return;
            try {
                w.kill(i);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        try {
            return command.get();
        } finally {
            DistributedCheck.afterLevel = null;
        }
    }

    /** The checkpoint that {@code out} says the search state is in. */
    static Path writtenTo(String out) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("The search state after depth \\d+ is in (.+): go on here with").matcher(out);
        if (!m.find()) throw new AssertionError("no checkpoint named in:\n" + out);
        return Path.of(m.group(1));
    }

    /** Runs the command that {@code out} prints to go on here. */
    static ClusterCampaignTest.Run goOnHere(String out) {
        String[] lines = out.lines().toArray(String[]::new);
        String here = lines[java.util.Arrays.asList(lines).indexOf("or on the cluster with") - 1].strip();
        assertThat(here).startsWith("./tcesim check ");
        return ClusterCampaignTest.run(here.substring("./tcesim ".length()).split(" "));
    }

    /**
     * Without --checkpoint, a check on the cluster stopped without a verdict leaves the coordinator's copy in the
     * working directory (a temporary one here), in a file named after the design and the configuration's id: at the
     * state limit (the counts those of the local check without a checkpoint) and with a worker lost; files of that name
     * that are not checkpoints of the same check are left as they are. Either goes on here to the answer of the check
     * never stopped. With --no-checkpoint, no copy and no file, and the report says so; a directory that cannot be
     * written in is one line, and still no verdict.
     */
    @Test
    @Timeout(300)
    void withoutCheckpointAStoppedCheckLeavesOneNamedAfterItsConfigurationAndNeverReplacesAnotherFile(@TempDir Path dir) throws Exception {
        String[] args = {"check", "--design", "D0", "--tx-packets", "1"};
        ClusterCampaignTest.Run whole = ClusterCampaignTest.run(args);
        assertThat(whole.exit()).isEqualTo(1);
        ClusterCampaignTest.Run localLimit = ClusterCampaignTest.run(ClusterCampaignTest.concat(args, "--max-states", "300"));
        assertThat(localLimit.exit()).isEqualTo(3);
        Path limitDir = Files.createDirectory(dir.resolve("limit"));
        Path lostDir = Files.createDirectory(dir.resolve("lost"));
        Path noneDir = Files.createDirectory(dir.resolve("none"));
        try (Workers w = Workers.start(3, 1)) {
            // The state limit, on three workers: the counts of the local check, and the file named after the configuration.
            ClusterCampaignTest.Run limited = DefaultCheckpointDirectory.in(limitDir,
                    () -> ClusterCampaignTest.run(ClusterCampaignTest.concat(args, "--max-states", "300", "--cluster", w.list())));
            assertThat(limited.exit()).as(limited.out() + limited.err()).isEqualTo(3);
            assertThat(limited.out()).contains("Stopped: state limit of 300 reached. No verdict yet.");
            String counts = line(localLimit.out(), "distinct states found");
            assertThat(line(limited.out(), "distinct states found")).endsWith(counts.substring(counts.indexOf(" states generated, ")));
            Path ck = writtenTo(limited.out());
            String name = ck.getFileName().toString();
            assertThat(ck.getParent()).isEqualTo(limitDir);
            assertThat(name).matches("tcesim-check-D0-c2-[0-9a-f]{8}\\.ck");
            String shortId = name.substring("tcesim-check-D0-".length(), name.length() - ".ck".length());
            assertThat(line(whole.out(), "replay: ")).contains(" --config-id " + shortId + "-");
            try (var files = Files.list(limitDir)) {
                assertThat(files.toList()).containsExactly(ck);
            }
            ClusterCampaignTest.Run limitedHere = goOnHere(limited.out());
            assertThat(limitedHere.exit()).isEqualTo(1);
            assertThat(line(limitedHere.out(), "replay: ")).isEqualTo(line(whole.out(), "replay: "));

            // A worker lost, that name taken by a file of the user's and the next by a checkpoint of another check: both
            // left as they are, the checkpoint in the third name, and from it the answer of the check never stopped.
            Path notes = lostDir.resolve(name);
            Files.writeString(notes, "my notes");
            Path other = lostDir.resolve(name.replace(".ck", "-2.ck"));
            assertThat(ClusterCampaignTest.run("check", "--design", "D2", "--tx-packets", "1", "--max-states", "300", "--checkpoint", other.toString()).exit())
                    .isEqualTo(3);
            byte[] otherBytes = Files.readAllBytes(other);
            String lost = "127.0.0.1:" + w.ports.get(2);
            ClusterCampaignTest.Run stopped = killingAt(w, 2, 3,
                    () -> DefaultCheckpointDirectory.in(lostDir, () -> ClusterCampaignTest.run(ClusterCampaignTest.concat(args, "--cluster", w.list()))));
            assertThat(stopped.exit()).as(stopped.out() + stopped.err()).isEqualTo(3);
            assertThat(stopped.err()).doesNotContain("Exception");
            assertThat(stopped.out()).contains("Stopped: worker " + lost + " was lost. No verdict yet.\n"
                    + "Left as they are: " + notes + " (not a checkpoint of this check), " + other + " (not a checkpoint of this check).\n"
                    + "The search state after depth 3 is in " + lostDir.resolve(name.replace(".ck", "-3.ck")) + ": go on here with\n");
            assertThat(notes).hasContent("my notes");
            assertThat(Files.readAllBytes(other)).isEqualTo(otherBytes);
            ClusterCampaignTest.Run here = goOnHere(stopped.out());
            assertThat(here.exit()).isEqualTo(1);
            for (String part : new String[] {"replay: ", "The shortest counterexample has ", "distinct states found"}) {
                assertThat(line(here.out(), part)).isEqualTo(line(whole.out(), part));
            }

            // --no-checkpoint: nothing sent for a copy, no file, and the report says so.
            ClusterCampaignTest.Run none = killingAt(w, 1, 3, () -> DefaultCheckpointDirectory.in(noneDir,
                    () -> ClusterCampaignTest.run(ClusterCampaignTest.concat(args, "--no-checkpoint", "--cluster", w.list()))));
            assertThat(none.exit()).as(none.out() + none.err()).isEqualTo(3);
            assertThat(none.out()).contains("Stopped: worker 127.0.0.1:" + w.ports.get(1) + " was lost. No verdict yet.\n"
                    + "No checkpoint was kept (--no-checkpoint): the check starts again from the beginning; without --no-checkpoint,")
                    .doesNotContain("For the checkpoint");
            try (var files = Files.list(noneDir)) {
                assertThat(files.toList()).isEmpty();
            }

            // A working directory that cannot be written in (gone; permissions would not stop root): one line, exit 3.
            Path gone = dir.resolve("gone");
            ClusterCampaignTest.Run cannot = DefaultCheckpointDirectory.in(gone,
                    () -> ClusterCampaignTest.run(ClusterCampaignTest.concat(args, "--max-states", "300", "--cluster", w.list())));
            assertThat(cannot.exit()).as(cannot.out() + cannot.err()).isEqualTo(3);
            assertThat(cannot.err()).isEmpty();
            assertThat(line(cannot.out(), "No checkpoint")).isEqualTo("No checkpoint was written: cannot write " + name + " in " + gone
                    + ": no such file or directory (run the check from a directory it can write in, or give --checkpoint FILE).");
            assertThat(gone).doesNotExist();
        }
    }
}
