package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Same configuration and same choices: the same run, whatever the trace keeps; replays reproduce runs. */
class DeterminismTest {
    private static final StackConfig SMALL = StackConfig.seed().withPackets(300, 300);

    @Test
    void sameSeedSameRun() {
        Runs.Run a = Runs.run(SMALL, 7);
        Runs.Run b = Runs.run(SMALL, 7);
        assertThat(a.result().end()).isEqualTo(Simulation.End.DONE);
        assertThat(a.result().steps()).isGreaterThan(0);
        assertThat(b.result().traceHash()).isEqualTo(a.result().traceHash());
        assertThat(b.result().steps()).isEqualTo(a.result().steps());
        assertThat(b.result().end()).isEqualTo(a.result().end());
        assertThat(b.violation()).isEqualTo(a.violation());
        assertThat(b.stack().trace().events()).isEqualTo(a.stack().trace().events());
    }

    @Test
    void sameSeedSameViolation() {
        Runs.Run a = Runs.run(Runs.CRASH, 2);
        Runs.Run b = Runs.run(Runs.CRASH, 2);
        assertThat(a.violation()).isNotNull();
        assertThat(b.violation()).isEqualTo(a.violation());
        assertThat(b.result().steps()).isEqualTo(a.result().steps());
        assertThat(b.result().traceHash()).isEqualTo(a.result().traceHash());
    }

    @Test
    void differentSeedDifferentRun() {
        Runs.Run a = Runs.run(SMALL, 1);
        Runs.Run b = Runs.run(SMALL, 2);
        assertThat(a.result().end()).isEqualTo(Simulation.End.DONE);
        assertThat(b.result().end()).isEqualTo(Simulation.End.DONE);
        assertThat(b.result().traceHash()).isNotEqualTo(a.result().traceHash());
    }

    @Test
    void differentConfigurationDifferentRun() {
        Runs.Run a = Runs.run(SMALL, 1);
        Runs.Run b = Runs.run(SMALL.withDesign(Design.D1), 1);
        assertThat(b.result().traceHash()).isNotEqualTo(a.result().traceHash());
    }

    @Test
    void hashDoesNotDependOnWhetherEventsAreKept() {
        Runs.Run full = Runs.run(SMALL, 3, new Trace(), Runs.MAX_STEPS);
        Runs.Run bare = Runs.run(SMALL, 3, Trace.hashOnly(), Runs.MAX_STEPS);
        Runs.Run tiny = Runs.run(SMALL, 3, new Trace(1, 1), Runs.MAX_STEPS);
        assertThat(bare.result().traceHash()).isEqualTo(full.result().traceHash());
        assertThat(tiny.result().traceHash()).isEqualTo(full.result().traceHash());
        assertThat(bare.result().steps()).isEqualTo(full.result().steps());
        assertThat(bare.stack().trace().events()).isEqualTo(full.stack().trace().events());
        assertThat(bare.stack().trace().recent()).isEmpty();
        assertThat(full.stack().trace().recent()).isNotEmpty();
    }

    @Test
    void hashOnlyFindsTheSameCrash() {
        Runs.Run full = Runs.run(Runs.CRASH, 1, new Trace(), Runs.MAX_STEPS);
        Runs.Run bare = Runs.run(Runs.CRASH, 1, Trace.hashOnly(), Runs.MAX_STEPS);
        assertThat(full.violation()).isNotNull();
        assertThat(bare.violation()).isEqualTo(full.violation());
        assertThat(bare.result().traceHash()).isEqualTo(full.result().traceHash());
    }

    @Test
    void recordedChoicesReplayTheCrash() {
        Stack st = new Stack(Runs.CRASH, new Trace());
        Simulation.Result r = Simulation.run(st, Chooser.seeded(1), Runs.MAX_STEPS, true);
        assertThat(r.violation()).isNotNull();
        assertThat(r.choices()).hasSize((int) r.steps());

        Stack again = new Stack(Runs.CRASH, new Trace());
        Simulation.Result replay = Simulation.run(again, Chooser.scripted(r.choices()), Runs.MAX_STEPS, true);
        assertThat(replay.traceHash()).isEqualTo(r.traceHash());
        assertThat(replay.steps()).isEqualTo(r.steps());
        assertThat(replay.violation()).isEqualTo(r.violation());
        assertThat(replay.choices()).isEqualTo(r.choices());
    }

    @Test
    void recordedChoicesReplayACleanRun() {
        Stack st = new Stack(SMALL, new Trace());
        Simulation.Result r = Simulation.run(st, Chooser.seeded(5), Runs.MAX_STEPS, true);
        assertThat(r.end()).isEqualTo(Simulation.End.DONE);
        Simulation.Result replay = Simulation.run(new Stack(SMALL, new Trace()), Chooser.scripted(r.choices()), Runs.MAX_STEPS);
        assertThat(replay.end()).isEqualTo(Simulation.End.DONE);
        assertThat(replay.traceHash()).isEqualTo(r.traceHash());
        assertThat(replay.steps()).isEqualTo(r.steps());
    }

    @Test
    void withoutRecordingThereAreNoChoices() {
        assertThat(Runs.run(SMALL.withPackets(10, 10), 1).result().choices()).isNull();
    }

    /**
     * Simulation.run records a choice (0) for every step, also when a single step is enabled and the
     * chooser is not asked, but Chooser.scripted consumes an entry only when it is asked: the replay falls
     * out of step at the first forced step. Without kernel churn forced steps occur (seed 1, 50 packets:
     * 650 steps, 579 chooser calls) and the replay throws IllegalArgumentException around step 279.
     */
    @Test
    void recordedChoicesReplayARunWithForcedSteps() {
        StackConfig cfg = Runs.withKernelChurn(StackConfig.seed().withPackets(50, 50), false);
        Simulation.Result r = Simulation.run(new Stack(cfg, new Trace()), Chooser.seeded(1), Runs.MAX_STEPS, true);
        Simulation.Result replay = Simulation.run(new Stack(cfg, new Trace()), Chooser.scripted(r.choices()), Runs.MAX_STEPS);
        assertThat(replay.traceHash()).isEqualTo(r.traceHash());
        assertThat(replay.steps()).isEqualTo(r.steps());
    }
}
