package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tcesim.guest.FirmwareFeatures;
import tcesim.sim.Chooser;
import tcesim.sim.Design;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * A search that goes on depth-first past a level larger than the frontier limit expands the states the breadth-first
 * search expands: the same verdict for every design and guest, and for a completed search the same distinct states,
 * states generated and end states; its counterexample, found in depth-first order, is no shorter and replays to the
 * property it names.
 */
class DepthFirstTest {
    static final Set<Violation.Property> ALL = EnumSet.allOf(Violation.Property.class);

    static Checker.Result check(java.util.function.Supplier<? extends tcesim.sim.Model> m, Set<Violation.Property> props, long frontierLimit, long maxStates,
                                int workers) {
        return new Checker(m, new Checker.Options(maxStates, workers, true, null, props, Long.MAX_VALUE, null, null, frontierLimit)).run();
    }

    static StackConfig config(Design d, FirmwareFeatures fw, int packets) {
        return d.applyTo(StackConfig.seed().toBuilder().ramBytes(16L << 20).windowBytes(64L << 10).maxIotlbEntries(8).ringSize(2)
                .rxPackets(packets).txPackets(packets).kernelChurn(false).fw(fw).build());
    }

    /** Compares searches depth-first past each of {@code limits} with the breadth-first one, and replays their counterexamples. */
    static void sameAsBreadthFirst(StackConfig c, long... limits) {
        Set<Violation.Property> props = c.defaultProperties();
        Checker.Result bfs = check(() -> new Stack(c, Trace.off()), props, Long.MAX_VALUE, 3_000_000, 1);
        assertThat(bfs.depthFirst()).isFalse();
        for (long limit : limits) {
            Checker.Result dfs = check(() -> new Stack(c, Trace.off()), props, limit, 3_000_000, 1);
            String cell = c.design() + " " + c.fw() + " limit " + limit;
            assertThat(dfs.verdict()).as(cell).isEqualTo(bfs.verdict());
            if (bfs.verdict() == Checker.Verdict.SAFE) {
                assertThat(dfs.distinct()).as(cell).isEqualTo(bfs.distinct());
                assertThat(dfs.generated()).as(cell).isEqualTo(bfs.generated());
                assertThat(dfs.terminals()).as(cell).isEqualTo(bfs.terminals());
                assertThat(dfs.depth()).as(cell).isGreaterThanOrEqualTo(bfs.depth());
            } else {
                assertThat(bfs.verdict()).as(cell).isEqualTo(Checker.Verdict.UNSAFE);
                assertThat(dfs.violation().property()).as(cell).isEqualTo(bfs.violation().property());
                assertThat(dfs.choices().length).as(cell).isGreaterThanOrEqualTo(bfs.choices().length);
                assertThat(dfs.shortest()).as(cell).isEqualTo(!dfs.depthFirst());
                Stack st = new Stack(c, Trace.off());
                Simulation.Result replay = Simulation.run(st, Chooser.scripted(dfs.choices()), 10_000_000);
                assertThat(replay.violation()).as(cell + ": the counterexample replays").isNotNull();
                assertThat(replay.violation().property()).as(cell).isEqualTo(dfs.violation().property());
            }
        }
    }

    @Test
    void everyCellOfTheOnePacketTableIsTheSameDepthFirstFromTheRoot() {
        for (Design d : Design.values()) {
            for (FirmwareFeatures fw : new FirmwareFeatures[] {FirmwareFeatures.MULTI_TCE, new FirmwareFeatures(true, false, false, true),
                    new FirmwareFeatures(false, true, false, true), new FirmwareFeatures(true, true, false, false), new FirmwareFeatures(true, true, true, true)}) {
                StackConfig c = config(d, fw, 1);
                if (c.validate() != null || d.unavailableOn(c.host()) != null || d.passthrough() && fw.ddw()) continue;
                sameAsBreadthFirst(c, 1, 20);
            }
        }
    }

    /** Two RX packets and one TX for the Linux guest, depth-first from the root and from a level part-way down. */
    @Test
    void everyDesignAtTwoReceivedPacketsIsTheSameDepthFirst() {
        for (Design d : Design.values()) {
            StackConfig c = config(d, FirmwareFeatures.MULTI_TCE, 2).toBuilder().txPackets(1).build();
            if (c.validate() != null || d.unavailableOn(c.host()) != null) continue;
            sameAsBreadthFirst(c, 1, 300);
        }
    }

    @Test
    void anyFrontierLimitCountsTheSameStatesAndTheBreadthFirstPartRunsOnAnyNumberOfWorkers() {
        Checker.Result bfs = check(() -> new TinyModels.Grid(30), ALL, Long.MAX_VALUE, 1_000_000, 1);
        assertThat(bfs.distinct()).isEqualTo(30 * 30); // the branching states: both counters below 30
        for (long limit : new long[] {1, 2, 7, 29}) {
            for (int workers : new int[] {1, 2}) {
                Checker.Result dfs = check(() -> new TinyModels.Grid(30), ALL, limit, 1_000_000, workers);
                assertThat(dfs.verdict()).isEqualTo(Checker.Verdict.SAFE);
                assertThat(dfs.depthFirst()).isTrue();
                assertThat(dfs.distinct()).isEqualTo(bfs.distinct());
                assertThat(dfs.generated()).isEqualTo(bfs.generated());
                assertThat(dfs.terminals()).isEqualTo(bfs.terminals());
            }
        }
        // A limit no level reaches: the breadth-first search itself.
        assertThat(check(() -> new TinyModels.Grid(30), ALL, 30, 1_000_000, 1).depthFirst()).isFalse();
    }

    @Test
    void theStateLimitStopsTheDepthFirstRestAtTheStateThatReachesIt() {
        Checker.Result r = check(() -> new TinyModels.Grid(30), ALL, 3, 200, 1);
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(r.stopped()).isEqualTo("state limit of 200 reached");
        assertThat(r.distinct()).isEqualTo(200);
        assertThat(r.depthFirst()).isTrue();
    }

    @Test
    void aViolationFoundDepthFirstReplays() {
        // Two threads' lost update: broken whatever the order; from the root depth-first, one path down.
        Checker.Result bfs = check(TinyModels.LostUpdate::new, ALL, Long.MAX_VALUE, 1_000, 1);
        Checker.Result dfs = check(TinyModels.LostUpdate::new, ALL, 1, 1_000, 1);
        assertThat(dfs.verdict()).isEqualTo(Checker.Verdict.UNSAFE).isEqualTo(bfs.verdict());
        TinyModels.LostUpdate m = new TinyModels.LostUpdate();
        Chooser ch = Chooser.scripted(dfs.choices());
        tcesim.sim.StepList steps = new tcesim.sim.StepList();
        for (int i = 0; i < 100 && m.violation() == null && !m.done(); i++) {
            m.enabledSteps(steps);
            int k = steps.size() == 1 ? 0 : ch.choose(steps.size());
            steps.actor(k).step(steps.kind(k));
        }
        assertThat(m.violation()).isNotNull();
    }

    /**
     * A search that goes depth-first writes its checkpoint between two states of the level it goes on from: the states
     * of the level left, every fingerprint seen, the longest path so far. Stopped later (Ctrl-C), it resumes from
     * there, depth-first again, to the uninterrupted answer, the longest path included; a cluster refuses the file.
     */
    @Test
    void stoppedDepthFirstItResumesFromBetweenTwoStatesOfTheLevel(@TempDir Path dir) throws Exception {
        Checker wholeCheck = new Checker(() -> new TinyModels.Grid(40), new Checker.Options(10_000_000, 1, true, null, ALL, Long.MAX_VALUE, null, null, 20));
        Checker.Result whole = wholeCheck.run();
        long last = wholeCheck.steps() * 3 / 4; // past the search from the level's first state (half the grid), before the end
        Path ck = dir.resolve("grid.ck");
        // Written at every chance (period 0); stopped part-way through the depth-first search.
        Checker.Result stopped = LongRunTest.gridStoppedAt(last, new Checker.Options(10_000_000, 1, true, null, ALL, Long.MAX_VALUE, ck, null, 20), 42, 0);
        assertThat(stopped.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(stopped.stopped()).isEqualTo("interrupted");
        assertThat(stopped.depthFirst()).isTrue();
        Checkpoint saved = Checkpoint.read(ck, 42);
        assertThat(saved.depthFirst()).isTrue();
        assertThat(saved.depth()).isEqualTo(20); // the first level of more than 20 states: 21 of them
        assertThat(saved.states()).as("the states of the level left").isBetween(1, 20);
        assertThat(saved.distinct()).isGreaterThan(21 * 22 / 2).isLessThan((int) whole.distinct());

        Checker.Result resumed = new Checker(() -> new TinyModels.Grid(40), new Checker.Options(10_000_000, 1, true, null, ALL, Long.MAX_VALUE, null, ck, 20), 42).run();
        assertThat(resumed.verdict()).isEqualTo(Checker.Verdict.SAFE);
        assertThat(resumed.depthFirst()).isTrue();
        assertThat(resumed.distinct()).isEqualTo(whole.distinct());
        assertThat(resumed.generated()).isEqualTo(whole.generated());
        assertThat(resumed.terminals()).isEqualTo(whole.terminals());
        assertThat(resumed.depth()).isEqualTo(whole.depth());
        // Whatever the frontier limit given when resumed: the search goes on as it went.
        Checker.Result again = new Checker(() -> new TinyModels.Grid(40), new Checker.Options(10_000_000, 1, true, null, ALL, Long.MAX_VALUE, null, ck), 42).run();
        assertThat(again.depthFirst()).isTrue();
        assertThat(again.distinct()).isEqualTo(whole.distinct());

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CheckpointTest.sharded(() -> new TinyModels.Grid(40), 2, 10_000_000, 0, null, saved))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gone depth-first");
    }

    @Test
    void aMemoryBoundStopsTheDepthFirstRest() {
        // A bound the first levels fit in, which the seen set outgrows once the search goes depth-first.
        Checker.Result r = new Checker(() -> new TinyModels.Grid(1000), new Checker.Options(10_000_000, 1, true, null, ALL, 8_000_000, null, null, 2)).run();
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(r.stopped()).startsWith("memory bound of");
        assertThat(r.depthFirst()).isTrue();
        assertThat(r.distinct()).isGreaterThan(100_000).isLessThan(1001 * 1001);
    }
}
