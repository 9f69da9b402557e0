package tcesim.cli;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tcesim.cluster.ClusterSettings;

/** {@code tcesim worker}: a member of a cluster that runs the work of {@code campaign --cluster}. */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Serve the campaigns run with --cluster: join the other workers as a member of a Hazelcast cluster and run the seeds",
                "a coordinator sends, until stopped (Ctrl-C, SIGTERM). Only processes of the same tcesim version form a cluster.",
                "Exit code: 0 stopped, 2 bad usage (or the address cannot be listened on)."})
public final class WorkerCommand implements Callable<Integer> {
    @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT,...",
            description = "The workers to join (this one may be among them); give every worker the same list.")
    String cluster;

    @Option(names = "--bind", paramLabel = "ADDRESS", description = "The address of this machine to listen on (default: ${DEFAULT-VALUE}, this machine only).")
    String bind = "127.0.0.1";

    @Option(names = "--port", paramLabel = "N",
            description = "The port to listen on (default: the first free one from " + ClusterSettings.DEFAULT_PORT + " on).")
    Integer port;

    @Option(names = "--threads", paramLabel = "N", description = "Seeds run at once (default: ${DEFAULT-VALUE}).")
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());

    @Option(names = "--cluster-log", paramLabel = "LEVEL", description = "Hazelcast's own log lines on stderr: off, severe, warning, info (default: ${DEFAULT-VALUE}).")
    String log = "off";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (threads < 1 || threads > 256) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be 1..256");
        if (port != null && (port < 1 || port > 65535)) throw new CommandLine.ParameterException(spec.commandLine(), "--port must be 1..65535");
        if (bind.isBlank()) throw new CommandLine.ParameterException(spec.commandLine(), "--bind takes an address of this machine");
        List<String> members = ClusterSettings.members(cluster);
        ClusterSettings.logLevel(log);
        Config config = ClusterSettings.member(Main.VERSION, members, bind, port == null ? ClusterSettings.DEFAULT_PORT : port, port == null, threads);
        HazelcastInstance hz;
        try {
            hz = Hazelcast.newHazelcastInstance(config);
        } catch (RuntimeException e) {
            String why = e.getMessage() != null ? e.getMessage() : e.toString();
            throw new IllegalArgumentException("cannot start a member on " + bind + (port == null ? "" : ":" + port) + ": " + why);
        }
        CountDownLatch down = new CountDownLatch(1);
        hz.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.SHUTDOWN) down.countDown();
        });
        Thread hook = new Thread(() -> {
            hz.getLifecycleService().shutdown();
            down.countDown();
        }, "tcesim-worker-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        PrintWriter out = spec.commandLine().getOut();
        var self = hz.getCluster().getLocalMember().getAddress();
        out.printf("tcesim worker: member %s:%d of cluster %s, %d threads, %d members; stop with Ctrl-C%n", self.getHost(), self.getPort(),
                config.getClusterName(), threads, hz.getCluster().getMembers().size());
        out.flush();
        down.await();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C: the hook stopped the member.
        }
        return 0;
    }
}
