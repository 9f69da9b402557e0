package tcesim.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import tcesim.cli.BenchCommand;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.StepList;
import tcesim.sim.Trace;
import tcesim.state.StateReader;
import tcesim.state.StateWriter;

/**
 * The checker's inner loop on the small configuration (D2): restore a frontier state from its words, take one
 * enabled step, save the successor's words. The state is a mid-run one, reached by seeded steps in setup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SnapshotStepBenchmark {
    /** Seeded steps taken from the initial state to reach the benchmarked one (a seeded run of this configuration ends after about 30). */
    static final int STEPS = 15;

    Stack stack;
    long[] words;
    StateReader in = new StateReader();
    StateWriter out = new StateWriter();
    StepList enabled = new StepList();
    int choice;

    @Setup
    public void setup() {
        StackConfig small = BenchCommand.smallConfig();
        stack = new Stack(small, Trace.off());
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < STEPS; i++) {
            stack.enabledSteps(enabled);
            if (enabled.size() == 0 || stack.violation() != null) throw new IllegalStateException("run ended after " + i + " steps");
            int c = r.nextInt(enabled.size());
            enabled.actor(c).step(enabled.kind(c));
        }
        stack.save(out.reset());
        words = out.toArray();
        stack.enabledSteps(enabled);
        if (enabled.size() < 2) throw new IllegalStateException("not a branching state: " + enabled.size() + " enabled steps");
        choice = r.nextInt(enabled.size());
    }

    // Why it matters: the checker does this once per generated state, so its cost sets the states/s of every check.
    @Benchmark
    public StateWriter restoreStepSave() {
        stack.restore(in.reset(words, 0, words.length));
        enabled.actor(choice).step(enabled.kind(choice));   // the enabled list stays valid across restores, as in the checker
        stack.save(out.reset());
        return out;
    }

    // Why it matters: how the checker does it, putting the state back after saving its successor: only the
    // components the step changed are read (compare with restoreStepSave for what that saves).
    @Benchmark
    public StateWriter restoreChangedStepSave() {
        stack.restoreChanged(in.reset(words, 0, words.length));
        enabled.actor(choice).step(enabled.kind(choice));
        stack.save(out.reset());
        return out;
    }
}
