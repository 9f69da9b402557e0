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
import tcesim.explore.Campaign;
import tcesim.sim.StackConfig;

/**
 * One seed of a campaign on the large configuration (the seed's stack, 1 GiB window, table in QEMU, 20000
 * packets each way, as {@code tcesim bench} runs it): a fresh stack, oracles on every access, no trace. The
 * primary score is runs per second; the {@code packets} counter, divided by the iteration's time, is the
 * simulator's headline rate in packets per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class CampaignBenchmark {
    static final long SEED = 1;

    StackConfig large;

    /** Packets delivered (RX and TX) by the runs of an iteration, reported per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Packets {
        public long packets;

        @Setup(Level.Iteration)
        public void clear() { packets = 0; }
    }

    @Setup
    public void setup() {
        large = BenchCommand.largeConfig();
    }

    // Why it matters: `campaign` runs this once per seed, over ranges of thousands of seeds; packets/s is its throughput.
    @Benchmark
    public Campaign.Run campaignRunLargeConfiguration(Packets counter) {
        Campaign.Run r = Campaign.one(large, SEED, 10_000_000);
        counter.packets += r.packets();
        return r;
    }
}
