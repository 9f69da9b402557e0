package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import tcesim.guest.FirmwareFeatures;
import tcesim.sim.Chooser;
import tcesim.sim.Design;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * Every design's verdict on the small configuration, pinned once established: a 64 KiB window (IOVAs come
 * back at once), 8 vhost IOTLB entries, 2-entry rings, 2 RX and 1 TX packets, one vCPU, no kernel churn.
 */
class StackCheckTest {
    static final FirmwareFeatures LINUX = FirmwareFeatures.MULTI_TCE;

    static StackConfig small(Design d, FirmwareFeatures fw) {
        return d.applyTo(StackConfig.seed().toBuilder().ramBytes(16L << 20).windowBytes(64L << 10).maxIotlbEntries(8).ringSize(2)
                .rxPackets(2).txPackets(1).kernelChurn(false).fw(fw).build());
    }

    static Checker.Result check(StackConfig c, boolean reduce) {
        return new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(1_000_000, 1, reduce, null)).run();
    }

    /** design -> choices in the shortest counterexample, or 0 for safe */
    static final Map<Design, Integer> LINUX_VERDICTS = Map.of(
            Design.D0, 11, Design.D1, 0, Design.D2, 0, Design.D3a, 11, Design.D3b, 0, Design.D4, 14, Design.D4k, 14, Design.V, 0);

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("tcesim.testutil.NamedDesigns#all")
    void verdictForTheLinuxGuest(Design d) {
        Checker.Result r = check(small(d, LINUX), true);
        int expected = LINUX_VERDICTS.get(d);
        if (expected == 0) {
            assertThat(r.verdict()).as("%s", d).isEqualTo(Checker.Verdict.SAFE);
            assertThat(r.terminals()).isPositive();
        } else {
            assertThat(r.verdict()).as("%s", d).isEqualTo(Checker.Verdict.UNSAFE);
            assertThat(r.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
            assertThat(r.choices()).hasSize(expected);
        }
    }

    /**
     * The seed's crash with receive traffic alone: an RX buffer cut from a page fragment straddles two TCEs, the guest
     * clears them after the packet and maps the second IOVA again to the next 4 KiB of the fragment's page, and vhost
     * writes the next packet's tail through its old translation. The refill and reap order comes from the guest's
     * choices (interrupt, NAPI poll, the application reading its socket), not from one fixed order.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("tcesim.testutil.NamedDesigns#vhostOnes")
    void receiveTrafficAloneBreaksTheDesignsThatLoseTheClear(Design d) {
        Checker.Result r = check(small(d, LINUX).toBuilder().rxPackets(3).txPackets(0).build(), true);
        boolean unsafe = d == Design.D0 || d == Design.D3a || d == Design.D4 || d == Design.D4k;
        assertThat(r.verdict()).as("%s", d).isEqualTo(unsafe ? Checker.Verdict.UNSAFE : Checker.Verdict.SAFE);
        if (unsafe) {
            assertThat(r.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
            assertThat(r.violation().access()).as("a write into an RX buffer").startsWith("write vq0 ");
        }
        Checker.Result two = check(small(d, LINUX).toBuilder().rxPackets(2).txPackets(0).build(), true);
        assertThat(two.verdict()).as("two packets on a 2-entry ring never reach a re-mapped IOVA").isEqualTo(Checker.Verdict.SAFE);
    }

    /**
     * A KVM host that is itself a pseries guest reports KVM_CAP_SPAPR_TCE_VFIO only from b4392813bbc3 (v6.15): before,
     * QEMU moves the table out of KVM when vhost registers its notifier, and the seed's bug cannot happen; on the
     * current era the table stays in KVM and it can.
     */
    @Test
    void aNestedPseriesHostHasTheSeedsBugOnlyOnceItReportsTceVfio() {
        for (tcesim.kvm.HostCaps.HostKernel k : tcesim.kvm.HostCaps.HostKernel.values()) {
            StackConfig c = small(Design.D0, LINUX).toBuilder().host(tcesim.kvm.HostCaps.NESTED_PSERIES.withKernel(k)).build();
            assertThat(c.host().spaprTceVfio()).isEqualTo(k == tcesim.kvm.HostCaps.HostKernel.CURRENT);
            assertThat(check(c, true).verdict()).as("%s", k)
                    .isEqualTo(k == tcesim.kvm.HostCaps.HostKernel.CURRENT ? Checker.Verdict.UNSAFE : Checker.Verdict.SAFE);
        }
    }

    /**
     * QEMU master early in 2021 (b68ba1ca5767 to 1a8e22bd20c2, no release): vhost hears no UNMAP, the designs that count on
     * QEMU's notifier break; D3b's eventfd path does not. (5.2 itself is as 4.2: the history command checks D2 on it.)
     */
    @Test
    void onQemu60DevOnlyTheEventfdThatWaitsKeepsVhostInStep() {
        for (Design d : new Design[] {Design.D1, Design.D2, Design.D3b}) {
            StackConfig c = small(d, LINUX).toBuilder().qemu(tcesim.qemu.QemuVersion.Q6_0_DEV).build();
            assertThat(check(c, true).verdict()).as("%s", d).isEqualTo(d == Design.D3b ? Checker.Verdict.SAFE : Checker.Verdict.UNSAFE);
        }
    }

    @Test
    void d1IsUnsafeForAGuestWithoutStuffTce() {
        Checker.Result r = check(small(Design.D1, new FirmwareFeatures(true, false, false, true)), true);
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(r.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
        Checker.Result rxOnly = check(small(Design.D1, new FirmwareFeatures(true, false, false, true)).toBuilder().rxPackets(3).txPackets(0).build(), true);
        assertThat(rxOnly.verdict()).as("with receive traffic alone").isEqualTo(Checker.Verdict.UNSAFE);
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"D1", "D2", "D3b"})
    void aGuestThatOverwritesWithoutClearingBreaksTheUnmapOnlyDesigns(String name) {
        Design d = Design.valueOf(name);
        Checker.Result r = check(small(d, new FirmwareFeatures(true, true, false, false)), true);
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(r.violation().why()).startsWith("the guest's TCE maps this IOVA to gpa");
    }

    /**
     * D4 invalidates vhost from inside KVM, outside QEMU's BQL, so nothing orders it against QEMU answering a MISS: the
     * guest's kick and the tap's wake-up both queued handle_rx before it ran, so it runs twice and queues a MISS each time;
     * QEMU translates the second copy, KVM clears and re-maps the IOVA (invalidating nothing the IOTLB holds), and the late
     * UPDATE installs the old translation.
     */
    @Test
    void d4LosesTheRaceWithALateAnswerToADuplicateMiss() {
        StackConfig c = small(Design.D4, LINUX);
        Checker.Result r = check(c, true);
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        Trace t = new Trace();
        Stack st = new Stack(c, t);
        Simulation.run(st, Chooser.scripted(r.choices()), 10_000);
        List<String> h = t.historyOfIova(st.oracles().first().iova()).stream().map(e -> e.actor() + ":" + e.action()).toList();
        assertThat(h.stream().filter(a -> a.equals("vhost:iotlb-miss")).count()).as("two MISSes for the IOVA").isGreaterThanOrEqualTo(2);
        int lastInvalidate = h.lastIndexOf("kvm:invalidate");
        int lastUpdate = h.lastIndexOf("qemu:update");
        assertThat(lastUpdate).as("the UPDATE lands after KVM's last invalidation").isGreaterThan(lastInvalidate);
        assertThat(h.get(h.size() - 1)).startsWith("vhost:");
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"D0", "D2", "D3a", "D4"})
    void theStackDeclaresNoIndependentActorSoTheReductionChangesNothing(String name) {
        Design d = Design.valueOf(name);
        // A packet's arrival wakes vhost's RX queue, so the network is not independent (see Stack): the reduced search is the full one.
        assertThat(new Stack(small(d, LINUX), Trace.off()).independentActor()).isNull();
        Checker.Result reduced = check(small(d, LINUX), true);
        Checker.Result full = check(small(d, LINUX), false);
        assertThat(reduced.verdict()).isEqualTo(full.verdict());
        assertThat(reduced.distinct()).isEqualTo(full.distinct());
        if (full.choices() != null) assertThat(reduced.choices()).containsExactly(full.choices());
    }

    /** The stack as a model that always restores in full (its restoreChanged is the interface's default, a restore). */
    record FullRestore(Stack s) implements tcesim.sim.Model {
        public void enabledSteps(tcesim.sim.StepList out) { s.enabledSteps(out); }
        public Violation violation() { return s.violation(); }
        public Violation violation(java.util.Set<Violation.Property> of) { return s.violation(of); }
        public boolean done() { return s.done(); }
        public Violation stuck() { return s.stuck(); }
        public void save(tcesim.state.StateWriter out) { s.save(out); }
        public void restore(tcesim.state.StateReader in) { s.restore(in); }
    }

    /** Putting a state back by restoring only the components its successor changed explores exactly the graph full restores do. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("tcesim.testutil.NamedDesigns#all")
    void restoringOnlyChangedComponentsExploresTheSameStates(Design d) {
        StackConfig c = small(d, LINUX);
        Checker.Result changed = check(c, true);
        Checker.Result full = new Checker(() -> new FullRestore(new Stack(c, Trace.off())), new Checker.Options(1_000_000, 1, true, null)).run();
        assertThat(changed.verdict()).isEqualTo(full.verdict());
        assertThat(changed.generated()).isEqualTo(full.generated());
        assertThat(changed.distinct()).isEqualTo(full.distinct());
        assertThat(changed.terminals()).isEqualTo(full.terminals());
        assertThat(changed.depth()).isEqualTo(full.depth());
        if (full.choices() != null) assertThat(changed.choices()).containsExactly(full.choices());
    }

    @Test
    void theCounterexampleReplaysAsASimulation() {
        StackConfig c = small(Design.D0, LINUX);
        Checker.Result r = check(c, true);
        Stack st = new Stack(c, new Trace());
        Simulation.Result sim = Simulation.run(st, Chooser.scripted(r.choices()), 10_000);
        assertThat(sim.violation()).isNotNull();
        assertThat(sim.violation().property()).isEqualTo(r.violation().property());
        assertThat(sim.violation().iova()).isEqualTo(r.violation().iova());
    }

    @Test
    void twoWorkersGiveTheSameCounterexample() {
        StackConfig c = small(Design.D3a, LINUX);
        Checker.Result one = check(c, true);
        Checker.Result two = new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(1_000_000, 2, true, null)).run();
        assertThat(two.choices()).containsExactly(one.choices());
        assertThat(two.distinct()).isEqualTo(one.distinct());
    }

    // ---- the mutations of the stack issue, through the checker ----

    @Test
    void droppingQemusInvalidateIsCaughtUnderD2() {
        StackConfig c = small(Design.D2, LINUX).withFaults(StackConfig.Faults.of(StackConfig.Fault.DROP_INVALIDATE));
        assertThat(check(c, true).verdict()).isEqualTo(Checker.Verdict.UNSAFE);
    }

    @Test
    void skippingTheTceKillIsCaughtUnderV() {
        StackConfig c = small(Design.V, LINUX).toBuilder().passthroughPackets(4).faults(StackConfig.Faults.of(StackConfig.Fault.SKIP_TCE_KILL)).build();
        Checker.Result r = check(c, true);
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(r.violation().actor()).isEqualTo("vfio-dev");
        assertThat(check(c.withFaults(StackConfig.Faults.NONE), true).verdict()).isEqualTo(Checker.Verdict.SAFE);
    }

    @Test
    void skippingTheVirtqueueMutexIsCaughtWhenTheGuestTakesABufferBack() {
        StackConfig c = small(Design.D2, LINUX).toBuilder().rxPackets(2).txPackets(0).rxRevokes(1).build();
        Checker.Result all = check(c, true);
        assertThat(all.violation().property()).as("with the mutex the taken-back buffer stalls the queue").isEqualTo(Violation.Property.PROGRESS);
        java.util.Set<Violation.Property> safety = java.util.EnumSet.of(Violation.Property.STALE_ACCESS, Violation.Property.CORRUPTION, Violation.Property.ISOLATION);
        Checker.Result locked = new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(1_000_000, 1, true, null, safety)).run();
        assertThat(locked.verdict()).isEqualTo(Checker.Verdict.SAFE);
        StackConfig unlockedCfg = c.withFaults(StackConfig.Faults.of(StackConfig.Fault.SKIP_VQ_LOCK));
        Checker.Result unlocked = new Checker(() -> new Stack(unlockedCfg, Trace.off()), new Checker.Options(1_000_000, 1, true, null, safety)).run();
        assertThat(unlocked.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(unlocked.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
        assertThat(unlocked.violation().why()).isEqualTo("the guest's TCE for this IOVA is clear");
    }

    /** A guest that takes a posted RX buffer back breaks the vhost designs, each in its own way (safety properties only). */
    @Test
    void aGuestThatTakesABufferBackBreaksD4ThroughTheMissRaceAndD2ThroughAnRwEntryForAnRoTce() {
        java.util.Set<Violation.Property> safety = java.util.EnumSet.of(Violation.Property.STALE_ACCESS, Violation.Property.CORRUPTION, Violation.Property.ISOLATION);
        StackConfig d4 = small(Design.D4, LINUX).toBuilder().txPackets(2).rxRevokes(1).build();
        Checker.Result r4 = new Checker(() -> new Stack(d4, Trace.off()), new Checker.Options(1_000_000, 1, true, null, safety)).run();
        assertThat(r4.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
        Stack st = new Stack(d4, new Trace());
        Simulation.run(st, Chooser.scripted(r4.choices()), 10_000);
        java.util.List<String> actions = st.trace().historyOfIova(r4.violation().iova()).stream().map(tcesim.sim.Event::action).toList();
        // QEMU translated before KVM cleared the entry, and its UPDATE came after.
        assertThat(actions.lastIndexOf("translate")).isLessThan(actions.lastIndexOf("H_STUFF_TCE"));
        assertThat(actions.lastIndexOf("H_STUFF_TCE")).isLessThan(actions.lastIndexOf("update"));

        StackConfig d2 = small(Design.D2, LINUX).toBuilder().txPackets(2).rxRevokes(1).build();
        Checker.Result r2 = new Checker(() -> new Stack(d2, Trace.off()), new Checker.Options(1_000_000, 1, true, null, safety)).run();
        assertThat(r2.violation().why()).isEqualTo("the guest's TCE allows R- only");
    }
}
