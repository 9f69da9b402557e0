package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import tcesim.kvm.HcallPath;
import tcesim.papr.Hcall;
import tcesim.report.CostSummary;

class CostTest {
    static StackConfig stream(Design d) {
        return CostSummary.Workload.TCP_STREAM.apply(StackConfig.seed().toBuilder().rxPackets(500).txPackets(500).build(), d);
    }

    @Test
    void aRunsTotalIsItsCountsTimesThePrices() {
        CostModel m = CostModel.defaults().with("vhost.packet", 1234);
        Stack st = new Stack(stream(Design.D3b), Trace.off(), m);
        Simulation.run(st, Chooser.earliest(st), 5_000_000);
        CostLedger l = st.ledger();
        double recomputed = 0;
        for (CostLedger.Kind k : CostLedger.Kind.values()) recomputed += l.count(k) * m.get(k.param());
        assertThat(l.count(CostLedger.Kind.VHOST_PACKET)).isEqualTo(st.stats().packetsRx + st.stats().packetsTx);
        assertThat(l.total()).isCloseTo(recomputed, org.assertj.core.data.Offset.offset(1e-6 * recomputed));
    }

    @Test
    void everyThreadsClockIsItsBusyTimePlusItsWaits() {
        Stack st = new Stack(stream(Design.D2), Trace.off());
        Simulation.run(st, Chooser.earliest(st), 5_000_000);
        CostLedger l = st.ledger();
        int vcpu = 0;
        int vhost = st.indexOf(st.actors().stream().filter(a -> a.name().equals("vhost")).findFirst().orElseThrow());
        int qemu = st.indexOf(st.actors().stream().filter(a -> a.name().equals("qemu")).findFirst().orElseThrow());
        org.assertj.core.data.Offset<Double> eps = org.assertj.core.data.Offset.offset(1e-3);
        assertThat(l.clock(vcpu) - l.idle(vcpu)).isCloseTo(l.of(CostLedger.Lane.VCPU), eps);
        assertThat(l.clock(vhost) - l.idle(vhost)).isCloseTo(l.of(CostLedger.Lane.VHOST), eps);
        assertThat(l.clock(qemu) - l.idle(qemu)).isCloseTo(l.of(CostLedger.Lane.QEMU), eps);
        assertThat(l.idle(vhost)).as("vhost waits for descriptors, packets and UPDATEs").isPositive();
        assertThat(l.elapsed()).isGreaterThanOrEqualTo(Math.max(l.clock(vcpu), Math.max(l.clock(vhost), l.clock(qemu))));
    }

    @Test
    void theVcpuOfD3bWaitsForQemusAcknowledgementAndPaysForIt() {
        CostSummary a = CostSummary.measure(stream(Design.D3a), "s", CostModel.defaults());
        CostSummary b = CostSummary.measure(stream(Design.D3b), "s", CostModel.defaults());
        assertThat(b.hcallsVirtual()).isEqualTo(a.hcallsVirtual());
        assertThat(b.elapsedNs()).isGreaterThan(a.elapsedNs());
        assertThat(b.gbps()).isLessThan(a.gbps());
        // The wait grows with the eventfd's price in D3b only.
        CostModel slowEventfd = CostModel.defaults().with("eventfd", 30_000);
        assertThat(CostSummary.measure(stream(Design.D3b), "s", slowEventfd).elapsedNs() - b.elapsedNs())
                .isGreaterThan(CostSummary.measure(stream(Design.D3a), "s", slowEventfd).elapsedNs() - a.elapsedNs());
    }

    @Test
    void aRequestResponseTransactionIsOneRoundTrip() {
        StackConfig rr = CostSummary.Workload.TCP_RR.apply(StackConfig.seed().toBuilder().rxPackets(200).txPackets(200).build(), Design.D0);
        CostSummary s = CostSummary.measure(rr, "rr", CostModel.defaults());
        assertThat(s.packets()).isEqualTo(400);
        assertThat(s.transactionNs()).isPositive();
        // A transaction holds the request's way in and the response's way out; they do not overlap.
        assertThat(s.transactionNs()).isGreaterThanOrEqualTo(s.rxLatencyNs() + s.txLatencyNs());
        assertThat(s.elapsedNs()).isCloseTo(200 * s.transactionNs(), org.assertj.core.data.Offset.offset(0.2 * 200 * s.transactionNs()));
    }

    @Test
    void theWireBoundsTheReceiveRate() {
        CostModel free = CostModel.defaults();
        for (String k : CostModel.PARAMS.keySet()) if (!k.equals("wire.byte")) free = free.with(k, 0);
        StackConfig rxOnly = CostSummary.Workload.TCP_STREAM.apply(StackConfig.seed().toBuilder().rxPackets(2000).txPackets(0).build(), Design.D0);
        CostSummary s = CostSummary.measure(rxOnly, "rx", free);
        assertThat(s.gbps()).isLessThanOrEqualTo(10.0).isGreaterThan(9.0);
    }

    @Test
    void aRunsTotalIsTheSumOfItsStepsCosts() {
        Stack st = new Stack(stream(Design.D1), Trace.off());
        Simulation.run(st, Chooser.earliest(st), 5_000_000);
        CostLedger l = st.ledger();
        assertThat(l.total()).isPositive();
        assertThat(l.sumOfSteps()).isCloseTo(l.total(), org.assertj.core.data.Offset.offset(1e-6 * l.total()));
        double byKind = 0;
        for (CostLedger.Kind k : CostLedger.Kind.values()) byKind += l.of(k);
        double byLane = 0;
        for (CostLedger.Lane ln : CostLedger.Lane.values()) byLane += l.of(ln);
        assertThat(byKind).isCloseTo(l.total(), org.assertj.core.data.Offset.offset(1e-6 * l.total()));
        assertThat(byLane).isCloseTo(l.total(), org.assertj.core.data.Offset.offset(1e-6 * l.total()));
    }

    @Test
    void eachHypercallIsChargedForThePathItTook() {
        CostModel m = CostModel.defaults();
        Stack st = new Stack(stream(Design.D2), Trace.off(), m);
        Simulation.run(st, Chooser.seeded(1), 5_000_000);
        Stats s = st.stats();
        CostLedger l = st.ledger();
        // D2: every TCE hypercall exits to QEMU after real and virtual mode handed it on: an unmap for each of the 1000
        // packets, and a map for each buffer posted (those still posted at the end included).
        long exits = s.hcalls(HcallPath.QEMU);
        assertThat(s.hcalls(Hcall.H_STUFF_TCE, HcallPath.QEMU)).isEqualTo(1000);
        assertThat(exits).isEqualTo(s.hcalls(Hcall.H_STUFF_TCE, HcallPath.QEMU) + s.hcalls(Hcall.H_PUT_TCE, HcallPath.QEMU)
                + s.hcalls(Hcall.H_PUT_TCE_INDIRECT, HcallPath.QEMU));
        assertThat(s.hcalls(HcallPath.REAL_MODE) + s.hcalls(HcallPath.VIRTUAL_MODE)).as("the rings' maps at boot, before vhost's notifier moved the table").isEqualTo(2);
        assertThat(l.count(CostLedger.Kind.EXIT_QEMU)).isEqualTo(exits);
        assertThat(l.of(CostLedger.Kind.EXIT_QEMU)).isEqualTo(exits * m.get("exit.qemu"));
        assertThat(l.of(CostLedger.Kind.HCALL_REAL)).isEqualTo(exits * m.get("hcall.realmode"));
        assertThat(l.of(CostLedger.Kind.INVALIDATE)).isEqualTo(s.invalidates * m.get("iotlb.invalidate"));
        // vhost copies the packets with their 12-byte virtio-net headers.
        assertThat(l.of(CostLedger.Kind.COPY)).isCloseTo(1000 * (1500 + 12) * m.get("copy.byte"), org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void aDesignThatMovesHypercallsToQemuShowsItInTheCounts() {
        CostSummary d0 = CostSummary.measure(stream(Design.D0), "s", CostModel.defaults());
        CostSummary d1 = CostSummary.measure(stream(Design.D1), "s", CostModel.defaults());
        CostSummary d2 = CostSummary.measure(stream(Design.D2), "s", CostModel.defaults());
        assertThat(d0.exitsPerPacket()).isZero();
        // D1: the clears exit (one per packet); D2: the clears and every map (a buffer a packet, and the ring's fill).
        assertThat(d1.exitsPerPacket()).isEqualTo(1.0);
        assertThat(d2.exitsPerPacket()).isGreaterThan(2.0).isLessThan(2.6);
        // Every exit costs: both designs that exit spend more per packet than the one that does not.
        assertThat(d1.cpuNsPerPacket()).isGreaterThan(d0.cpuNsPerPacket());
        assertThat(d2.cpuNsPerPacket()).isGreaterThan(d0.cpuNsPerPacket());
    }

    @Test
    void overridesTakeEffect() {
        CostModel slowMiss = CostModel.defaults().with("iotlb.miss", 150_000);
        CostSummary base = CostSummary.measure(stream(Design.D2), "s", CostModel.defaults());
        CostSummary slow = CostSummary.measure(stream(Design.D2), "s", slowMiss);
        assertThat(slow.gbps()).isLessThan(base.gbps());
        // The overridden price is the one charged, for every MISS QEMU woke up for.
        Stack st = new Stack(stream(Design.D2), Trace.off(), slowMiss);
        Simulation.run(st, Chooser.earliest(st), 5_000_000);
        CostLedger l = st.ledger();
        assertThat(l.count(CostLedger.Kind.IOTLB_MISS)).isPositive();
        assertThat(l.of(CostLedger.Kind.IOTLB_MISS)).isEqualTo(l.count(CostLedger.Kind.IOTLB_MISS) * 150_000.0);
        assertThat(l.count(CostLedger.Kind.IOTLB_MISS) + l.count(CostLedger.Kind.IOTLB_MISS_QUEUED)).isEqualTo(st.stats().missesRead);
    }

    @Test
    void everyParameterSaysWhereItsDefaultComesFrom() {
        assertThat(CostModel.PARAMS).isNotEmpty();
        CostModel.PARAMS.values().forEach(p -> assertThat(p.source()).satisfiesAnyOf(
                s -> assertThat(s).startsWith("estimate: "), s -> assertThat(s).startsWith("derived from ")));
        assertThat(CostModel.PARAMS.get("tce.kill").source()).contains("Invalidate multiple TCEs at once");
    }

    @Test
    void badOverridesAreRejectedWithTheirName() {
        assertThatThrownBy(() -> CostModel.defaults().with("nope", 1)).hasMessageContaining("unknown cost parameter 'nope'");
        assertThatThrownBy(() -> CostModel.defaults().with("eventfd", -1)).hasMessageContaining("'eventfd'");
        assertThatThrownBy(() -> CostModel.defaults().with("eventfd", Double.NaN)).hasMessageContaining("'eventfd'");
    }
}
