package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import tcesim.kvm.HostCaps;

/**
 * A NIC passed through with VFIO on the same window as virtio-net: its hardware TCE table is kept in
 * step by KVM (table in the kernel, group attached) or by QEMU's VFIO listener (table in QEMU), each
 * followed by a TCE kill of the PHB's cache. Removing the kill must be caught as a stale DMA.
 */
class PassthroughTest {
    /** Hosts and where the hardware table is updated from. */
    enum Path {
        KVM_ATTACHED(HostCaps.POWERNV_HV), QEMU_LISTENER(HostCaps.NO_VFIO_TCE);

        final HostCaps host;

        Path(HostCaps host) { this.host = host; }
    }

    /** Only the passthrough NIC moves data; a 1 MiB window makes IOVAs come back every few packets, well within the 1024-entry cache. */
    static StackConfig passthroughOnly(Path p, boolean skipKill) {
        return StackConfig.seed().toBuilder().host(p.host).rxPackets(0).txPackets(0).windowBytes(1L << 20).passthroughPackets(600)
                .faults(skipKill ? StackConfig.Faults.of(StackConfig.Fault.SKIP_TCE_KILL) : StackConfig.Faults.NONE).build();
    }

    static Simulation.Result run(StackConfig c, long seed) {
        return Simulation.run(new Stack(c, Trace.hashOnly()), Chooser.seeded(seed), 2_000_000);
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void withTceKillThePassthroughNicRunsClean(Path p) {
        for (long seed = 1; seed <= 3; seed++) {
            Stack st = new Stack(passthroughOnly(p, false), Trace.hashOnly());
            Simulation.Result r = Simulation.run(st, Chooser.seeded(seed), 2_000_000);
            assertThat(r.violation()).as("seed %d", seed).isNull();
            assertThat(st.passthroughDriver().delivered()).isEqualTo(600);
            assertThat(st.passthroughDriver().lost()).isZero();
            assertThat(st.vfio().kills()).isGreaterThanOrEqualTo(1200);
        }
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void aMissingTceKillIsCaughtAsAStaleDmaThroughThePhbCache(Path p) {
        Simulation.Result r = run(passthroughOnly(p, true), 1);
        assertThat(r.violation()).isNotNull();
        assertThat(r.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
        assertThat(r.violation().actor()).isEqualTo("vfio-dev");
        assertThat(r.violation().access()).contains("PHB TCE cache");
    }

    @Test
    void theTableStaysInKvmWithTheGroupAttachedOnPowerNv() {
        Stack st = new Stack(passthroughOnly(Path.KVM_ATTACHED, false), Trace.hashOnly());
        assertThat(st.spapr().table(Stack.LIOBN).inKernel()).isTrue();
        assertThat(st.kvm().table(Stack.LIOBN).attached()).containsExactly(st.vfio());
        Stack q = new Stack(passthroughOnly(Path.QEMU_LISTENER, false), Trace.hashOnly());
        assertThat(q.spapr().table(Stack.LIOBN).inKernel()).isFalse();
    }

    @Test
    void designD2WithAPassthroughNicStillMovesTheTableWhenVhostRegisters() {
        StackConfig c = StackConfig.seed().toBuilder().design(Design.D2).maxIotlbEntries(32768).passthroughPackets(5000).build();
        Stack st = new Stack(c, Trace.hashOnly());
        assertThat(st.spapr().table(Stack.LIOBN).inKernel()).isFalse();
        Simulation.Result r = Simulation.run(st, Chooser.seeded(1), 5_000_000);
        assertThat(r.violation()).isNull();
        assertThat(r.end()).isEqualTo(Simulation.End.DONE);
    }

    @Test
    void d0WithAPassthroughNicStillBreaksThroughVhostNotThroughVfio() {
        StackConfig c = StackConfig.seed().toBuilder().maxIotlbEntries(32768).passthroughPackets(5000).build();
        Simulation.Result r = run(c, 1);
        assertThat(r.violation()).isNotNull();
        assertThat(r.violation().actor()).isEqualTo("vhost");
    }

    @Test
    void aPassthroughNicWithADdwGuestIsRejected() {
        StackConfig c = StackConfig.seed().toBuilder().fw(new tcesim.guest.FirmwareFeatures(true, true, true)).passthroughPackets(10).build();
        assertThat(c.validate()).contains("DDW");
    }
}
