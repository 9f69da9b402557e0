package tcesim.cli;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import java.util.List;
import picocli.CommandLine.Option;
import tcesim.cluster.ClusterSettings;

/** How a command joins a cluster of workers as its coordinator. Without {@code --cluster}, nothing of this runs. */
final class ClusterOptions {
    @Option(names = "--cluster", paramLabel = "HOST:PORT,...",
            description = "Run on the workers (tcesim worker) at these addresses instead of this process; a few of them are enough to find the others.")
    String cluster;

    @Option(names = "--cluster-timeout", paramLabel = "SECONDS", description = "How long to try to reach a worker (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 20;

    @Option(names = "--cluster-log", paramLabel = "LEVEL", description = "Hazelcast's own log lines on stderr: off, severe, warning, info (default: ${DEFAULT-VALUE}).")
    String log = "off";

    boolean on() {
        return cluster != null;
    }

    /** The options as given, for a command that runs on the same cluster (the defaults left out). */
    String asArgs(picocli.CommandLine.ParseResult given) {
        StringBuilder sb = new StringBuilder(" --cluster ").append(String.join(",", members()));
        if (given.hasMatchedOption("--cluster-timeout")) sb.append(" --cluster-timeout ").append(timeoutSeconds);
        if (given.hasMatchedOption("--cluster-log")) sb.append(" --cluster-log ").append(log);
        return sb.toString();
    }

    /** Checks the options (bad ones: IllegalArgumentException, one line) before anything runs. */
    List<String> members() {
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) throw new IllegalArgumentException("--cluster-timeout must be 1..3600 seconds");
        ClusterSettings.logLevel(log);
        return ClusterSettings.members(cluster);
    }

    /** A client of the workers' cluster; the caller shuts it down. */
    HazelcastInstance connect() {
        List<String> members = members();
        try {
            return HazelcastClient.newHazelcastClient(ClusterSettings.client(Main.VERSION, members, timeoutSeconds * 1000L));
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("no worker of " + ClusterSettings.clusterName(Main.VERSION) + " answered at " + String.join(",", members)
                    + " within " + timeoutSeconds + " s (is 'tcesim worker' of this version running there?)");
        }
    }
}
