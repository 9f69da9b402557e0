package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import tcesim.kvm.HcallPath;
import tcesim.kvm.HostCaps;
import tcesim.papr.Hcall;
import tcesim.qemu.IommuTlbEvent;

/**
 * The seed's crash (D0 on a PowerNV host: the table in KVM, in-kernel clears never reach vhost) and its
 * clean counterpart (a host without KVM_CAP_SPAPR_TCE_VFIO: the table moves to QEMU, every clear is an
 * INVALIDATE), and the oracle's power to catch a dropped INVALIDATE.
 */
class CrashTest {

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void d0OnPowerNvReadsOrWritesThroughAStaleIotlbEntry(long seed) {
        Runs.Run run = Runs.run(Runs.CRASH, seed);
        Violation v = run.violation();

        assertThat(run.result().end()).isEqualTo(Simulation.End.VIOLATION);
        assertThat(v).isNotNull();
        assertThat(v.property()).isIn(Violation.Property.STALE_ACCESS, Violation.Property.CORRUPTION);
        assertThat(v.actor()).isEqualTo("vhost");
        assertThat(v.iova()).isNotNegative();
        assertThat(v.step()).isEqualTo(run.result().steps());

        // The table in QEMU's view (the shared KVM table) maps the IOVA elsewhere now.
        IommuTlbEvent now = run.stack().spapr().table(Stack.LIOBN).translate(v.iova());
        assertThat(now).isNotNull();
        assertThat(now.translatedAddr() & ~0xfffL).isNotEqualTo(v.gpa() & ~0xfffL);

        // Its history: vhost got an UPDATE for it, then the guest cleared it in KVM (nobody told vhost).
        List<Event> h = run.stack().trace().historyOfIova(v.iova());
        Event update = h.stream().filter(e -> e.actor().equals("qemu") && e.action().equals("update")).findFirst().orElse(null);
        assertThat(update).as("a vhost UPDATE in %s", h).isNotNull();
        Event clear = h.stream()
                .filter(e -> e.action().equals("H_STUFF_TCE") && e.step() > update.step() && e.step() < v.step())
                .filter(e -> e.detail().endsWith("[real mode]") || e.detail().endsWith("[virtual mode]"))
                .findFirst().orElse(null);
        assertThat(clear).as("an in-kernel H_STUFF_TCE after the UPDATE in %s", h).isNotNull();
        assertThat(h).noneMatch(e -> e.action().equals("invalidate"));
        assertThat(update.gpa() & ~0xfffL).isEqualTo(v.gpa() & ~0xfffL);

        Stats s = run.stats();
        assertThat(s.invalidates).isZero();
        assertThat(s.hcalls(Hcall.H_STUFF_TCE, HcallPath.QEMU)).isZero();
        assertThat(s.hcalls(Hcall.H_STUFF_TCE, HcallPath.REAL_MODE) + s.hcalls(Hcall.H_STUFF_TCE, HcallPath.VIRTUAL_MODE)).isPositive();
        assertThat(run.stack().spapr().table(Stack.LIOBN).inKernel()).isTrue();
    }

    @Test
    void d0WithTheDefaultIotlbSizeIsCleanBecauseEvictionHidesTheBug() {
        // max_iotlb_entries 2048: entries are evicted before their IOVA comes round again (observed, pinned).
        Runs.Run run = Runs.run(Runs.CRASH.withMaxIotlbEntries(2048).withPackets(1000, 1000), 1);
        assertThat(run.result().end()).isEqualTo(Simulation.End.DONE);
        assertThat(run.violation()).isNull();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void noVfioTceHostIsCleanAndInvalidatesEveryClear(long seed) {
        Runs.Run run = Runs.run(Runs.CRASH.withHost(HostCaps.NO_VFIO_TCE), seed);

        assertThat(run.violation()).isNull();
        assertThat(run.result().end()).isEqualTo(Simulation.End.DONE);
        Stats s = run.stats();
        assertThat(s.packetsRx).isEqualTo(5000);
        assertThat(s.packetsTx).isEqualTo(5000);
        assertThat(s.hcalls(HcallPath.QEMU)).isPositive();
        // One clear per buffer reaped (every packet each way), each an H_STUFF_TCE through QEMU.
        assertThat(s.hcalls(Hcall.H_STUFF_TCE, HcallPath.QEMU)).isEqualTo(10_000);
        assertThat(s.hcalls(Hcall.H_STUFF_TCE, HcallPath.REAL_MODE) + s.hcalls(Hcall.H_STUFF_TCE, HcallPath.VIRTUAL_MODE)).isZero();
        // QEMU's notifier fires once per cleared TCE (a buffer across two TCE pages clears two): one INVALIDATE each.
        assertThat(s.invalidates).isEqualTo(run.stack().driver().iommu().tcesCleared());
        assertThat(s.invalidates).isGreaterThan(10_000);
        assertThat(s.missesUnanswered).isZero();
        assertThat(run.stack().spapr().table(Stack.LIOBN).inKernel()).isFalse();
        assertThat(run.stack().oracles().accesses()).isPositive();
    }

    @Test
    void droppedInvalidateIsCaught() {
        StackConfig cfg = Runs.CRASH.withHost(HostCaps.NO_VFIO_TCE).withFaults(StackConfig.Faults.of(StackConfig.Fault.DROP_INVALIDATE));
        Runs.Run run = Runs.run(cfg, 1);

        assertThat(run.result().end()).isEqualTo(Simulation.End.VIOLATION);
        assertThat(run.violation()).isNotNull();
        assertThat(run.violation().property()).isIn(Violation.Property.STALE_ACCESS, Violation.Property.CORRUPTION);
        assertThat(run.stats().invalidates).isZero();
        // The clears did reach QEMU; only the INVALIDATE to vhost was lost.
        assertThat(run.stats().hcalls(Hcall.H_STUFF_TCE, HcallPath.QEMU)).isPositive();
    }
}
