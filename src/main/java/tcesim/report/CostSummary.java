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
 * What a design costs on a workload: hypercalls by path, exits, vhost IOTLB work, invalidations, TCE kills, and the
 * simulated throughput and latencies that follow from the cost model.
 *
 * <p>The run is a discrete-event simulation ({@link Chooser#earliest}): every thread has a clock, a step starts when
 * its thread is free and what it consumes has been produced, and waits are idle time (see {@link CostLedger}). So:
 * throughput = bytes moved x 8 / the run's simulated duration (its critical path); the latencies are measured per
 * packet (RX: arrival at the tap to the guest's reap; TX: the guest starting to send to vhost handing it to the tap;
 * a request/response transaction: request arrival to response sent); CPU ns per packet = the busy time of every
 * thread, divided by the packets; the bottleneck is the busiest thread's lane.
 */
public record CostSummary(String design, String workload, long packets, long bytes, long hcallsReal, long hcallsVirtual, long hcallsQemu,
                          long iotlbHits, long iotlbMisses, long iotlbEvictions, long invalidations, long tceKills,
                          double elapsedNs, double gbps, double cpuNsPerPacket, double rxLatencyNs, double txLatencyNs, double transactionNs,
                          String bottleneck, Map<String, Double> lanesNs, double totalNs, double sumOfStepsNs) {

    /** The netperf-like workloads: the packet size and how many packets are in flight; the count comes from the configuration. */
    public enum Workload {
        TCP_STREAM("TCP_STREAM-like: 1500-byte packets both ways, 256-entry rings", 1500, 256),
        TCP_RR("TCP_RR-like: 64-byte request and response, one transaction at a time", 64, 2);

        public final String label;
        public final int packetBytes;
        public final int ring;

        Workload(String label, int packetBytes, int ring) {
            this.label = label;
            this.packetBytes = packetBytes;
            this.ring = ring;
        }

        public StackConfig apply(StackConfig base, Design d) {
            // The rest of the guest kernel (its page churn) is left out: it has no price and would only add unrelated vCPU work.
            StackConfig.Builder b = base.toBuilder().packetBytes(packetBytes).ringSize(ring).kernelChurn(false);
            if (this == TCP_RR) b.txPackets(base.rxPackets()).requestResponse(true);
            return d.applyTo(b.build());
        }
    }

    /** Runs {@code cfg} to the end of its workload (violations are recorded, not stopped at) and sums it up. */
    public static CostSummary measure(StackConfig cfg, String workload, CostModel model) {
        Stack st = new Stack(cfg, Trace.off(), model);
        st.oracles().runThrough();
        Simulation.run(st, Chooser.earliest(st), 20_000_000);
        Stats s = st.stats();
        CostLedger l = st.ledger();
        long packets = s.packetsRx + s.packetsTx + (st.passthroughDriver() == null ? 0 : st.passthroughDriver().delivered());
        long bytes = (s.packetsRx + s.packetsTx + (st.passthroughDriver() == null ? 0 : st.passthroughDriver().delivered())) * (long) cfg.packetBytes();
        var tlb = st.vhost().iotlb();
        Map<String, Double> lanes = new LinkedHashMap<>();
        l.lanes().forEach((k, v) -> lanes.put(k.name().toLowerCase(), v));
        double elapsed = l.elapsed();
        String bottleneck = null;
        double most = -1;
        for (Map.Entry<String, Double> e : lanes.entrySet()) {
            if (!e.getKey().equals("wire") && e.getValue() > most) {
                most = e.getValue();
                bottleneck = e.getKey();
            }
        }
        Stack.Latency lat = st.latency();
        return new CostSummary(cfg.design().name(), workload, packets, bytes, s.hcalls(HcallPath.REAL_MODE), s.hcalls(HcallPath.VIRTUAL_MODE),
                s.hcalls(HcallPath.QEMU), tlb.hits(), tlb.misses(), tlb.evictions(), s.invalidates, l.count(CostLedger.Kind.TCE_KILL),
                elapsed, elapsed == 0 ? 0 : bytes * 8.0 / elapsed, packets == 0 ? 0 : (l.total() - l.of(CostLedger.Lane.WIRE)) / packets,
                lat.rx(), lat.tx(), lat.transaction(), bottleneck, lanes, l.total(), l.sumOfSteps());
    }

    public double exitsPerPacket() { return packets == 0 ? 0 : (double) hcallsQemu / packets; }

    /** Whether the run took simulated time: with every cost zero it takes none, and a throughput or a busiest thread does not apply. */
    public boolean timed() { return elapsedNs > 0; }
}
