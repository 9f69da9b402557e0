package tcesim.cluster;

import java.util.concurrent.Callable;
import tcesim.explore.Campaign;
import tcesim.sim.StackConfig;

/** A block of consecutive seeds, run on a worker one after the other: what the coordinator sends it. */
record SeedBlockTask(StackConfig cfg, long from, long to, long maxSteps) implements Callable<Campaign.Block>, java.io.Serializable {
    @Override
    public Campaign.Block call() {
        return Campaign.block(cfg, from, to, maxSteps, () -> Thread.currentThread().isInterrupted());
    }
}
