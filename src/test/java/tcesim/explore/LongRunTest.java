package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tcesim.sim.Violation;

/** Stopping a long check, writing its state, and going on from it; staying within a memory bound. */
class LongRunTest {
    static Checker.Options withFiles(Path checkpoint, Path resume, long maxBytes) {
        return new Checker.Options(10_000_000, 1, true, null, EnumSet.allOf(Violation.Property.class), maxBytes, checkpoint, resume);
    }

    /** A check of a 40 by 40 grid, stopped as Ctrl-C would stop it, part-way through: at its {@code step}-th model step. */
    static Checker.Result gridStoppedAt(long step, Checker.Options options, long signature) {
        return gridStoppedAt(step, options, signature, Checker.CHECKPOINT_PERIOD_NANOS);
    }

    /** As {@link #gridStoppedAt(long, Checker.Options, long)}, writing its checkpoint every {@code checkpointPeriodNanos}. */
    static Checker.Result gridStoppedAt(long step, Checker.Options options, long signature, long checkpointPeriodNanos) {
        java.util.concurrent.atomic.AtomicLong steps = new java.util.concurrent.atomic.AtomicLong();
        Checker[] holder = new Checker[1];
        holder[0] = new Checker(() -> {
            TinyModels.Grid g = new TinyModels.Grid(40);
            g.onStep = () -> {
                if (steps.incrementAndGet() == step) holder[0].stop();
            };
            return g;
        }, options, signature, false, checkpointPeriodNanos);
        return holder[0].run();
    }

    @Test
    void aStoppedCheckResumesToTheSameAnswer(@TempDir Path dir) {
        Checker.Result whole = new Checker(() -> new TinyModels.Grid(40), Checker.Options.defaults()).run();

        Path ck = dir.resolve("grid.ck");
        Checker.Result stopped = gridStoppedAt(300, withFiles(ck, null, Long.MAX_VALUE), 42);
        assertThat(stopped.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(stopped.stopped()).isEqualTo("interrupted");
        assertThat(stopped.distinct()).isLessThan(whole.distinct());
        assertThat(ck).exists();

        Checker.Result resumed = new Checker(() -> new TinyModels.Grid(40), withFiles(null, ck, Long.MAX_VALUE), 42).run();
        assertThat(resumed.verdict()).isEqualTo(Checker.Verdict.SAFE);
        assertThat(resumed.distinct()).isEqualTo(whole.distinct());
        assertThat(resumed.generated()).isEqualTo(whole.generated());
        assertThat(resumed.terminals()).isEqualTo(whole.terminals());
    }

    @Test
    void aCheckpointOfAnotherConfigurationOrAnyOtherFileIsRefused(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("a.ck");
        Checker c = new Checker(() -> new TinyModels.Grid(5), withFiles(ck, null, Long.MAX_VALUE), 1);
        c.stop();
        c.run();
        assertThatThrownBy(() -> new Checker(() -> new TinyModels.Grid(5), withFiles(null, ck, Long.MAX_VALUE), 2).run())
                .hasMessageContaining("written for another configuration");
        Path junk = dir.resolve("junk");
        Files.writeString(junk, "hello");
        assertThatThrownBy(() -> new Checker(() -> new TinyModels.Grid(5), withFiles(null, junk, Long.MAX_VALUE), 1).run())
                .hasMessageContaining("not a tcesim checkpoint");
        byte[] bytes = Files.readAllBytes(ck);
        Path cut = dir.resolve("cut");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        assertThatThrownBy(() -> new Checker(() -> new TinyModels.Grid(5), withFiles(null, cut, Long.MAX_VALUE), 1).run())
                .hasMessageContaining("truncated");
    }

    @Test
    void aStateLimitWithACheckpointWritesAWholeLevelThatResumesToTheSameAnswer(@TempDir Path dir) {
        Checker.Result whole = new Checker(() -> new TinyModels.Grid(40), Checker.Options.defaults()).run();
        Path ck = dir.resolve("limit.ck");
        Checker.Result limited = new Checker(() -> new TinyModels.Grid(40), new Checker.Options(300, 1, true, null, EnumSet.allOf(Violation.Property.class),
                Long.MAX_VALUE, ck, null), 3).run();
        assertThat(limited.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(limited.stopped()).isEqualTo("state limit of 300 reached");
        assertThat(ck).exists();
        Checker.Result resumed = new Checker(() -> new TinyModels.Grid(40), withFiles(null, ck, Long.MAX_VALUE), 3).run();
        assertThat(resumed.verdict()).isEqualTo(Checker.Verdict.SAFE);
        assertThat(resumed.distinct()).isEqualTo(whole.distinct());
        assertThat(resumed.generated()).isEqualTo(whole.generated());
        assertThat(resumed.terminals()).isEqualTo(whole.terminals());
    }

    /** A checkpoint of a stopped Grid search (several nodes deep). */
    static byte[] gridCheckpoint(Path dir) throws Exception {
        Path ck = dir.resolve("g.ck");
        gridStoppedAt(300, withFiles(ck, null, Long.MAX_VALUE), 7);
        return Files.readAllBytes(ck);
    }

    /** The bytes with {@code node}'s parent replaced, and the CRC32 at the end made to match again. */
    static byte[] withParent(byte[] ck, int node, int parent) {
        byte[] b = ck.clone();
        java.nio.ByteBuffer.wrap(b).putInt(36 + 8 * node, parent);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b, 0, b.length - 8);
        java.nio.ByteBuffer.wrap(b).putLong(b.length - 8, crc.getValue());
        return b;
    }

    static org.assertj.core.api.AbstractThrowableAssert<?, ? extends Throwable> resuming(Path file) {
        return assertThatThrownBy(() -> new Checker(() -> new TinyModels.Grid(40), withFiles(null, file, Long.MAX_VALUE), 7).run());
    }

    @Test
    @org.junit.jupiter.api.Timeout(20)
    void aCheckpointWithAParentThatIsNotAnEarlierNodeIsCorrupt(@TempDir Path dir) throws Exception {
        byte[] ck = gridCheckpoint(dir);
        int nodes = java.nio.ByteBuffer.wrap(ck).getInt(32);
        assertThat(nodes).isGreaterThan(10);
        Path f = dir.resolve("bad.ck");
        for (int[] np : new int[][] {{5, 5}, {5, 9}, {5, 1_000_000}, {5, -1}, {0, 0}}) {
            Files.write(f, withParent(ck, np[0], np[1]));
            resuming(f).isInstanceOf(IllegalArgumentException.class).hasMessage(f + " is corrupt: node " + np[0] + " has parent " + np[1] + " and choice "
                    + java.nio.ByteBuffer.wrap(ck).getInt(36 + 8 * np[0] + 4));
        }
        Files.write(f, withParent(ck, 5, java.nio.ByteBuffer.wrap(ck).getInt(36 + 8 * 5)));
        assertThat(new Checker(() -> new TinyModels.Grid(40), withFiles(null, f, Long.MAX_VALUE), 7).run().verdict()).as("unchanged").isEqualTo(Checker.Verdict.SAFE);
    }

    @Test
    void aDamagedCheckpointIsRefusedByItsChecksum(@TempDir Path dir) throws Exception {
        byte[] ck = gridCheckpoint(dir);
        Path f = dir.resolve("flipped.ck");
        for (int at : new int[] {5, 40, ck.length / 2, ck.length - 9, ck.length - 1}) {
            byte[] b = ck.clone();
            b[at] ^= 0x10;
            Files.write(f, b);
            resuming(f).as("byte " + at).hasMessage(f + " is damaged or truncated (its checksum does not match)");
        }
    }

    @Test
    void aMemoryBoundStopsTheSearchWithAClearReasonInsteadOfRunningOutOfMemory() {
        Checker.Result r = new Checker(() -> new TinyModels.Grid(2000), withFiles(null, null, 4L << 20)).run();
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(r.stopped()).isEqualTo("memory bound of 4 MiB reached");
    }

    /**
     * A checkpoint that cannot be put in place (here the path is a non-empty directory) leaves no temporary file behind;
     * the search still ends with its result, and says why there is no checkpoint.
     */
    @Test
    void aFailedCheckpointWriteLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path ck = Files.createDirectories(dir.resolve("ck"));
        Files.writeString(ck.resolve("keep"), "x");
        Checker c = new Checker(() -> new TinyModels.Grid(40), new Checker.Options(300, 1, true, null, EnumSet.allOf(Violation.Property.class),
                Long.MAX_VALUE, ck, null), 1);
        Checker.Result r = c.run();
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(r.stopped()).isEqualTo("state limit of 300 reached");
        assertThat(c.checkpointFailure()).startsWith("cannot write checkpoint " + ck);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("ck");
        }
        assertThat(ck.resolve("keep")).hasContent("x");
    }

    @Test
    void aResumedSearchCountsFromItsCheckpoint(@TempDir Path dir) {
        Path ck = dir.resolve("limit.ck");
        new Checker(() -> new TinyModels.Grid(40), new Checker.Options(300, 1, true, null, EnumSet.allOf(Violation.Property.class),
                Long.MAX_VALUE, ck, null), 3).run();
        Checker resumed = new Checker(() -> new TinyModels.Grid(40), withFiles(null, ck, Long.MAX_VALUE), 3);
        resumed.stop();
        Checker.Result r = resumed.run();
        assertThat(r.distinct()).as("the checkpoint's states").isGreaterThan(1);
        assertThat(resumed.progress().distinct()).isEqualTo(r.distinct());
        assertThat(resumed.progress().generated()).isEqualTo(r.generated());
    }
}
