package tcesim.report;

import java.util.LinkedHashMap;
import java.util.Map;
import tcesim.kvm.HcallPath;
import tcesim.sim.Chooser;
import tcesim.sim.CostLedger;
import tcesim.sim.CostModel;
import tcesim.sim.Design;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Stats;
import tcesim.sim.Trace;

/**
 * What a design costs on a workload: hypercalls by path, exits, vhost IOTLB work, invalidations, TCE kills,
 * and the simulated throughput and per-packet time that follow from the cost model.
 *
 * <p>Throughput = bytes moved x 8 / the busiest lane's time (vCPU, QEMU, vhost and device run in parallel);
 * per-packet time = the time all lanes spent, divided by the packets: what one packet costs along its
 * path, the latency it would see on an otherwise idle system.
 */
public record CostSummary(String design, String workload, long packets, long bytes, long hcallsReal, long hcallsVirtual, long hcallsQemu,
                          long iotlbHits, long iotlbMisses, long iotlbEvictions, long invalidations, long tceKills,
                          double elapsedNs, double gbps, double nsPerPacket, Map<String, Double> lanesNs, double totalNs, double sumOfStepsNs) {

    /** The netperf-like workloads: the packet size and how many packets are in flight; the count comes from the configuration. */
    public enum Workload {
        TCP_STREAM("TCP_STREAM-like: 1500-byte packets both ways, 256-entry rings", 1500, 256),
        TCP_RR("TCP_RR-like: 64-byte packets, one in flight (2-entry rings)", 64, 2);

        public final String label;
        public final int packetBytes;
        public final int ring;

        Workload(String label, int packetBytes, int ring) {
            this.label = label;
            this.packetBytes = packetBytes;
            this.ring = ring;
        }

        public StackConfig apply(StackConfig base, Design d) {
            return d.applyTo(base.toBuilder().packetBytes(packetBytes).ringSize(ring).build());
        }
    }

    /** Runs {@code cfg} to the end of its workload (violations are recorded, not stopped at) and sums it up. */
    public static CostSummary measure(StackConfig cfg, String workload, CostModel model, long seed) {
        Stack st = new Stack(cfg, Trace.off(), model);
        st.oracles().runThrough();
        Simulation.run(st, Chooser.seeded(seed), 20_000_000);
        Stats s = st.stats();
        CostLedger l = st.ledger();
        long packets = s.packetsRx + s.packetsTx + (st.passthroughDriver() == null ? 0 : st.passthroughDriver().delivered());
        long bytes = (s.packetsRx + s.packetsTx + (st.passthroughDriver() == null ? 0 : st.passthroughDriver().delivered())) * (long) cfg.packetBytes();
        var tlb = st.vhost().iotlb();
        Map<String, Double> lanes = new LinkedHashMap<>();
        l.lanes().forEach((k, v) -> lanes.put(k.name().toLowerCase(), v));
        double elapsed = l.elapsed();
        return new CostSummary(cfg.design().name(), workload, packets, bytes, s.hcalls(HcallPath.REAL_MODE), s.hcalls(HcallPath.VIRTUAL_MODE),
                s.hcalls(HcallPath.QEMU), tlb.hits(), tlb.misses(), tlb.evictions(), s.invalidates, l.count(CostLedger.Kind.TCE_KILL),
                elapsed, elapsed == 0 ? 0 : bytes * 8.0 / elapsed, packets == 0 ? 0 : l.total() / packets, lanes, l.total(), l.sumOfSteps());
    }

    public double exitsPerPacket() { return packets == 0 ? 0 : (double) hcallsQemu / packets; }
}
