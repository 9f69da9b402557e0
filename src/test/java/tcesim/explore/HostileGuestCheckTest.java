package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tcesim.guest.HostileHcall;
import tcesim.kvm.HostCaps;
import tcesim.sim.Chooser;
import tcesim.sim.Design;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * A hostile guest (one call of {@link HostileHcall}'s adversarial set at any point of its traffic), checked for what
 * the host owes it whatever it does: its own memory (isolation) and the host's (host memory). One packet each way, on a
 * 32 MiB window of 4 KiB TCEs: 8192 entries, one whole KVM table page, so that an entry past the window is past
 * {@code stt->pages[]} (on a smaller window it lies in the slack of KVM's own page).
 */
class HostileGuestCheckTest {
    static StackConfig hostile(Design d, HostCaps.HostKernel k) {
        return d.applyTo(StackConfig.seed().toBuilder().ramBytes(16L << 20).windowBytes(32L << 20).maxIotlbEntries(8).ringSize(2)
                .rxPackets(1).txPackets(1).kernelChurn(false).hostileGuest(true).host(HostCaps.POWERNV_HV.withKernel(k)).build());
    }

    static Checker.Result check(StackConfig c) {
        return new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(1_000_000, 1, true, null, c.defaultProperties())).run();
    }

    @Test
    void aHostileGuestWatchesWhatTheHostOwesIt() {
        assertThat(hostile(Design.D0, HostCaps.HostKernel.K2019).defaultProperties())
                .containsExactlyInAnyOrder(Violation.Property.HOST_MEMORY, Violation.Property.ISOLATION);
        assertThat(StackConfig.seed().defaultProperties()).containsExactlyInAnyOrder(Violation.Property.values());
    }

    /** On a 2019 kernel the guest's first move can be a clear running past the window: KVM writes host memory. */
    @Test
    void on2019KernelsTheHostileGuestReachesHostMemoryThroughKvm() {
        StackConfig c = hostile(Design.D0, HostCaps.HostKernel.K2019);
        Checker.Result r = check(c);
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(r.violation().property()).isEqualTo(Violation.Property.HOST_MEMORY);
        Trace t = new Trace();
        Stack st = new Stack(c, t);
        Simulation.run(st, Chooser.scripted(r.choices()), 10_000);
        assertThat(st.violation()).isNotNull();
        assertThat(st.violation().access()).contains("TCE table entry 0x2000 through stt->pages[1], past the array");
    }

    /** A current kernel checks every entry; with the table in QEMU (D2) QEMU checks each entry itself: nothing reaches the host. */
    @Test
    void onACurrentKernelOrWithTheTableInQemuNothingReachesTheHost() {
        assertThat(check(hostile(Design.D0, HostCaps.HostKernel.CURRENT)).verdict()).isEqualTo(Checker.Verdict.SAFE);
        assertThat(check(hostile(Design.D2, HostCaps.HostKernel.K2019)).verdict()).isEqualTo(Checker.Verdict.SAFE);
    }

    /**
     * The oracle's power to fail: an off-by-one planted in the bound check of KVM's handlers (current kernel, table in
     * KVM) or of QEMU's (D2, table in QEMU) lets the hostile guest's clear of two entries from the window's last write
     * one entry past the table, and the check must say so, naming the component and the bound.
     */
    @Test
    void anOutOfBoundsIndexPlantedInAHandlerIsCaught() {
        StackConfig kvm = hostile(Design.D0, HostCaps.HostKernel.CURRENT).withFaults(StackConfig.Faults.of(StackConfig.Fault.KVM_IOBA_BOUND_ONE_PAST));
        assertCaught(kvm, "kvm", "H_STUFF_TCE writes TCE table entry 0x2000", "the window has 0x2000 entries");
        StackConfig qemu = hostile(Design.D2, HostCaps.HostKernel.CURRENT).withFaults(StackConfig.Faults.of(StackConfig.Fault.QEMU_INDEX_BOUND_ONE_PAST));
        assertCaught(qemu, "qemu", "put_tce_emu writes tcet->table[0x2000]", "nb_table = 0x2000");
    }

    private static void assertCaught(StackConfig c, String who, String access, String bound) {
        Checker.Result r = check(c);
        assertThat(r.verdict()).as(who).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(r.violation().property()).isEqualTo(Violation.Property.HOST_MEMORY);
        assertThat(r.violation().actor()).isEqualTo(who);
        assertThat(r.violation().access()).contains(access);
        assertThat(r.violation().why()).contains(bound);
    }

    /** Every call of the set is offered between the driver's activities, once the driver is open; after one is made none is again. */
    @Test
    void theGuestMakesOneHostileCallAtMost() {
        StackConfig c = hostile(Design.D2, HostCaps.HostKernel.CURRENT);
        Stack st = new Stack(c, Trace.off());
        tcesim.sim.StepList steps = new tcesim.sim.StepList();
        int first = -1;
        for (int n = 0; n < 100 && first < 0; n++) {
            steps.clear();
            st.enabledSteps(steps);
            int hostile = 0;
            for (int i = 0; i < steps.size(); i++) {
                if (!steps.describe(i).contains("hostile-")) continue;
                hostile++;
                if (first < 0) first = i;
            }
            if (first >= 0) assertThat(hostile).isEqualTo(HostileHcall.values().length);
            else Simulation.run(st, Chooser.scripted(new int[] {0}), 1);
        }
        assertThat(first).as("offered once the driver is open").isNotNegative();
        Simulation.run(st, Chooser.scripted(new int[] {first}), 1);
        for (int n = 0; n < 50 && !st.done(); n++) {
            steps.clear();
            st.enabledSteps(steps);
            for (int i = 0; i < steps.size(); i++) assertThat(steps.describe(i)).doesNotContain("hostile-");
            Simulation.run(st, Chooser.scripted(new int[] {0}), 1);
        }
    }
}
