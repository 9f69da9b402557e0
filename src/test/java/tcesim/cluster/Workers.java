package tcesim.cluster;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import tcesim.cli.Main;

/**
 * Worker processes for a test: {@code tcesim worker} in JVMs of their own on 127.0.0.1, each on a free port, started
 * one after the other (each waits until it has joined the ones before), and destroyed by {@link #close}.
 */
public final class Workers implements AutoCloseable {
    /** How long a worker may take to start and join. */
    static final long START_MS = 90_000;

    final List<Process> processes = new ArrayList<>();
    final List<HazelcastInstance> clients = new ArrayList<>();
    final List<Integer> ports = new ArrayList<>();
    final Path dir;

    private Workers(Path dir) {
        this.dir = dir;
    }

    /** {@code n} workers of {@code threads} threads each, forming one cluster. */
    public static Workers start(int n, int threads) throws Exception {
        Path dir = Files.createTempDirectory("tcesim-workers");
        Workers w = new Workers(dir);
        try {
            for (int i = 0; i < n; i++) w.ports.add(freePort());
            for (int i = 0; i < n; i++) w.startOne(i, threads, i + 1);
        } catch (Exception | Error e) {
            w.close();
            throw e;
        }
        return w;
    }

    /** One more worker of {@code threads} threads, joining the running ones; returns its address. */
    public String add(int threads) throws Exception {
        return add(threads, processes.size() + 1);
    }

    /** One more worker, joining the running ones, which are {@code members} with it (fewer than started, once some were killed). */
    public String add(int threads, int members) throws Exception {
        int i = processes.size();
        ports.add(freePort());
        startOne(i, threads, members);
        return "127.0.0.1:" + ports.get(i);
    }

    /** The --cluster list. */
    public String list() {
        StringBuilder sb = new StringBuilder();
        for (int p : ports) sb.append(sb.length() == 0 ? "" : ",").append("127.0.0.1:").append(p);
        return sb.toString();
    }

    /** A client of the workers (the coordinator's side), for calling the cluster API directly; {@link #close} shuts it down. */
    public HazelcastInstance client() {
        HazelcastInstance c = HazelcastClient.newHazelcastClient(ClusterSettings.client(Main.VERSION, ClusterSettings.members(list()), 30_000));
        clients.add(c);
        return c;
    }

    private void startOne(int i, int threads, int members) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path out = dir.resolve("worker" + i + ".out");
        Path err = dir.resolve("worker" + i + ".err");
        Process p = new ProcessBuilder(java, "-Xmx512m", "-cp", cp, Main.class.getName(), "worker", "--cluster", list(), "--port",
                String.valueOf(ports.get(i)), "--threads", String.valueOf(threads))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        processes.add(p);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MS);
        String ready = "of cluster " + ClusterSettings.clusterName(Main.VERSION) + ", " + threads + " threads, " + members + " members";
        while (!Files.readString(out, StandardCharsets.UTF_8).contains(ready)) {
            if (!p.isAlive()) throw new IllegalStateException("worker " + i + " ended: " + Files.readString(out) + Files.readString(err));
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("worker " + i + " not ready in " + START_MS + " ms: " + Files.readString(out) + Files.readString(err));
            }
            Thread.sleep(50);
        }
    }

    /** Kills worker {@code i} at once (SIGKILL: no goodbye to the cluster) and waits until it is gone. */
    void kill(int i) throws InterruptedException {
        Process p = processes.get(i);
        p.destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException("worker " + i + " still running after SIGKILL");
    }

    String logs() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < processes.size(); i++) {
            sb.append(Files.readString(dir.resolve("worker" + i + ".out"))).append(Files.readString(dir.resolve("worker" + i + ".err")));
        }
        return sb.toString();
    }

    @Override
    /** Shuts the clients down, then the workers. */
    public void close() throws InterruptedException {
        for (HazelcastInstance c : clients) c.shutdown();
        for (Process p : processes) p.destroy();
        for (Process p : processes) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    public static int freePort() throws IOException {
        for (int tried = 0; tried < PORTS_PER_JVM; tried++) {
            int port = FIRST_PORT + Math.floorMod(nextPort.getAndIncrement(), PORTS_PER_JVM);
            try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (java.net.BindException taken) {
                // in use (or still closing): the next one
            }
        }
        throw new IOException("no free port in " + FIRST_PORT + ".." + (FIRST_PORT + PORTS_PER_JVM - 1));
    }

    /**
     * Ports are taken below Linux's ephemeral range (32768 and up), in a range of this test JVM's own (by surefire's fork
     * number), and in turn: a port the OS hands out at random (port 0) may be handed to another process, a client's
     * connection in the other test JVM say, between this probe and the worker binding it.
     */
    private static final int PORTS_PER_JVM = 2000;
    private static final int FIRST_PORT = 20_000 + PORTS_PER_JVM * Math.floorMod(Integer.getInteger("tcesim.test.fork", 1) - 1, 6);
    private static final java.util.concurrent.atomic.AtomicInteger nextPort = new java.util.concurrent.atomic.AtomicInteger();
}
