package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tcesim.sim.Design;
import tcesim.sim.Model;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * One checkpoint format for the local checker and the search cut into shards (here in this process): either goes on
 * from what the other wrote, to the answer of a search that was never stopped.
 */
class CheckpointTest {
    static final Set<Violation.Property> ALL = EnumSet.allOf(Violation.Property.class);
    static final long SIGNATURE = 0x5eed;

    static Supplier<Model> model(Design d) {
        StackConfig c = StackCheckTest.small(d, StackCheckTest.LINUX);
        return () -> new Stack(c, Trace.off());
    }

    static Checker.Result local(Supplier<Model> m, long maxStates, Path checkpoint, Path resume) {
        return new Checker(m, new Checker.Options(maxStates, 1, true, null, ALL, Long.MAX_VALUE, checkpoint, resume), SIGNATURE).run();
    }

    /** The sharded search, stopped ("interrupted") once {@code levels} levels are done (0: never), keeping a copy for {@code file}. */
    static PartitionedSearch.Outcome sharded(Supplier<Model> m, int shards, long maxStates, int levels, Path file, Checkpoint from) throws Exception {
        return recorded(m, shards, maxStates, levels, file == null ? new PartitionedSearch.Completed() : new PartitionedSearch.Completed(file, SIGNATURE, Long.MAX_VALUE), from);
    }

    /** The sharded search, stopped ("interrupted") once {@code levels} levels are done (0: never), recording them in {@code done}. */
    static PartitionedSearch.Outcome recorded(Supplier<Model> m, int shards, long maxStates, int levels, PartitionedSearch.Completed done, Checkpoint from)
            throws Exception {
        int[] levelsDone = {0};
        try (PartitionedSearch.InProcess s = new PartitionedSearch.InProcess(m, ALL, true, shards, 1)) {
            return PartitionedSearch.search(m, ALL, maxStates, s, () -> levels > 0 && levelsDone[0] >= levels,
                    (depth, distinct, frontier, fresh, bytes) -> levelsDone[0]++, from, done);
        }
    }

    /**
     * The same answer as the search here never stopped: verdict, distinct states, depth, counterexample, and the counts
     * of states generated and end states (which a sharded search has only for a search that completes: stopped by a
     * violation, it counts the whole last level).
     */
    static void assertSameAnswer(Checker.Result whole, Checker.Result r, String what) {
        PartitionedSearchTest.assertSame(whole, r, what);
        assertThat(r.generated()).as(what + ": generated").isEqualTo(whole.generated());
        assertThat(r.terminals()).as(what + ": end states").isEqualTo(whole.terminals());
    }

    @Test
    void aCheckpointOfTheShardedSearchResumesHereAndOnOtherShardsToTheUninterruptedAnswer(@TempDir Path dir) throws Exception {
        for (Design d : new Design[] {Design.D0, Design.D2}) {
            Supplier<Model> m = model(d);
            Checker.Result whole = local(m, 1_000_000, null, null);
            Path ck = dir.resolve(d + ".ck");
            PartitionedSearch.Outcome stopped = sharded(m, 3, 1_000_000, 4, ck, null);
            assertThat(stopped.result().verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
            assertThat(stopped.result().stopped()).isEqualTo("interrupted");
            assertThat(stopped.result().depth()).isEqualTo(4);
            assertThat(ck).isRegularFile();
            Checkpoint c = Checkpoint.read(ck, SIGNATURE);
            assertThat(c.depth()).isEqualTo(4);
            assertThat((long) c.distinct()).isEqualTo(stopped.result().distinct());
            assertThat(c.generated()).isEqualTo(stopped.result().generated());
            // Only the frontier and its ancestors have nodes: fewer than the states found.
            assertThat(c.nodes()).isLessThan(c.distinct()).isGreaterThan(c.states());

            assertSameAnswer(whole, local(m, 1_000_000, null, ck), d + " resumed here");
            for (int shards : new int[] {1, 2}) PartitionedSearchTest.assertSame(whole, sharded(m, shards, 1_000_000, 0, null, c).result(), d + " resumed on " + shards + " shards");
        }
    }

    @Test
    void theLocalCheckersCheckpointResumesOnShardsToTheUninterruptedAnswer(@TempDir Path dir) throws Exception {
        for (Design d : new Design[] {Design.D0, Design.D2}) {
            Supplier<Model> m = model(d);
            Checker.Result whole = local(m, 1_000_000, null, null);
            Path ck = dir.resolve(d + ".ck");
            Checker.Result limited = local(m, 200, ck, null);
            assertThat(limited.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
            Checkpoint c = Checkpoint.read(ck, SIGNATURE);
            assertThat(c.depth()).isPositive();
            PartitionedSearchTest.assertSame(whole, sharded(m, 3, 1_000_000, 0, null, c).result(), d + " resumed on 3 shards");
            // A sharded search that keeps a copy writes it again as it goes: stopped once more, it resumes here.
            Path again = dir.resolve(d + "-again.ck");
            PartitionedSearch.Outcome o = sharded(m, 2, 1_000_000, 1, again, c);
            assertThat(o.result().depth()).isEqualTo(c.depth() + 1);
            assertSameAnswer(whole, local(m, 1_000_000, null, again), d + " resumed twice");
        }
    }

    /**
     * With a checkpoint, both searches end the level in which the state limit is reached and write it: the two files hold
     * the same level (counts, frontier in the same order with the same paths and words, seen fingerprints), only their
     * nodes differ (the checker's are every state's, the shards' the trie of the frontier's paths).
     */
    @Test
    void atTheStateLimitBothWriteTheSameWholeLevel(@TempDir Path dir) throws Exception {
        Supplier<Model> m = model(Design.D2);
        Path mine = dir.resolve("local.ck");
        Path theirs = dir.resolve("sharded.ck");
        Checker.Result l = local(m, 500, mine, null);
        PartitionedSearch.Outcome o = sharded(m, 3, 500, 0, theirs, null);
        assertThat(o.result().stopped()).isEqualTo(l.stopped()).isEqualTo("state limit of 500 reached");
        assertThat(o.result().distinct()).isEqualTo(l.distinct()).isGreaterThan(500);
        assertThat(o.result().depth()).isEqualTo(l.depth());
        Checkpoint a = Checkpoint.read(mine, SIGNATURE);
        Checkpoint b = Checkpoint.read(theirs, SIGNATURE);
        assertThat(b.generated()).isEqualTo(a.generated());
        assertThat(b.terminals()).isEqualTo(a.terminals());
        assertThat(b.depth()).isEqualTo(a.depth());
        assertThat(b.states()).isEqualTo(a.states());
        for (int k = 0; k < a.states(); k++) {
            assertThat(b.path(k)).as("path of state %d", k).isEqualTo(a.path(k));
            assertThat(Arrays.copyOfRange(b.wordsOf(), b.wordsFrom(k), b.wordsTo(k))).isEqualTo(Arrays.copyOfRange(a.wordsOf(), a.wordsFrom(k), a.wordsTo(k)));
        }
        long[] sa = Arrays.copyOf(a.seen(), a.distinct());
        long[] sb = Arrays.copyOf(b.seen(), b.distinct());
        Arrays.sort(sa);
        Arrays.sort(sb);
        assertThat(sb).isEqualTo(sa);
        assertThat(b.nodes()).isLessThan(a.nodes());
    }

    @Test
    void aCheckpointOfAnotherConfigurationOrDamagedIsRefusedBeforeTheSearchStarts(@TempDir Path dir) throws Exception {
        Supplier<Model> m = model(Design.D2);
        Path ck = dir.resolve("c.ck");
        sharded(m, 2, 1_000_000, 2, ck, null);
        assertThatThrownBy(() -> Checkpoint.read(ck, SIGNATURE + 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(ck + " was written for another configuration");
        byte[] b = Files.readAllBytes(ck);
        b[b.length / 2] ^= 1;
        Path bad = dir.resolve("bad.ck");
        Files.write(bad, b);
        assertThatThrownBy(() -> Checkpoint.read(bad, SIGNATURE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(bad + " is damaged or truncated (its checksum does not match)");
    }

    /**
     * A copy kept for the caller to write (the default checkpoint of a check on a cluster) changes nothing of the search:
     * at the state limit it stops where the search without a copy stops, at the state that reaches it, and its
     * checkpoint (the level before) resumes here to the answer of the search never stopped.
     */
    @Test
    void aCopyForTheCallerStopsWhereTheSearchWithoutOneStopsAndItsCheckpointResumes(@TempDir Path dir) throws Exception {
        Supplier<Model> m = model(Design.D0);
        Checker.Result whole = local(m, 1_000_000, null, null);
        Checker.Result limited = local(m, 300, null, null);
        PartitionedSearch.Completed kept = new PartitionedSearch.Completed(SIGNATURE, Long.MAX_VALUE);
        PartitionedSearch.Outcome o = recorded(m, 3, 300, 0, kept, null);
        PartitionedSearchTest.assertSame(limited, o.result(), "with a copy for the caller");
        assertThat(o.result().distinct()).isEqualTo(300);
        assertThat(kept.depth()).isEqualTo(o.result().depth() - 1);
        assertThat(kept.written()).isFalse();
        Path ck = dir.resolve("kept.ck");
        assertThat(kept.write(ck)).isTrue();
        Checkpoint c = Checkpoint.read(ck, SIGNATURE);
        assertThat(c.depth()).isEqualTo(kept.depth());
        assertThat((long) c.distinct()).isEqualTo(kept.distinct()).isLessThan(300);
        assertSameAnswer(whole, local(m, 1_000_000, null, ck), "resumed from the copy");
    }

    /** A copy that outgrows its bound is dropped, saying where and why, and the search goes on to the same answer without it. */
    @Test
    void aCopyThatOutgrowsItsBoundIsDroppedAndTheSearchGoesOn() throws Exception {
        Supplier<Model> m = model(Design.D2);
        Checker.Result whole = local(m, 1_000_000, null, null);
        PartitionedSearch.Completed bounded = new PartitionedSearch.Completed(SIGNATURE, 256 << 10);
        PartitionedSearch.Outcome o = recorded(m, 2, 1_000_000, 0, bounded, null);
        PartitionedSearchTest.assertSame(whole, o.result(), "the copy dropped");
        assertThat(bounded.keeping()).isFalse();
        assertThat(bounded.dropped()).matches("the copy for the checkpoint was dropped at depth \\d+: it would have held \\d+ KiB, more than its 256 KiB");
        assertThat(bounded.keptStates()).isPositive().isLessThan(whole.distinct());
        assertThatThrownBy(bounded::checkpoint).isInstanceOf(IllegalStateException.class).hasMessage(bounded.dropped());
    }

    /**
     * A sharded search whose checkpoint file cannot be written keeps its result and says why: written as it goes (every
     * level here), the failure stops it as it stops the local checker; written when it stops (the state limit), the
     * result is that of the stop.
     */
    @Test
    void aCheckpointFileThatCannotBeWrittenLeavesTheResultAndSaysWhy(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("gone").resolve("c.ck");
        PartitionedSearch.Completed asItGoes = new PartitionedSearch.Completed(ck, SIGNATURE, 0);
        PartitionedSearch.Outcome o = recorded(model(Design.D2), 2, 1_000_000, 0, asItGoes, null);
        assertThat(o.result().verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(o.result().stopped()).isEqualTo("the checkpoint could not be written");
        assertThat(o.result().depth()).isEqualTo(1);
        assertThat(asItGoes.writeFailure()).startsWith("cannot write checkpoint " + ck);
        assertThat(asItGoes.written()).isFalse();

        PartitionedSearch.Completed atTheEnd = new PartitionedSearch.Completed(ck, SIGNATURE, Long.MAX_VALUE);
        PartitionedSearch.Outcome limited = recorded(model(Design.D2), 2, 500, 0, atTheEnd, null);
        assertThat(limited.result().stopped()).isEqualTo("state limit of 500 reached");
        assertThat(atTheEnd.writeFailure()).startsWith("cannot write checkpoint " + ck);
        assertThat(ck.getParent()).doesNotExist();
    }
}
