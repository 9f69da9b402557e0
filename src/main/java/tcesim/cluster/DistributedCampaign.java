package tcesim.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.spi.exception.RetryableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import tcesim.explore.Campaign;
import tcesim.sim.StackConfig;

/**
 * A campaign spread over the workers of a cluster: the range is cut into blocks of consecutive seeds, each sent to
 * one worker through Hazelcast's executor service; the coordinator adds the blocks' tallies up in seed order, so
 * the result (tally, first failing seed, digest) is the local campaign's whatever the number of workers, the block
 * size or the order blocks finish in.
 *
 * <p>A worker that is lost (it leaves the cluster, or a block sent to it fails because it is gone) is sent nothing
 * more; the blocks it held are sent to the others. A block's tally is added once, when the first answer for it
 * arrives, so none is counted twice. With every worker lost the campaign ends without a verdict for the seeds left.
 * A worker that joins during the campaign is sent blocks from then on.
 */
public final class DistributedCampaign {
    /**
     * @param result the campaign's result, as {@link Campaign#run} gives it ({@code stopped}: not every seed was run)
     * @param workers the workers at the start
     * @param lost the workers lost during the campaign, by address, in the order they were lost
     * @param joined the workers that joined during the campaign, by address, in the order they joined
     * @param blocksByWorker the blocks each worker answered, by address, in the order the workers came
     * @param blocksRerun blocks sent again because the worker that held them was lost
     * @param noVerdict why seeds were left unrun though no stop was asked (every worker lost), else null
     */
    public record Outcome(Campaign.Result result, int workers, List<String> lost, List<String> joined, Map<String, Long> blocksByWorker,
                          long blocksRerun, long blockSeeds, String noVerdict) {}

    /** Blocks a worker holds at once, per thread it runs them with: one running, one waiting to. */
    static final int BLOCKS_PER_THREAD = 2;

    private DistributedCampaign() {}

    /** What the coordinator waits for: a block's answer, a worker's departure (block -1) or arrival (block -2, {@code added}). */
    private record Event(int block, UUID member, Campaign.Block result, Throwable failure, Member added) {
        Event(int block, UUID member, Campaign.Block result, Throwable failure) {
            this(block, member, result, failure, null);
        }
    }

    /**
     * @param client a client (or member) of the workers' cluster
     * @param blockSeeds seeds per block; 0 chooses from the range and the workers' threads
     * @param onSeedsDone called with the seeds of each block as it is tallied (in seed order, from this thread)
     * @param stop polled while waiting: once true, nothing more is sent and the result is that of the blocks done
     */
    public static Outcome run(HazelcastInstance client, StackConfig cfg, long fromSeed, long toSeed, long maxSteps, long blockSeeds,
                              LongConsumer onSeedsDone, BooleanSupplier stop) {
        String err = cfg.validate();
        if (err != null) throw new IllegalArgumentException(err);
        if (toSeed < fromSeed || toSeed - fromSeed == Long.MAX_VALUE) {
            throw new IllegalArgumentException("seed range " + fromSeed + ".." + toSeed + " is empty or too large");
        }
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        UUID listener = client.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                events.add(new Event(-2, e.getMember().getUuid(), null, null, e.getMember()));
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                events.add(new Event(-1, e.getMember().getUuid(), null, null));
            }
        });
        try {
            return new Run(client, cfg, fromSeed, toSeed, maxSteps, blockSeeds, events).go(onSeedsDone, stop);
        } finally {
            client.getCluster().removeMembershipListener(listener);
        }
    }

    /** Whether a block failed because its worker is gone (rather than because running it failed). */
    static boolean lostWorker(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof RetryableException || c instanceof HazelcastInstanceNotActiveException
                    || c instanceof com.hazelcast.client.HazelcastClientNotActiveException || c instanceof java.io.IOException) {
                return true;
            }
            if (c.getCause() == c) break;
        }
        return false;
    }

    /** One campaign's bookkeeping, touched by the coordinator's thread only. */
    private static final class Run {
        final HazelcastInstance client;
        final IExecutorService executor;
        final StackConfig cfg;
        final long from;
        final long total;
        final long maxSteps;
        final long blockSeeds;
        final long blocks;
        final BlockingQueue<Event> events;
        /** Workers still trusted, in the cluster's order, with how many blocks each may hold and holds. */
        final Map<UUID, Member> live = new LinkedHashMap<>();
        final Map<UUID, Integer> capacity = new HashMap<>();
        final Map<UUID, Integer> held = new HashMap<>();
        /** The worker each block in flight was sent to. */
        final Map<Integer, UUID> inFlight = new HashMap<>();
        /** Answers not yet tallied, for blocks after the next one in seed order. */
        final Map<Integer, Campaign.Block> answered = new HashMap<>();
        /** Blocks to send again, lowest first. */
        final PriorityQueue<Integer> again = new PriorityQueue<>();
        final List<String> lost = new ArrayList<>();
        final List<String> joined = new ArrayList<>();
        final Map<String, Long> answeredBy = new LinkedHashMap<>();
        /** Every worker's address, lost ones included. */
        final Map<UUID, String> addresses = new HashMap<>();
        final int workers;
        long rerun;
        int nextNew;
        int nextTally;

        Run(HazelcastInstance client, StackConfig cfg, long fromSeed, long toSeed, long maxSteps, long blockSeeds, BlockingQueue<Event> events) {
            this.client = client;
            this.executor = client.getExecutorService(ClusterSettings.CAMPAIGN_EXECUTOR);
            this.cfg = cfg;
            this.from = fromSeed;
            this.total = toSeed - fromSeed + 1;
            this.maxSteps = maxSteps;
            this.events = events;
            int threads = 0;
            for (Member m : client.getCluster().getMembers()) threads += add(m);
            if (live.isEmpty()) throw new IllegalArgumentException("the cluster has no worker");
            this.workers = live.size();
            long auto = Math.max(1, Math.min(256, total / (8L * threads)));
            this.blockSeeds = blockSeeds > 0 ? blockSeeds : auto;
            long b = (total + this.blockSeeds - 1) / this.blockSeeds;
            if (b > Integer.MAX_VALUE) throw new IllegalArgumentException("too many blocks: " + b);
            this.blocks = b;
        }

        /** Takes a worker on (a lite member, or one already known, is not one): returns its threads, or 0. */
        int add(Member m) {
            if (m.isLiteMember() || addresses.containsKey(m.getUuid())) return 0;
            int t = threadsOf(m);
            live.put(m.getUuid(), m);
            String address = m.getAddress().getHost() + ":" + m.getAddress().getPort();
            addresses.put(m.getUuid(), address);
            answeredBy.put(address, 0L);
            capacity.put(m.getUuid(), BLOCKS_PER_THREAD * t);
            held.put(m.getUuid(), 0);
            return t;
        }

        static int threadsOf(Member m) {
            try {
                return Math.max(1, Integer.parseInt(m.getAttribute(ClusterSettings.THREADS_ATTRIBUTE)));
            } catch (NumberFormatException e) {
                return 1;
            }
        }

        Outcome go(LongConsumer onSeedsDone, BooleanSupplier stop) {
            Campaign.Tally tally = new Campaign.Tally();
            String noVerdict = null;
            boolean stopped = false;
            try {
                while (nextTally < blocks) {
                    if (stop.getAsBoolean()) {
                        stopped = true;
                        break;
                    }
                    // Send what the workers have room for: blocks to run again first, then new ones, not running too far
                    // ahead of the next block to tally (whose answers wait in memory).
                    int window = 0;
                    for (UUID m : live.keySet()) window += capacity.get(m);
                    while (true) {
                        UUID to = roomiest();
                        if (to == null) break;
                        int b;
                        if (!again.isEmpty()) b = again.poll();
                        else if (nextNew < blocks && nextNew - nextTally < 4L * window) b = nextNew++;
                        else break;
                        send(b, to);
                    }
                    if (inFlight.isEmpty()) {
                        noVerdict = live.isEmpty() ? "every worker was lost" : "no worker could take a block";
                        break;
                    }
                    Event e = events.poll(100, TimeUnit.MILLISECONDS);
                    if (e == null) continue;
                    if (e.block() == -2) {
                        if (add(e.added()) > 0) joined.add(address(e.member()));
                    } else if (e.block() < 0) {
                        drop(e.member());
                    } else if (e.failure() != null) {
                        UUID m = inFlight.get(e.block());
                        if (m == null || !m.equals(e.member())) continue;
                        if (!lostWorker(e.failure())) {
                            throw new IllegalStateException("a run failed on worker " + address(e.member()) + ": " + e.failure(), e.failure());
                        }
                        drop(e.member());
                    } else {
                        UUID m = inFlight.get(e.block());
                        if (m == null || !m.equals(e.member())) continue; // an answer for a block already sent again elsewhere
                        inFlight.remove(e.block());
                        held.computeIfPresent(m, (k, v) -> v - 1);
                        if (e.result() == null) throw new IllegalStateException("worker " + address(m) + " stopped a block");
                        answered.put(e.block(), e.result());
                        answeredBy.merge(address(m), 1L, Long::sum);
                        for (Campaign.Block a; (a = answered.remove(nextTally)) != null; nextTally++) {
                            tally.add(a);
                            if (onSeedsDone != null) onSeedsDone.accept(a.seeds());
                        }
                    }
                }
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("campaign interrupted", x);
            }
            boolean complete = tally.seeds() == total;
            return new Outcome(tally.result(!complete && (stopped || noVerdict != null)), workers, List.copyOf(lost), List.copyOf(joined),
                    java.util.Collections.unmodifiableMap(new LinkedHashMap<>(answeredBy)), rerun, blockSeeds, complete ? null : noVerdict);
        }

        /** The live worker with the most room, the first in the cluster's order among equals, or null when all are full. */
        UUID roomiest() {
            UUID best = null;
            int room = 0;
            for (UUID m : live.keySet()) {
                int r = capacity.get(m) - held.get(m);
                if (r > room) {
                    room = r;
                    best = m;
                }
            }
            return best;
        }

        void send(int b, UUID to) {
            long first = from + (long) b * blockSeeds;
            long last = first + Math.min(blockSeeds, total - (long) b * blockSeeds) - 1;
            inFlight.put(b, to);
            held.merge(to, 1, Integer::sum);
            Member member = live.get(to);
            try {
                executor.submitToMember(new SeedBlockTask(cfg, first, last, maxSteps), member, new ExecutionCallback<Campaign.Block>() {
                    @Override
                    public void onResponse(Campaign.Block r) {
                        events.add(new Event(b, to, r, null));
                    }

                    @Override
                    public void onFailure(Throwable t) {
                        events.add(new Event(b, to, null, t));
                    }
                });
            } catch (RuntimeException e) {
                events.add(new Event(b, to, null, e));
            }
        }

        /** The worker is lost: it is sent nothing more, and the blocks it held go to the others. */
        void drop(UUID m) {
            if (live.remove(m) != null) lost.add(address(m));
            else if (!addresses.containsKey(m)) return; // not one of the campaign's workers
            held.remove(m);
            List<Integer> its = new ArrayList<>();
            for (Map.Entry<Integer, UUID> f : inFlight.entrySet()) if (f.getValue().equals(m)) its.add(f.getKey());
            for (int b : its) {
                inFlight.remove(b);
                again.add(b);
                rerun++;
            }
        }

        String address(UUID m) {
            return addresses.getOrDefault(m, m.toString());
        }
    }
}
