package tcesim.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import tcesim.cli.BenchCommand;
import tcesim.explore.Checker;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;

/**
 * One whole exhaustive check of the standard small configuration (D2, as {@code tcesim bench} runs it: one worker,
 * reduction on). The primary score is checks per second; the {@code distinctStates} counter, which JMH divides by
 * the iteration's time, is the checker's headline rate in distinct states per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class CheckerBenchmark {
    StackConfig small;

    /** Distinct states found by the checks of an iteration, reported per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class States {
        public long distinctStates;

        @Setup(Level.Iteration)
        public void clear() { distinctStates = 0; }
    }

    @Setup
    public void setup() {
        small = BenchCommand.smallConfig();
    }

    // Why it matters: every verdict of `check` and `check --all` is a run of this search; its states/s bound which configurations can be checked at all.
    @Benchmark
    public Checker.Result checkSmallConfigurationD2(States states) {
        Checker.Result r = new Checker(() -> new Stack(small, Trace.off()), new Checker.Options(10_000_000, 1, true, null)).run();
        states.distinctStates += r.distinct();
        return r;
    }
}
