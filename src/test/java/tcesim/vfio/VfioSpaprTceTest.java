package tcesim.vfio;

import java.util.List;
import tcesim.testutil.States;
import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.papr.Hcall.*;

import org.junit.jupiter.api.Test;
import tcesim.kvm.HostCaps;
import tcesim.papr.Tce;

class VfioSpaprTceTest {

    @Test
    void putTceExchangesOneEntryAndKillsItOnce() {
        Rig r = new Rig();
        r.put(5 * Rig.PAGE, 0x20000, Tce.READ | Tce.WRITE);
        assertThat(r.vfio.exchanges()).isEqualTo(1);
        assertThat(r.vfio.kills()).isEqualTo(1);
        assertThat(r.vfio.lastKillIdx()).isEqualTo(5);
        assertThat(r.vfio.lastKillNpages()).isEqualTo(1);
        assertThat(r.vfio.exchangesSinceKill()).isZero();
        assertThat(r.hw.get(5)).isEqualTo(r.hw.toHpa(0x20000) | 3);
        assertThat(r.cache.kills()).isEqualTo(1);
    }

    @Test
    void overwriteReportsTheOldEntry() {
        Rig r = new Rig();
        r.put(5 * Rig.PAGE, 0x20000, Tce.READ);
        r.put(5 * Rig.PAGE, 0x30000, Tce.READ);
        assertThat(r.vfio.lastOld()).isEqualTo(r.hw.toHpa(0x20000) | Tce.READ);
    }

    @Test
    void indirectAndStuffAreKilledOncePerHypercallOverTheirRange() {
        Rig r = new Rig();
        long list = 0x100000;
        for (int i = 0; i < 4; i++) r.mem.writeLongBE(list + 8L * i, Tce.make(0x40000 + i * Rig.PAGE, Tce.READ | Tce.WRITE));
        assertThat(r.hcall(H_PUT_TCE_INDIRECT, Rig.LIOBN, 16 * Rig.PAGE, list, 4)).isEqualTo(H_SUCCESS);
        assertThat(r.vfio.exchanges()).isEqualTo(4);
        assertThat(r.vfio.kills()).isEqualTo(1);
        assertThat(r.vfio.lastKillIdx()).isEqualTo(16);
        assertThat(r.vfio.lastKillNpages()).isEqualTo(4);
        for (int i = 0; i < 4; i++) assertThat(r.hw.get(16 + i)).isEqualTo(r.hw.toHpa(0x40000 + i * Rig.PAGE) | 3);

        r.clear(16 * Rig.PAGE, 4);
        assertThat(r.vfio.exchanges()).isEqualTo(8);
        assertThat(r.vfio.kills()).isEqualTo(2);
        // 2019: H_STUFF_TCE's kill starts where its put loop left ioba, npages pages on.
        assertThat(r.vfio.lastKillIdx()).isEqualTo(20);
        assertThat(r.vfio.lastKillNpages()).isEqualTo(4);
        for (int i = 0; i < 4; i++) assertThat(r.hw.get(16 + i)).isZero();
    }

    @Test
    void on2022KernelsEveryEntryIsKilledAsItIsExchanged() {
        Rig r = new Rig(HostCaps.POWERNV_HV.withKernel(HostCaps.HostKernel.K2022));
        long list = 0x100000;
        for (int i = 0; i < 4; i++) r.mem.writeLongBE(list + 8L * i, Tce.make(0x40000 + i * Rig.PAGE, Tce.READ | Tce.WRITE));
        assertThat(r.hcall(H_PUT_TCE_INDIRECT, Rig.LIOBN, 16 * Rig.PAGE, list, 4)).isEqualTo(H_SUCCESS);
        assertThat(r.vfio.kills()).isEqualTo(4);
        assertThat(r.vfio.lastKillIdx()).isEqualTo(19);
        assertThat(r.vfio.lastKillNpages()).isEqualTo(1);
        for (int i = 0; i < 4; i++) r.dev.dmaRead((16 + i) * Rig.PAGE, 8);
        r.clear(16 * Rig.PAGE, 4);
        assertThat(r.vfio.kills()).isEqualTo(8);
        assertThat(r.vfio.lastKillIdx()).isEqualTo(19);
        assertThat(r.cache.occupied()).isZero();
    }

    @Test
    void indirectWithANonPreregisteredTceFailsBeforeWritingAnything() {
        // kvmppc_tce_validate checks mm_iommu_lookup for every TCE of the list first: nothing is written, in the
        // guest table or the hardware one, and the call goes to QEMU.
        tcesim.mem.GuestMemory registered = new tcesim.mem.GuestMemory(8L << 20);
        Rig r = new Rig(HostCaps.POWERNV_HV, PhbTceCache.DEFAULT_CAPACITY, registered);
        long list = 0x100000;
        long[] gpas = {0x40000, 0x41000, 8L << 20, 0x43000};
        for (int i = 0; i < 4; i++) r.mem.writeLongBE(list + 8L * i, Tce.make(gpas[i], Tce.READ | Tce.WRITE));
        tcesim.papr.HcallRegs regs = tcesim.papr.HcallRegs.of(H_PUT_TCE_INDIRECT, Rig.LIOBN, 16 * Rig.PAGE, list, 4);
        assertThat(r.kvm.hcallInKernel(regs)).as("exits to QEMU").isNull();
        for (int i = 0; i < 4; i++) {
            assertThat(r.guest().get(16 + i)).isZero();
            assertThat(r.hw.get(16 + i)).isZero();
        }
        assertThat(r.vfio.exchanges()).isZero();
        assertThat(r.vfio.failedExchanges()).isZero();
        assertThat(r.vfio.validate(0x40000)).isEqualTo(H_SUCCESS);
        assertThat(r.vfio.validate(8L << 20)).isEqualTo(H_TOO_HARD);
    }

    @Test
    void exchangeRefusesAddressesOutsidePreregisteredRam() {
        Rig r = new Rig();
        long beyond = r.mem.ramBytes();
        assertThat(r.vfio.exchange(3, beyond, (int) Tce.READ)).isEqualTo(H_TOO_HARD);
        assertThat(r.vfio.exchange(3, 0x1800, (int) Tce.READ)).isEqualTo(H_PARAMETER);
        assertThat(r.vfio.exchange(1L << 20, 0x1000, (int) Tce.READ)).isEqualTo(H_PARAMETER);
        assertThat(r.hw.get(3)).isZero();
        assertThat(r.vfio.failedExchanges()).isEqualTo(3);
        assertThat(r.vfio.exchanges()).isZero();
        // Clearing needs no registration.
        assertThat(r.vfio.exchange(3, beyond, 0)).isEqualTo(H_SUCCESS);
    }

    @Test
    void isRealModeCapable() {
        assertThat(new Rig().vfio.realModeCapable()).isTrue();
    }

    @Test
    void skipKillSwallowsTheInvalidation() {
        for (boolean skip : new boolean[] {true, false}) {
            Rig r = skip ? Rig.skippingKills(PhbTceCache.DEFAULT_CAPACITY) : new Rig();
            r.cache.fill(7, r.hw.toHpa(0x5000) | 3);
            r.vfio.exchange(7, 0, 0);
            r.vfio.kill(7, 1);
            assertThat(r.cache.isCached(7)).as("skip " + skip).isEqualTo(skip);
            assertThat(r.vfio.kills()).isEqualTo(1);
            assertThat(r.vfio.skippedKills()).isEqualTo(skip ? 1 : 0);
            assertThat(r.vfio.exchangesSinceKill()).isEqualTo(skip ? 1 : 0);
            assertThat(r.cache.kills()).isEqualTo(skip ? 0 : 1);
        }
    }

    @Test
    void savedStateIsTableAndCache() {
        Rig r = new Rig();
        List<Long> d0 = States.of(r.vfio);
        r.put(2 * Rig.PAGE, 0x9000, Tce.READ);
        List<Long> d1 = States.of(r.vfio);
        assertThat(d1).isNotEqualTo(d0);
        r.dev.dmaRead(2 * Rig.PAGE, 8); // fills the cache
        List<Long> d2 = States.of(r.vfio);
        assertThat(d2).isNotEqualTo(d1);
        // The planted fault is configuration, not state: a rig built with it saves the same words for the same history.
        Rig skipping = Rig.skippingKills(PhbTceCache.DEFAULT_CAPACITY);
        skipping.put(2 * Rig.PAGE, 0x9000, Tce.READ);
        skipping.dev.dmaRead(2 * Rig.PAGE, 8);
        assertThat(States.of(skipping.vfio)).isEqualTo(d2);
        Rig other = new Rig();
        States.copyInto(r.vfio, other.vfio);
        assertThat(other.cache.isCached(2)).isEqualTo(r.cache.isCached(2));
    }
}
