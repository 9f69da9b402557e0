package tcesim.vfio;

import java.util.List;
import tcesim.testutil.States;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import tcesim.kvm.HostCaps;
import tcesim.papr.Tce;
import tcesim.vfio.DmaResult.Status;

class PassthroughDeviceTest {
    static final long N = 9 * Rig.PAGE;   // the IOVA of the story
    static final long M1 = 0x30000;       // first RX buffer page
    static final long M2 = 0x50000;       // the page N is remapped to

    @Test
    void firstAccessFetchesFromTheTableThenTheCacheServes() {
        Rig r = new Rig();
        r.put(N, M1, Tce.READ | Tce.WRITE);
        DmaResult a = r.dev.dmaWrite(N + 0x10, 64);
        assertThat(a.ok()).isTrue();
        assertThat(a.segments()).isEqualTo(1);
        assertThat(a.fromCache(0)).isFalse();
        assertThat(a.gpa(0)).isEqualTo(M1 + 0x10);
        assertThat(a.hpa(0)).isEqualTo(r.hw.toHpa(M1 + 0x10));
        assertThat(a.tce(0)).isEqualTo(r.hw.toHpa(M1) | 3);
        DmaResult b = r.dev.dmaWrite(N, 64);
        assertThat(b.fromCache(0)).isTrue();
        assertThat(r.cache.hits()).isEqualTo(1);
        assertThat(r.cache.misses()).isEqualTo(1);
        assertThat(r.staleAccess(a)).isNull();
        assertThat(r.staleAccess(b)).isNull();
    }

    @Test
    void stuffOnA2019KernelLeavesTheClearedEntryInThePhbCache() {
        // kvmppc_h_stuff_tce (2019) kills [N + 1, N + 2) after clearing N: the hardware entry is empty, the
        // PHB's cached N -> M1 is not, and a DMA to N before N is mapped again goes through it.
        Rig r = new Rig(HostCaps.POWERNV_HV);
        r.put(N, M1, Tce.READ | Tce.WRITE);
        assertThat(r.dev.dmaWrite(N, 64).ok()).isTrue(); // cached now
        r.clear(N, 1);
        assertThat(r.hw.get(N >>> Rig.SHIFT)).isZero();
        assertThat(r.vfio.lastKillIdx()).isEqualTo((N >>> Rig.SHIFT) + 1);
        assertThat(r.cache.isCached(N >>> Rig.SHIFT)).isTrue();
        byte[] pkt = {1, 2, 3, 4};
        DmaResult s = r.dev.dmaWrite(N, pkt, 0, pkt.length);
        assertThat(s.ok()).isTrue();
        assertThat(s.fromCache(0)).isTrue();
        assertThat(s.gpa(0)).isEqualTo(M1);
        assertThat(r.staleAccess(s)).contains("guest entry is empty");
        assertThat(r.mem.readByte(M1 + 2)).isEqualTo((byte) 3);
        assertThat(r.dev.frozen()).isFalse();
        // Mapping N again kills it (H_PUT_TCE kills its entry in both eras): the stale window closes.
        r.put(N, M2, Tce.READ | Tce.WRITE);
        DmaResult ok = r.dev.dmaWrite(N, 64);
        assertThat(ok.gpa(0)).isEqualTo(M2);
        assertThat(r.staleAccess(ok)).isNull();
    }

    @Test
    void dmaAfterClearAndKillFaultsAndFreezes() {
        // A 2022 kernel kills each entry H_STUFF_TCE clears.
        Rig r = new Rig(HostCaps.POWERNV_HV.withKernel(HostCaps.HostKernel.K2022));
        r.put(N, M1, Tce.READ | Tce.WRITE);
        assertThat(r.dev.dmaWrite(N, 64).ok()).isTrue(); // cached now
        r.clear(N, 1);
        assertThat(r.cache.isCached(N >>> Rig.SHIFT)).isFalse();
        DmaResult f = r.dev.dmaWrite(N, 64);
        assertThat(f.status()).isEqualTo(Status.INVALID_TCE);
        assertThat(f.segments()).isZero();
        assertThat(f.faultIova()).isEqualTo(N);
        assertThat(r.dev.frozen()).isTrue();
        // Frozen PE: even a valid mapping is refused until recovery.
        r.put(N, M2, Tce.READ | Tce.WRITE);
        assertThat(r.dev.dmaWrite(N, 64).status()).isEqualTo(Status.FROZEN);
        r.dev.clearFreeze();
        DmaResult ok = r.dev.dmaWrite(N, 64);
        assertThat(ok.ok()).isTrue();
        assertThat(ok.gpa(0)).isEqualTo(M2);
        assertThat(r.dev.faults()).isEqualTo(2);
    }

    @Test
    void withoutKillTheDeviceKeepsUsingTheStaleTranslation() {
        // The mutation the oracle must catch: H_STUFF_TCE clears the hardware entry but no tce_kill reaches
        // the PHB, so the cached N -> M1 survives the hypercall.
        Rig r = Rig.skippingKills(PhbTceCache.DEFAULT_CAPACITY);
        r.put(N, M1, Tce.READ | Tce.WRITE);
        assertThat(r.dev.dmaWrite(N, 64).ok()).isTrue();
        r.clear(N, 1);
        assertThat(r.hw.get(N >>> Rig.SHIFT)).isZero();
        DmaResult s = r.dev.dmaWrite(N, 64);
        assertThat(s.ok()).isTrue();
        assertThat(s.fromCache(0)).isTrue();
        assertThat(s.gpa(0)).isEqualTo(M1);
        assertThat(r.staleAccess(s)).contains("guest entry is empty");

        // Remapped to M2, still no kill: the device writes the packet into M1.
        r.put(N, M2, Tce.READ | Tce.WRITE);
        byte[] pkt = {1, 2, 3, 4};
        DmaResult w = r.dev.dmaWrite(N, pkt, 0, pkt.length);
        assertThat(w.gpa(0)).isEqualTo(M1);
        assertThat(r.staleAccess(w)).contains("but the guest maps");
        assertThat(r.mem.readByte(M1 + 2)).isEqualTo((byte) 3);
        assertThat(r.mem.readByte(M2 + 2)).isZero();
    }

    @Test
    void withKillTheRemapIsSeenAtOnce() {
        Rig r = new Rig();
        r.put(N, M1, Tce.READ | Tce.WRITE);
        r.dev.dmaWrite(N, 8);
        r.put(N, M2, Tce.READ | Tce.WRITE); // valid -> valid overwrite, killed by H_PUT_TCE
        byte[] pkt = {9, 9};
        DmaResult w = r.dev.dmaWrite(N, pkt, 0, 2);
        assertThat(w.fromCache(0)).isFalse();
        assertThat(w.gpa(0)).isEqualTo(M2);
        assertThat(r.staleAccess(w)).isNull();
        assertThat(r.mem.readByte(M2)).isEqualTo((byte) 9);
        assertThat(r.mem.readByte(M1)).isZero();
    }

    @Test
    void permissionsAreCheckedPerDirection() {
        Rig r = new Rig();
        r.put(N, M1, Tce.READ);
        assertThat(r.dev.dmaRead(N, 8).ok()).isTrue();
        DmaResult w = r.dev.dmaWrite(N, 8);
        assertThat(w.status()).isEqualTo(Status.PERMISSION);
        assertThat(w.faultTce()).isEqualTo(r.hw.toHpa(M1) | Tce.READ);
        r.dev.clearFreeze();
        // Write-only in the guest is read+write in hardware (pnv_tce_xchg adds READ).
        r.put(N + Rig.PAGE, M2, Tce.WRITE);
        assertThat(r.dev.dmaRead(N + Rig.PAGE, 8).ok()).isTrue();
    }

    @Test
    void outsideTheWindowFaults() {
        Rig r = new Rig();
        DmaResult f = r.dev.dmaRead(r.hw.size() << Rig.SHIFT, 4);
        assertThat(f.status()).isEqualTo(Status.OUT_OF_WINDOW);
        assertThat(r.dev.frozen()).isTrue();
        assertThat(new Rig().dev.dmaRead(-8, 4).status()).isEqualTo(Status.OUT_OF_WINDOW);
    }

    @Test
    void multiPageAccessIsTranslatedPerPageAndStopsAtTheFirstFault() {
        Rig r = new Rig();
        r.put(N, M1, Tce.READ | Tce.WRITE);
        r.put(N + Rig.PAGE, M2, Tce.READ | Tce.WRITE);
        DmaResult a = r.dev.dmaWrite(N + Rig.PAGE - 16, 32);
        assertThat(a.ok()).isTrue();
        assertThat(a.segments()).isEqualTo(2);
        assertThat(a.gpa(0)).isEqualTo(M1 + Rig.PAGE - 16);
        assertThat(a.length(0)).isEqualTo(16);
        assertThat(a.gpa(1)).isEqualTo(M2);
        assertThat(a.iova(1)).isEqualTo(N + Rig.PAGE);
        assertThat(a.length(1)).isEqualTo(16);

        DmaResult f = r.dev.dmaWrite(N + 2 * Rig.PAGE - 16, 32); // second page unmapped
        assertThat(f.status()).isEqualTo(Status.INVALID_TCE);
        assertThat(f.segments()).isEqualTo(1);
        assertThat(f.faultIova()).isEqualTo(N + 2 * Rig.PAGE);
    }

    @Test
    void readMovesGuestBytes() {
        Rig r = new Rig();
        r.mem.writeByte(M1 + 5, (byte) 42);
        r.put(N, M1, Tce.READ);
        byte[] buf = new byte[8];
        assertThat(r.dev.dmaRead(N, buf, 0, 8).ok()).isTrue();
        assertThat(buf[5]).isEqualTo((byte) 42);
    }

    @Test
    void hardwareEntryOutsideGuestRamIsReportedNotPerformed() {
        Rig r = new Rig();
        // Bypass KVM's checks: a hardware entry pointing past guest RAM.
        r.hw.exchangeGpa(3, r.mem.ramBytes(), 3);
        DmaResult b = r.dev.dmaWrite(3 * Rig.PAGE, new byte[4], 0, 4);
        assertThat(b.status()).isEqualTo(Status.OUTSIDE_GUEST_RAM);
        assertThat(b.segments()).isEqualTo(1);
        assertThat(b.gpa(0)).isEqualTo(r.mem.ramBytes());
    }

    @Test
    void aliasingEvictionEndsTheStaleWindow() {
        // Direct-mapped cache of 4: with kills skipped, entry 1 stays stale until index 5 takes its slot.
        Rig r = Rig.skippingKills(4);
        r.put(1 * Rig.PAGE, M1, Tce.READ | Tce.WRITE);
        r.put(5 * Rig.PAGE, M2, Tce.READ | Tce.WRITE);
        r.dev.dmaWrite(1 * Rig.PAGE, 8);
        r.clear(1 * Rig.PAGE, 1);
        assertThat(r.dev.dmaWrite(1 * Rig.PAGE, 8).fromCache(0)).isTrue();
        r.dev.dmaWrite(5 * Rig.PAGE, 8); // evicts entry 1
        assertThat(r.dev.dmaWrite(1 * Rig.PAGE, 8).status()).isEqualTo(Status.INVALID_TCE);
    }

    @Test
    void zeroLengthTouchesNothingAndNegativeLengthIsACallerBug() {
        Rig r = new Rig();
        DmaResult z = r.dev.dmaRead(N, 0);
        assertThat(z.ok()).isTrue();
        assertThat(z.segments()).isZero();
        assertThat(r.cache.misses()).isZero();
        assertThatThrownBy(() -> r.dev.dmaRead(N, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void savedStateTracksTheFreeze() {
        Rig r = new Rig();
        List<Long> d0 = States.of(r.dev);
        r.dev.dmaRead(N, 4); // unmapped: freezes
        assertThat(States.of(r.dev)).isNotEqualTo(d0);
        r.dev.clearFreeze();
        assertThat(States.of(r.dev)).isEqualTo(d0);
    }
}
