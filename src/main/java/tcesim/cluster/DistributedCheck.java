package tcesim.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.core.IExecutorService;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import tcesim.explore.Checker;
import tcesim.explore.PartitionedSearch;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * A check spread over the workers of a cluster: {@link PartitionedSearch} with one shard per worker. The workers
 * are fixed when the check starts, in the cluster's order; shard {@code i}, on worker {@code i}, owns the states
 * whose fingerprints map to {@code i} (a fixed map rather than Hazelcast's partition table, which may move
 * partitions between members while a level is under way). The coordinator runs each level through the executor
 * service: every worker expands its part of the frontier and sends the successors it does not own, in batches,
 * straight to their owners' workers; the level ends when every worker has answered. A worker lost during the check
 * ends it without a verdict: the states it owned are gone, and nothing is reported safe that was not explored. When
 * the coordinator keeps a copy ({@link PartitionedSearch.Completed}), every worker sends it its part of each new level
 * (fingerprints, paths and words) once the level is done everywhere, so that the coordinator holds the last whole
 * level; with a checkpoint file, it writes it as the local checker's checkpoint every minute and when the check stops
 * without a verdict, a worker lost included; without one, the caller writes it where it likes. A check goes on from a
 * checkpoint (the local checker's or a cluster's) by sending each fingerprint and frontier state to its owner.
 */
public final class DistributedCheck {
    /**
     * @param result the check's result; INCOMPLETE with {@code stopped} naming the lost worker when one was lost
     * @param workers the workers the check ran on, by address, in shard order
     * @param lost the worker lost, or null
     * @param statesSent successors sent by a worker to another, their owner
     * @param bytesSent what they took: fingerprints, paths and saved words
     * @param perWorker distinct states each worker owned at the end (or when stopped)
     * @param checkpoint the checkpoint file written (that of the last level every worker completed), or null
     * @param statesKept states the workers sent the coordinator for its copy of each level (0 without a copy)
     * @param bytesKept what they took: fingerprints, paths and saved words
     */
    public record Outcome(Checker.Result result, List<String> workers, String lost, long statesSent, long bytesSent, long[] perWorker,
                          java.nio.file.Path checkpoint, long statesKept, long bytesKept) {}

    /** Tests only: called with the depth of each level a check completes, after its listener (e.g. to kill a worker there). */
    static volatile java.util.function.IntConsumer afterLevel;

    /** How often a check with a checkpoint file writes it (at the end of a level), besides when it stops. */
    public static final long CHECKPOINT_PERIOD_NANOS = 60_000_000_000L;

    private DistributedCheck() {}

    /** A worker was lost in the middle of the check. */
    static final class LostWorker extends Exception {
        private static final long serialVersionUID = 1L;
        final String worker;

        LostWorker(String worker, Throwable cause) {
            super("worker " + worker + " was lost", cause);
            this.worker = worker;
        }
    }

    /** The stop was asked for while a level was under way. */
    static final class Stopped extends Exception {
        private static final long serialVersionUID = 1L;
    }

    /**
     * @param stop polled before each level and every 100 ms while one is under way: once true, the check ends without a
     *     verdict ("interrupted"), with the counts of the levels done; the workers drop the level under way
     * @param listener called after each level, or null
     */
    public static Outcome run(HazelcastInstance client, StackConfig cfg, Set<Violation.Property> props, boolean reduce, long maxStates,
                              java.util.function.BooleanSupplier stop, PartitionedSearch.LevelListener listener) throws Exception {
        return run(client, cfg, props, reduce, maxStates, stop, listener, null, new PartitionedSearch.Completed());
    }

    /**
     * @param from the checkpoint to go on from (read for this configuration), or null
     * @param done the record of the levels completed; one with a checkpoint file writes it when the check ends without a
     *     verdict (a worker lost, stopped, the state limit at the end of a level) and every so often; one that keeps a
     *     copy without a file holds the last level completed for the caller to write
     */
    public static Outcome run(HazelcastInstance client, StackConfig cfg, Set<Violation.Property> props, boolean reduce, long maxStates,
                              java.util.function.BooleanSupplier stop, PartitionedSearch.LevelListener listener, tcesim.explore.Checkpoint from,
                              PartitionedSearch.Completed done) throws Exception {
        String err = cfg.validate();
        if (err != null) throw new IllegalArgumentException(err);
        List<Member> members = new ArrayList<>();
        for (Member m : client.getCluster().getMembers()) if (!m.isLiteMember()) members.add(m);
        if (members.isEmpty()) throw new IllegalArgumentException("the cluster has no worker");
        List<String> addresses = new ArrayList<>();
        for (Member m : members) addresses.add(m.getAddress().getHost() + ":" + m.getAddress().getPort());
        if (from != null) done.resuming(from);
        String id = UUID.randomUUID().toString();
        Remote shards = new Remote(client, id, members, addresses, stop);
        int[] propOrdinals = props.stream().mapToInt(Enum::ordinal).sorted().toArray();
        String[] uuids = members.stream().map(m -> m.getUuid().toString()).toArray(String[]::new);
        long[] sent = new long[2]; // states sent between workers and their bytes, up to the last level done
        try {
            List<Callable<Boolean>> init = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) init.add(new Init(id, cfg, propOrdinals, reduce, i, uuids));
            shards.all(init);
            PartitionedSearch.Outcome o = PartitionedSearch.search(() -> new Stack(cfg, Trace.off()), props, maxStates, shards, stop,
                    (depth, distinct, frontier, fresh, bytesPerState) -> {
                        if (listener != null) listener.level(depth, distinct, frontier, fresh, bytesPerState);
                        java.util.function.IntConsumer hook = afterLevel;
                        if (hook != null) hook.accept(depth);
                    }, from, done);
            return new Outcome(o.result(), addresses, null, o.statesSent(), o.bytesSent(), o.perShard(), done.written() ? done.file() : null,
                    done.keptStates(), done.keptBytes());
        } catch (Stopped e) {
            Checker.Result r = stoppedAt(done, "interrupted");
            return new Outcome(r, addresses, null, 0, 0, done.perShard(), done.written() ? done.file() : null, done.keptStates(), done.keptBytes());
        } catch (LostWorker e) {
            // What the levels done found (the checkpoint is theirs); the level under way is lost with the worker.
            Checker.Result r = stoppedAt(done, e.getMessage());
            return new Outcome(r, addresses, e.worker, 0, 0, done.perShard(), done.written() ? done.file() : null, done.keptStates(), done.keptBytes());
        } finally {
            shards.closeQuietly();
        }
    }

    /** The result of a check stopped in a level: the counts of the levels done, and their checkpoint written (when it has a file). */
    private static Checker.Result stoppedAt(PartitionedSearch.Completed done, String why) {
        if (done.file() != null) done.tryWrite();
        return done.incomplete(why);
    }

    /** The shards on the workers, reached through the executor service. */
    private static final class Remote implements PartitionedSearch.Shards {
        final HazelcastInstance client;
        final IExecutorService executor;
        final String id;
        final List<Member> members;
        final List<String> addresses;
        final java.util.function.BooleanSupplier stop;

        Remote(HazelcastInstance client, String id, List<Member> members, List<String> addresses, java.util.function.BooleanSupplier stop) {
            this.client = client;
            this.executor = client.getExecutorService(ClusterSettings.CHECK_EXECUTOR);
            this.id = id;
            this.members = members;
            this.addresses = addresses;
            this.stop = stop;
        }

        @Override public int size() { return members.size(); }

        /** Runs task {@code i} on worker {@code i}, for every worker, and waits for all. */
        <T> List<T> all(List<? extends Callable<T>> tasks) throws Exception {
            int[] on = new int[tasks.size()];
            for (int i = 0; i < on.length; i++) on[i] = i;
            return on(on, tasks);
        }

        /** Runs one task on worker {@code i} and waits for it. */
        <T> T one(int i, Callable<T> task) throws Exception {
            return on(new int[] {i}, List.of(task)).get(0);
        }

        /** Runs task {@code k} on worker {@code on[k]}, for each task, and waits for all. */
        private <T> List<T> on(int[] on, List<? extends Callable<T>> tasks) throws Exception {
            List<Future<T>> fs = new ArrayList<>();
            for (int k = 0; k < tasks.size(); k++) {
                try {
                    fs.add(executor.submitToMember(tasks.get(k), members.get(on[k])));
                } catch (RuntimeException e) {
                    throw lost(on[k], e);
                }
            }
            List<T> out = new ArrayList<>();
            for (int k = 0; k < fs.size(); k++) {
                int i = on[k];
                while (true) {
                    try {
                        out.add(fs.get(k).get(100, java.util.concurrent.TimeUnit.MILLISECONDS));
                        break;
                    } catch (java.util.concurrent.TimeoutException e) {
                        if (!stop.getAsBoolean()) continue;
                        for (Future<T> f : fs) f.cancel(true);
                        throw new Stopped();
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw lost(i, e.getCause() != null ? e.getCause() : e);
                    }
                }
            }
            return out;
        }

        /** The failure of worker {@code i}'s task: a lost worker (this one, or another it was sending to), or a bug. */
        private Exception lost(int i, Throwable t) throws Exception {
            if (DistributedCampaign.lostWorker(t)) {
                int gone = firstGone();
                return new LostWorker(addresses.get(gone >= 0 ? gone : i), t);
            }
            // A worker's task may fail because another worker it was sending to is gone: give the cluster time to notice.
            for (int k = 0; k < 100; k++) {
                int gone = firstGone();
                if (gone >= 0) return new LostWorker(addresses.get(gone), t);
                Thread.sleep(200);
            }
            if (t instanceof Exception e) return new IllegalStateException("worker " + addresses.get(i) + " failed: " + e, e);
            throw (Error) t;
        }

        /** The first of the check's workers no longer in the cluster, or -1. */
        private int firstGone() {
            Set<Member> now = client.getLifecycleService().isRunning() ? client.getCluster().getMembers() : Set.of();
            for (int i = 0; i < members.size(); i++) if (!now.contains(members.get(i))) return i;
            return -1;
        }

        @Override
        public void start(int depth) throws Exception {
            List<Callable<Boolean>> t = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) t.add(new Start(id, depth));
            all(t);
        }

        @Override
        public void load(int owner, long[] fps, PartitionedSearch.Batch states) throws Exception {
            one(owner, new Load(id, fps, states));
        }

        @Override
        public List<PartitionedSearch.Batch> frontier(int[] from) throws Exception {
            List<Part> t = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) t.add(new Part(id, from[i]));
            return all(t);
        }

        @Override
        public List<PartitionedSearch.Expanded> expand() throws Exception {
            List<Expand> t = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) t.add(new Expand(id));
            return all(t);
        }

        @Override
        public List<PartitionedSearch.Fresh> fresh(int[] key) throws Exception {
            List<FreshTask> t = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) t.add(new FreshTask(id, key));
            return all(t);
        }

        @Override
        public void commit() throws Exception {
            List<Commit> t = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) t.add(new Commit(id));
            all(t);
        }

        void closeQuietly() {
            if (!client.getLifecycleService().isRunning()) return;
            Set<Member> now = client.getCluster().getMembers();
            for (Member m : members) {
                if (!now.contains(m)) continue;
                try {
                    executor.submitToMember(new Close(id), m).get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    // The worker goes on without the check's shard or drops it when it stops.
                }
            }
        }
    }

    // ---- What runs on the workers. ----

    /** A worker's part of each check under way, by check. */
    static final ConcurrentHashMap<String, Session> SESSIONS = new ConcurrentHashMap<>();

    /** A worker's shard of one check, and how to reach the other workers' shards. */
    record Session(PartitionedSearch.Shard shard, HazelcastInstance hz, List<Member> members) {}

    static Session session(String id) {
        Session s = SESSIONS.get(id);
        if (s == null) throw new IllegalStateException("this worker holds no shard of check " + id + " (was it restarted?)");
        return s;
    }

    /** Makes the worker's shard of a check. */
    static final class Init implements Callable<Boolean>, java.io.Serializable, HazelcastInstanceAware {
        private static final long serialVersionUID = 1L;
        final String id;
        final StackConfig cfg;
        final int[] props;
        final boolean reduce;
        final int self;
        final String[] members;
        transient HazelcastInstance hz;

        Init(String id, StackConfig cfg, int[] props, boolean reduce, int self, String[] members) {
            this.id = id;
            this.cfg = cfg;
            this.props = props;
            this.reduce = reduce;
            this.self = self;
            this.members = members;
        }

        @Override
        public void setHazelcastInstance(HazelcastInstance hz) {
            this.hz = hz;
        }

        @Override
        public Boolean call() {
            java.util.EnumSet<Violation.Property> p = java.util.EnumSet.noneOf(Violation.Property.class);
            for (int o : props) p.add(Violation.Property.values()[o]);
            List<Member> ms = new ArrayList<>();
            for (String u : members) {
                Member found = null;
                for (Member m : hz.getCluster().getMembers()) if (m.getUuid().toString().equals(u)) found = m;
                if (found == null) throw new IllegalStateException("worker " + u + " is not in the cluster");
                ms.add(found);
            }
            int threads;
            try {
                threads = Integer.parseInt(hz.getCluster().getLocalMember().getAttribute(ClusterSettings.THREADS_ATTRIBUTE));
            } catch (NumberFormatException e) {
                threads = 1;
            }
            PartitionedSearch.Shard shard = new PartitionedSearch.Shard(() -> new Stack(cfg, Trace.off()), p, reduce, self, members.length, threads);
            SESSIONS.put(id, new Session(shard, hz, ms));
            return true;
        }
    }

    record Start(String id, int depth) implements Callable<Boolean>, java.io.Serializable {
        @Override
        public Boolean call() {
            session(id).shard().start(depth);
            return true;
        }
    }

    record Load(String id, long[] fps, PartitionedSearch.Batch states) implements Callable<Boolean>, java.io.Serializable {
        @Override
        public Boolean call() {
            session(id).shard().load(fps, states);
            return true;
        }
    }

    /** A worker's part of its frontier, for the coordinator's copy of the level. */
    record Part(String id, int from) implements Callable<PartitionedSearch.Batch>, java.io.Serializable {
        @Override
        public PartitionedSearch.Batch call() {
            return session(id).shard().part(from, PartitionedSearch.PART_WORDS);
        }
    }

    record Expand(String id) implements Callable<PartitionedSearch.Expanded>, java.io.Serializable {
        @Override
        public PartitionedSearch.Expanded call() throws Exception {
            Session s = session(id);
            IExecutorService deliver = s.hz().getExecutorService(ClusterSettings.CHECK_DELIVERY_EXECUTOR);
            return s.shard().expand((owner, batch) -> deliver.submitToMember(new Deliver(id, batch), s.members().get(owner)).get());
        }
    }

    record Deliver(String id, PartitionedSearch.Batch batch) implements Callable<Boolean>, java.io.Serializable {
        @Override
        public Boolean call() {
            session(id).shard().accept(batch);
            return true;
        }
    }

    record FreshTask(String id, int[] key) implements Callable<PartitionedSearch.Fresh>, java.io.Serializable {
        @Override
        public PartitionedSearch.Fresh call() {
            return session(id).shard().fresh(key);
        }
    }

    record Commit(String id) implements Callable<Boolean>, java.io.Serializable {
        @Override
        public Boolean call() {
            session(id).shard().commit();
            return true;
        }
    }

    record Close(String id) implements Callable<Boolean>, java.io.Serializable {
        @Override
        public Boolean call() {
            Session s = SESSIONS.remove(id);
            if (s != null) s.shard().close();
            return true;
        }
    }
}
