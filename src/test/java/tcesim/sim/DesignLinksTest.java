package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tcesim.kvm.HcallPath;
import tcesim.kvm.IotlbEventfd;
import tcesim.kvm.VhostIotlbLink;
import tcesim.papr.Hcall;

/** Designs D3a, D3b, D4 and V wired into the stack: where the hypercalls go and who invalidates vhost. */
class DesignLinksTest {
    static StackConfig cfg(Design d) {
        return d.applyTo(StackConfig.seed().toBuilder().maxIotlbEntries(32768).rxPackets(2000).txPackets(2000).build());
    }

    static Stack run(Design d, long seed, Trace t) {
        Stack st = new Stack(cfg(d), t);
        Simulation.Result r = Simulation.run(st, Chooser.seeded(seed), 5_000_000);
        assertThat(r.violation()).as("%s seed %d", d, seed).isNull();
        assertThat(r.end()).isEqualTo(Simulation.End.DONE);
        return st;
    }

    @Test
    void d4AttachesAVhostLinkThatRealModeCannotDriveAndInvalidatesEveryChange() {
        Stack st = run(Design.D4, 1, Trace.hashOnly());
        assertThat(st.kvm().table(Stack.LIOBN).attached()).singleElement().isInstanceOf(VhostIotlbLink.class);
        Stats s = st.stats();
        assertThat(s.hcalls(Hcall.H_STUFF_TCE, HcallPath.REAL_MODE)).isZero();
        assertThat(s.hcalls(Hcall.H_STUFF_TCE, HcallPath.VIRTUAL_MODE)).as("one clear per packet each way").isEqualTo(4000);
        assertThat(s.exits()).isZero();
        VhostIotlbLink link = (VhostIotlbLink) st.kvm().table(Stack.LIOBN).attached().get(0);
        // One invalidation per hypercall that wrote entries (its whole range at once): every map and every clear but the
        // rings' two maps at boot, made before QEMU linked vhost to the table.
        long writes = s.hcalls(Hcall.H_PUT_TCE, HcallPath.VIRTUAL_MODE) + s.hcalls(Hcall.H_PUT_TCE_INDIRECT, HcallPath.VIRTUAL_MODE)
                + s.hcalls(Hcall.H_STUFF_TCE, HcallPath.VIRTUAL_MODE);
        assertThat(link.invalidations()).isEqualTo(writes - 2);
    }

    @Test
    void d4kInvalidatesTheKillsRangesAndSoMissesTheEntriesA2019StuffCleared() {
        Stack st = new Stack(cfg(Design.D4k), Trace.hashOnly());
        VhostIotlbLink link = (VhostIotlbLink) st.kvm().table(Stack.LIOBN).attached().get(0);
        long ring = st.driver().rx().ringIova();
        st.vhost().writeMsg(tcesim.vhost.IotlbMsg.update(0x100000, 0x1000, st.memory().gpaToHva(0x200000), tcesim.vhost.IotlbMsg.RW));
        tcesim.papr.HcallRegs r = new tcesim.papr.HcallRegs().set(Hcall.H_STUFF_TCE, Stack.LIOBN, 0x100000, 0, 1);
        st.kvm().hcall(r);
        assertThat(r.r3).isEqualTo(Hcall.H_SUCCESS);
        // 2019: the kill covers the entry after the cleared one, so vhost keeps 0x100000.
        assertThat(st.vhost().iotlb().lookup(0x100000)).isNotNull();
        assertThat(link.invalidations()).isPositive();
        assertThat(ring).isNotZero();
        // D4's link invalidates what the call wrote.
        Stack d4 = new Stack(cfg(Design.D4), Trace.hashOnly());
        d4.vhost().writeMsg(tcesim.vhost.IotlbMsg.update(0x100000, 0x1000, d4.memory().gpaToHva(0x200000), tcesim.vhost.IotlbMsg.RW));
        d4.kvm().hcall(new tcesim.papr.HcallRegs().set(Hcall.H_STUFF_TCE, Stack.LIOBN, 0x100000, 0, 1));
        assertThat(d4.vhost().iotlb().lookup(0x100000)).isNull();
    }

    @Test
    void d3aQueuesEveryClearedRangeAndQemuForwardsThem() {
        Stack st = run(Design.D3a, 1, Trace.hashOnly());
        IotlbEventfd e = st.eventfd();
        assertThat(e.synchronous()).isFalse();
        assertThat(e.queued()).as("one range per clear").isEqualTo(st.stats().hcalls(Hcall.H_STUFF_TCE, HcallPath.VIRTUAL_MODE));
        // Asynchronous: the run may end with ranges still queued; every range QEMU read was forwarded, and QEMU's main
        // loop forwards the rest.
        assertThat(e.acked()).isLessThanOrEqualTo(e.queued());
        assertThat(st.stats().invalidates).isEqualTo(e.acked());
        StepList steps = new StepList();
        while (e.signaled()) {
            st.qemuLoop().enabledSteps(steps);
            st.qemuLoop().step(steps.kind(0));
            steps.clear();
        }
        assertThat(e.acked()).isEqualTo(e.queued());
        assertThat(st.stats().invalidates).isEqualTo(e.queued());
        assertThat(st.stats().exits()).isZero();
    }

    @Test
    void d3bMakesTheVcpuWaitForQemusAcknowledgement() {
        Trace t = new Trace(1 << 20, 4);
        Stack st = run(Design.D3b, 1, t);
        assertThat(t.recent()).anySatisfy(ev -> assertThat(ev.action()).isEqualTo("wait-ack"));
        long clears = st.stats().hcalls(Hcall.H_STUFF_TCE, HcallPath.VIRTUAL_MODE);
        assertThat(t.recent().stream().filter(ev -> ev.action().equals("wait-ack")).count()).isEqualTo(clears);
        assertThat(st.stats().invalidates).isEqualTo(clears);
    }

    @Test
    void vRunsTheTrafficThroughThePassthroughNic() {
        Stack st = run(Design.V, 1, Trace.hashOnly());
        assertThat(st.passthroughDriver().delivered()).as("the RX and TX packets, all through the NIC").isEqualTo(4000);
        assertThat(st.stats().packetsRx).isZero();
        assertThat(st.vfio().kills()).isGreaterThanOrEqualTo(8000);
    }

    @Test
    void withTheTableInQemuTheLinksAreNotSetUp() {
        Stack st = new Stack(cfg(Design.D4).withHost(tcesim.kvm.HostCaps.NO_VFIO_TCE), Trace.hashOnly());
        assertThat(st.spapr().table(Stack.LIOBN).inKernel()).isFalse();
        assertThat(st.kvm().table(Stack.LIOBN)).isNull();
    }

    /** A guest that never clears and overwrites valid TCEs: UNMAP-only notifiers never hear of it; only D4's link, which acts on every change, keeps vhost right. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"D1", "D2", "D3a", "D3b", "D4"})
    void overwritingAValidTceWithoutAClearIsSafeOnlyWithD4(String name) {
        Design d = Design.valueOf(name);
        StackConfig c = d.applyTo(StackConfig.seed().toBuilder().maxIotlbEntries(32768)
                .fw(new tcesim.guest.FirmwareFeatures(true, true, false, false)).build());
        Stack st = new Stack(c, Trace.hashOnly());
        Simulation.Result r = Simulation.run(st, Chooser.seeded(1), 5_000_000);
        if (d == Design.D4) {
            assertThat(r.violation()).isNull();
            assertThat(st.stats().hcalls(Hcall.H_STUFF_TCE, HcallPath.VIRTUAL_MODE)).isZero();
        } else {
            assertThat(r.violation()).isNotNull();
            assertThat(r.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
            assertThat(r.violation().why()).startsWith("the guest's TCE maps this IOVA to gpa");
        }
    }
}
