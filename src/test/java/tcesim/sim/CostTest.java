package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import tcesim.kvm.HcallPath;
import tcesim.report.CostSummary;

class CostTest {
    static StackConfig stream(Design d) {
        return CostSummary.Workload.TCP_STREAM.apply(StackConfig.seed().toBuilder().rxPackets(500).txPackets(500).build(), d);
    }

    @Test
    void aRunsTotalIsTheSumOfItsStepsCosts() {
        Stack st = new Stack(stream(Design.D1), Trace.off());
        Simulation.run(st, Chooser.seeded(1), 5_000_000);
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
        // D2: every TCE hypercall (a map and an unmap for each of the 1000 packets) exits to QEMU after real and virtual mode handed it on.
        assertThat(s.hcalls(HcallPath.QEMU)).isEqualTo(2 * 1000);
        assertThat(l.count(CostLedger.Kind.EXIT_QEMU)).isEqualTo(s.hcalls(HcallPath.QEMU));
        assertThat(l.of(CostLedger.Kind.EXIT_QEMU)).isEqualTo(2000 * m.get("exit.qemu"));
        assertThat(l.of(CostLedger.Kind.HCALL_REAL)).isEqualTo(2000 * m.get("hcall.realmode"));
        assertThat(l.of(CostLedger.Kind.INVALIDATE)).isEqualTo(s.invalidates * m.get("iotlb.invalidate"));
        assertThat(l.of(CostLedger.Kind.COPY)).isCloseTo(1000 * 1500 * m.get("copy.byte"), org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void aDesignThatMovesHypercallsToQemuShowsItInTheCounts() {
        CostSummary d0 = CostSummary.measure(stream(Design.D0), "s", CostModel.defaults(), 1);
        CostSummary d1 = CostSummary.measure(stream(Design.D1), "s", CostModel.defaults(), 1);
        CostSummary d2 = CostSummary.measure(stream(Design.D2), "s", CostModel.defaults(), 1);
        assertThat(d0.exitsPerPacket()).isZero();
        assertThat(d1.exitsPerPacket()).isEqualTo(1.0);
        assertThat(d2.exitsPerPacket()).isEqualTo(2.0);
        assertThat(d2.nsPerPacket()).isGreaterThan(d1.nsPerPacket()).isGreaterThan(d0.nsPerPacket());
    }

    @Test
    void overridesTakeEffect() {
        CostModel slowMiss = CostModel.defaults().with("iotlb.miss", 150_000);
        CostSummary base = CostSummary.measure(stream(Design.D2), "s", CostModel.defaults(), 1);
        CostSummary slow = CostSummary.measure(stream(Design.D2), "s", slowMiss, 1);
        assertThat(slow.iotlbMisses()).isEqualTo(base.iotlbMisses());
        assertThat(slow.totalNs() - base.totalNs()).isCloseTo(base.iotlbMisses() * 135_000.0, org.assertj.core.data.Offset.offset(1.0));
        assertThat(slow.gbps()).isLessThan(base.gbps());
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
