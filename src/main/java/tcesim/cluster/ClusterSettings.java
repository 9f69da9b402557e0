package tcesim.cluster;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * How tcesim's processes form a Hazelcast cluster: the members are the {@code worker} processes; a {@code campaign}
 * or {@code check} with {@code --cluster} is a client of theirs (see {@link #client}).
 *
 * <p>Members find each other through the TCP/IP list the user gives (multicast and every other discovery off),
 * listen on one address only (the loopback address unless another is given), never phone home, and form a
 * cluster whose name is the tool's version: a member or client of another version does not join. Members only
 * deserialize Java objects of tcesim's own classes (besides the JDK's and Hazelcast's that Hazelcast allows by
 * default), since what they receive comes from the network.
 */
public final class ClusterSettings {
    /** The executor service that runs a campaign's blocks of seeds. */
    public static final String CAMPAIGN_EXECUTOR = "tcesim-campaign";
    /** The executor service that runs a check's levels on each worker. */
    public static final String CHECK_EXECUTOR = "tcesim-check";
    /** The executor service that takes the states workers send each other during a check's level. */
    public static final String CHECK_DELIVERY_EXECUTOR = "tcesim-check-delivery";
    /** The member attribute giving how many blocks a worker runs at once. */
    public static final String THREADS_ATTRIBUTE = "tcesim.threads";
    /** The port a worker listens on by default; further workers on the machine take the next ones. */
    public static final int DEFAULT_PORT = 5701;
    /** Hazelcast logs through java.util.logging under this name (kept here: the JDK holds loggers weakly). */
    private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");

    static {
        HAZELCAST_LOG.setLevel(Level.OFF);
    }

    private ClusterSettings() {}

    /** The cluster's name for a version of the tool: processes of different versions form different clusters. */
    public static String clusterName(String version) {
        return "tcesim-" + version;
    }

    /**
     * Parses {@code HOST:PORT,HOST:PORT,...} (a port may be left out: {@value #DEFAULT_PORT}).
     *
     * @throws IllegalArgumentException naming the entry that is not of that form
     */
    public static List<String> members(String list) {
        List<String> out = new ArrayList<>();
        for (String raw : list.split(",", -1)) {
            String e = raw.trim();
            int colon = e.lastIndexOf(':');
            String host = colon < 0 ? e : e.substring(0, colon);
            String port = colon < 0 ? String.valueOf(DEFAULT_PORT) : e.substring(colon + 1);
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException x) {
                p = -1;
            }
            if (host.isEmpty() || host.contains(":") || p < 1 || p > 65535) {
                throw new IllegalArgumentException("--cluster takes HOST:PORT,... (port 1..65535), got '" + e + "' in '" + list + "'");
            }
            out.add(host + ":" + p);
        }
        return out;
    }

    /**
     * Hazelcast's own logging: off unless asked (OFF, SEVERE, WARNING, INFO, FINE...). Its log lines go to
     * stderr, and never into a command's result.
     */
    public static void logLevel(String level) {
        Level l;
        try {
            l = Level.parse(level.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--cluster-log takes off, severe, warning, info or fine, got '" + level + "'");
        }
        HAZELCAST_LOG.setLevel(l);
    }

    /**
     * A worker's member configuration.
     *
     * @param version the tool's version (names the cluster)
     * @param members the members to join, HOST:PORT (this one may be among them)
     * @param bind the address to listen on
     * @param port the port to listen on; with {@code autoIncrement}, the first one tried
     * @param threads blocks of seeds (or parts of a check) run at once
     */
    public static Config member(String version, List<String> members, String bind, int port, boolean autoIncrement, int threads) {
        Config c = new Config();
        c.setClusterName(clusterName(version));
        common(c.getProperties());
        // Failure detection: a member that stops answering is declared lost after 15 s (Hazelcast's default is 60 s);
        // a killed process is usually noticed sooner, its connections being closed.
        c.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        c.setProperty("hazelcast.max.no.heartbeat.seconds", "15");
        // Listen on the given address only.
        c.setProperty("hazelcast.local.localAddress", bind);
        c.setProperty("hazelcast.socket.bind.any", "false");
        c.getNetworkConfig().setPort(port).setPortAutoIncrement(autoIncrement).setPortCount(autoIncrement ? 100 : 1);
        JoinConfig join = c.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(members);
        c.getJetConfig().setEnabled(false);
        c.getMetricsConfig().setEnabled(false);
        c.getMemberAttributeConfig().setAttribute(THREADS_ATTRIBUTE, String.valueOf(threads));
        // Blocks are queued by the coordinator, which sends each member no more than it can run (and then some).
        c.getExecutorConfig(CAMPAIGN_EXECUTOR).setPoolSize(threads).setStatisticsEnabled(false);
        // A check's level runs in one task, which uses the worker's threads itself; deliveries have threads of their own,
        // so that a worker busy expanding (and waiting for its own deliveries) still takes the others' states.
        c.getExecutorConfig(CHECK_EXECUTOR).setPoolSize(2).setStatisticsEnabled(false);
        c.getExecutorConfig(CHECK_DELIVERY_EXECUTOR).setPoolSize(2).setStatisticsEnabled(false);
        c.getSerializationConfig().setJavaSerializationFilterConfig(filter());
        return c;
    }

    /**
     * The coordinator's configuration: a client of the workers rather than a member. A client opens no port and
     * listens on nothing, owns no partition (so its leaving moves no data and it needs no address the workers can
     * reach: behind a firewall or NAT it still works), and the cluster does not wait on it; it still sees the
     * membership events that tell it a worker was lost, and submits work to a chosen member.
     *
     * @param connectMillis how long to try to reach a member before giving up
     */
    public static ClientConfig client(String version, List<String> members, long connectMillis) {
        ClientConfig c = new ClientConfig();
        c.setClusterName(clusterName(version));
        common(c.getProperties());
        c.getNetworkConfig().setAddresses(new ArrayList<>(members));
        c.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(connectMillis);
        c.getSerializationConfig().setJavaSerializationFilterConfig(filter());
        c.getMetricsConfig().setEnabled(false);
        return c;
    }

    private static void common(java.util.Properties p) {
        p.setProperty("hazelcast.phone.home.enabled", "false");
        p.setProperty("hazelcast.logging.type", "jdk");
        // The command ends the instance itself (see WorkerCommand and the coordinators).
        p.setProperty("hazelcast.shutdownhook.enabled", "false");
    }

    private static JavaSerializationFilterConfig filter() {
        JavaSerializationFilterConfig f = new JavaSerializationFilterConfig();
        f.getWhitelist().addPrefixes("tcesim.");
        return f;
    }
}
