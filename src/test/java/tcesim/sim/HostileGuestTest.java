package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tcesim.kvm.HostCaps;

/**
 * A guest that takes back RX buffers the device still owns. With the table in QEMU every unmap is
 * forwarded to vhost as INVALIDATE under all virtqueue mutexes, so vhost never uses the old translation:
 * it misses, QEMU finds the entry clear and sends nothing, and the queue stalls for good (the "miss on a
 * cleared TCE" hazard, a progress violation). Without the virtqueue mutex across translation and copy
 * (the skipVqLock mutation) the INVALIDATE can come between them and the copy goes through the old
 * translation: the oracle must catch that.
 */
class HostileGuestTest {
    static final int SEEDS = 30;

    static StackConfig revoking(boolean skipVqLock) {
        return StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(400).txPackets(0).kernelChurn(false)
                .rxRevokes(1).faults(skipVqLock ? StackConfig.Faults.of(StackConfig.Fault.SKIP_VQ_LOCK) : StackConfig.Faults.NONE).build();
    }

    static List<Violation> violations(StackConfig cfg) {
        List<Violation> out = new ArrayList<>();
        for (long s = 1; s <= SEEDS; s++) {
            Stack st = new Stack(cfg, Trace.hashOnly());
            Simulation.Result r = Simulation.run(st, Chooser.seeded(s), 2_000_000);
            if (r.violation() != null) out.add(r.violation());
        }
        return out;
    }

    /**
     * Also guards the corruption oracle: a revoking unmap may wait for the BQL (QEMU's main loop is between
     * MISS and UPDATE), and until it returns a device write into the page is no corruption. Marking the
     * page unmapped when the unmap starts makes this test fail.
     */
    @Test
    void withTheVirtqueueMutexARevokedBufferOnlyStallsTheQueue() {
        List<Violation> vs = violations(revoking(false));
        assertThat(vs).isNotEmpty();
        assertThat(vs).allSatisfy(v -> {
            assertThat(v.property()).isEqualTo(Violation.Property.PROGRESS);
            assertThat(v.why()).contains("UPDATE that will never come");
        });
    }

    @Test
    void skippingTheVirtqueueMutexIsCaughtAsAStaleAccess() {
        List<Violation> vs = violations(revoking(true));
        assertThat(vs).anySatisfy(v -> {
            assertThat(v.property()).isEqualTo(Violation.Property.STALE_ACCESS);
            assertThat(v.why()).isEqualTo("the guest's TCE for this IOVA is clear");
        });
    }

    @Test
    void theStaleCopyComesAfterTheRevokeAndItsInvalidate() {
        Trace t = null;
        Violation v = null;
        for (long seed = 1; seed <= 200 && (v == null || v.property() != Violation.Property.STALE_ACCESS); seed++) {
            t = new Trace();
            Stack st = new Stack(revoking(true), t);
            st.oracles().stopAt(Violation.Property.STALE_ACCESS);
            v = Simulation.run(st, Chooser.seeded(seed), 2_000_000).violation();
        }
        assertThat(v).as("a seed in 1..200 where the copy without the mutex is stale").isNotNull();
        assertThat(v.property()).isEqualTo(Violation.Property.STALE_ACCESS);
        List<String> actions = t.historyOfIova(v.iova()).stream().map(Event::action).toList();
        int translate = actions.lastIndexOf("translate");
        int invalidate = actions.lastIndexOf("invalidate");
        int revoke = actions.lastIndexOf("rx-revoke");
        assertThat(translate).isGreaterThanOrEqualTo(0).isLessThan(invalidate);
        assertThat(invalidate).isLessThan(revoke);
        assertThat(actions.get(actions.size() - 1)).isEqualTo("rx-copy");
    }

    @Test
    void revokesAreCountedAndTheirPacketsAccountedFor() {
        Stack st = new Stack(StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(300).txPackets(0).rxRevokes(2).build(), Trace.hashOnly());
        Simulation.run(st, Chooser.seeded(3), 2_000_000);
        assertThat(st.driver().rxRevoked()).isBetween(1L, 2L);
        assertThat(st.driver().rxDelivered() + st.driver().rxDropped()).isLessThanOrEqualTo(300);
    }
}
