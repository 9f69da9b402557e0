package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tcesim.explore.Checkpoint;
import tcesim.explore.PartitionedSearch;
import tcesim.guest.FirmwareFeatures;
import tcesim.sim.Design;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * The file a check on a cluster leaves its copy in when given no --checkpoint: named after the configuration, never
 * replacing a file that is not a checkpoint of the same check, and a reason in words when none can be written.
 */
class DefaultCheckpointTest {
    static final Set<Violation.Property> ALL = EnumSet.allOf(Violation.Property.class);
    static final long SIGNATURE = 0xc0ffee;
    static final StackConfig CFG = Design.D2.applyTo(StackConfig.seed().toBuilder().ramBytes(16L << 20).windowBytes(64L << 10).maxIotlbEntries(8)
            .ringSize(2).rxPackets(2).txPackets(1).kernelChurn(false).fw(FirmwareFeatures.MULTI_TCE).build());

    /** A search on two shards here, stopped once {@code levels} levels are done, recorded in {@code done}. */
    static void stopAfter(int levels, PartitionedSearch.Completed done) throws Exception {
        int[] n = {0};
        try (PartitionedSearch.InProcess s = new PartitionedSearch.InProcess(() -> new Stack(CFG, Trace.off()), ALL, true, 2, 1)) {
            PartitionedSearch.search(() -> new Stack(CFG, Trace.off()), ALL, 1_000_000, s, () -> n[0] >= levels, (d, distinct, f, fresh, b) -> n[0]++, null, done);
        }
    }

    static DefaultCheckpoint.Saved write(Path dir, PartitionedSearch.Completed done, long signature) {
        return DefaultCheckpointDirectory.in(dir, () -> DefaultCheckpoint.write(done, CFG, signature));
    }

    @Test
    void itIsNamedAfterTheDesignAndTheConfigurationsIdAndReplacesOnlyACheckpointOfTheSameCheckThatWentNoFurther(@TempDir Path dir) throws Exception {
        String id = ConfigId.of(CFG);
        String name = "tcesim-check-D2-" + id.substring(0, "c2-".length() + 8) + ".ck";
        assertThat(DefaultCheckpoint.name(CFG, 1)).isEqualTo(name);
        assertThat(DefaultCheckpoint.name(CFG, 2)).isEqualTo(name.replace(".ck", "-2.ck"));
        assertThat(DefaultCheckpoint.name(Design.parse("D4+drop-late-update").applyTo(CFG), 1)).startsWith("tcesim-check-D4+drop-late-update-c2-");

        PartitionedSearch.Completed done = new PartitionedSearch.Completed(SIGNATURE, Long.MAX_VALUE);
        stopAfter(2, done);
        DefaultCheckpoint.Saved first = write(dir, done, SIGNATURE);
        assertThat(first).isEqualTo(new DefaultCheckpoint.Saved(dir.resolve(name), 2, null, null));
        assertThat(Checkpoint.read(dir.resolve(name), SIGNATURE).depth()).isEqualTo(2);
        // The same check, further on: its own earlier checkpoint is replaced.
        PartitionedSearch.Completed further = new PartitionedSearch.Completed(SIGNATURE, Long.MAX_VALUE);
        stopAfter(3, further);
        assertThat(write(dir, further, SIGNATURE)).isEqualTo(new DefaultCheckpoint.Saved(dir.resolve(name), 3, null, null));
        assertThat(Checkpoint.read(dir.resolve(name), SIGNATURE).depth()).isEqualTo(3);
        // The same check stopped sooner (run again from the start) leaves the one that went further as it is.
        Path second = dir.resolve(DefaultCheckpoint.name(CFG, 2));
        assertThat(write(dir, done, SIGNATURE)).isEqualTo(new DefaultCheckpoint.Saved(second, 2, "Left as it is: " + dir.resolve(name)
                + " (this check's after depth 3, further than this one).", null));
        assertThat(Checkpoint.read(dir.resolve(name), SIGNATURE).depth()).isEqualTo(3);
        // Another check of the same configuration (other properties, say) passes both over.
        DefaultCheckpoint.Saved other = write(dir, done, SIGNATURE + 1);
        assertThat(other.file()).isEqualTo(dir.resolve(DefaultCheckpoint.name(CFG, 3)));
        assertThat(other.passedOver()).isEqualTo("Left as they are: " + dir.resolve(name) + " (not a checkpoint of this check), " + second
                + " (not a checkpoint of this check).");
        assertThat(Checkpoint.read(dir.resolve(name), SIGNATURE).depth()).isEqualTo(3);
        assertThat(Checkpoint.read(second, SIGNATURE).depth()).isEqualTo(2);
    }

    @Test
    void withEveryNameTakenOrTheCopyDroppedNoneIsWrittenAndTheReasonIsOneLine(@TempDir Path dir) throws Exception {
        PartitionedSearch.Completed done = new PartitionedSearch.Completed(SIGNATURE, Long.MAX_VALUE);
        stopAfter(2, done);
        for (int k = 1; k <= DefaultCheckpoint.NAMES; k++) Files.writeString(dir.resolve(DefaultCheckpoint.name(CFG, k)), "mine " + k);
        DefaultCheckpoint.Saved s = write(dir, done, SIGNATURE);
        assertThat(s.file()).isNull();
        assertThat(s.notWritten()).isEqualTo("the 9 names tried are all taken (give --checkpoint FILE)");
        assertThat(s.passedOver()).startsWith("Left as they are: " + dir.resolve(DefaultCheckpoint.name(CFG, 1)) + " (not a checkpoint of this check), ")
                .endsWith(dir.resolve(DefaultCheckpoint.name(CFG, 9)) + " (not a checkpoint of this check).");
        for (int k = 1; k <= DefaultCheckpoint.NAMES; k++) assertThat(dir.resolve(DefaultCheckpoint.name(CFG, k))).hasContent("mine " + k);

        PartitionedSearch.Completed bounded = new PartitionedSearch.Completed(SIGNATURE, 16 << 10);
        stopAfter(6, bounded);
        Path empty = Files.createDirectory(dir.resolve("empty"));
        DefaultCheckpoint.Saved dropped = write(empty, bounded, SIGNATURE);
        assertThat(dropped.file()).isNull();
        assertThat(dropped.notWritten()).startsWith(bounded.dropped() + " (half this JVM's heap: ").doesNotContain("\n");
        try (var files = Files.list(empty)) {
            assertThat(files.toList()).isEmpty();
        }
    }
}
