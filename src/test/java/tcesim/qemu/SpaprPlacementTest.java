package tcesim.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tcesim.kvm.HostCaps;
import tcesim.kvm.Kvm;
import tcesim.kvm.KvmPolicy;
import tcesim.mem.GuestMemory;
import tcesim.papr.Hcall;
import tcesim.papr.HcallRegs;
import tcesim.kvm.HcallPath;

/** The rule that decides whether a window's table lives in KVM or in QEMU (kvmppc_create_spapr_tce, spapr_tce_set_need_vfio). */
class SpaprPlacementTest {
    static final long LIOBN = Spapr.pciLiobn(0, 0);

    private static Spapr machine(HostCaps caps, QemuPolicy policy) {
        GuestMemory mem = new GuestMemory(64L << 20);
        return new Spapr(new Kvm(caps, mem, KvmPolicy.STOCK), mem, policy);
    }

    private static IommuNotifier unmapOnly() {
        return new IommuNotifier() {
            @Override public boolean wantsMap() { return false; }
            @Override public void notify(IommuTlbEvent event) {}
        };
    }

    @Test
    void withoutNotifierTheTableLivesInKvmWhenKvmHasTheTceCapability() {
        assertThat(machine(HostCaps.POWERNV_HV, QemuPolicy.STOCK).createTable(LIOBN, 12, 0, 1024).inKernel()).isTrue();
        assertThat(machine(HostCaps.NO_VFIO_TCE, QemuPolicy.STOCK).createTable(LIOBN, 12, 0, 1024).inKernel()).isTrue();
        assertThat(machine(HostCaps.NO_KVM_TCE, QemuPolicy.STOCK).createTable(LIOBN, 12, 0, 1024).inKernel()).isFalse();
    }

    @Test
    void aVhostNotifierKeepsTheTableInKvmOnAHostWithVfioTce() {
        Spapr s = machine(HostCaps.POWERNV_HV, QemuPolicy.STOCK);
        s.createTable(LIOBN, 12, 0, 1024);
        s.registerNotifier(LIOBN, unmapOnly(), true);
        assertThat(s.table(LIOBN).needVfio()).isTrue();
        assertThat(s.table(LIOBN).inKernel()).isTrue();
    }

    @Test
    void aNotifierMovesTheTableToQemuWithItsEntriesWithoutVfioTce() {
        GuestMemory mem = new GuestMemory(64L << 20);
        Kvm kvm = new Kvm(HostCaps.NO_VFIO_TCE, mem, KvmPolicy.STOCK);
        Spapr s = new Spapr(kvm, mem, QemuPolicy.STOCK);
        s.createTable(LIOBN, 12, 0, 1024);
        HcallRegs put = HcallRegs.of(Hcall.H_PUT_TCE, LIOBN, 0x3000, 0x5003);
        assertThat(kvm.hcall(put)).isNotEqualTo(HcallPath.QEMU);
        s.registerNotifier(LIOBN, unmapOnly(), true);
        assertThat(s.table(LIOBN).inKernel()).isFalse();
        assertThat(kvm.table(LIOBN)).isNull();
        assertThat(s.table(LIOBN).table().get(3)).isEqualTo(0x5003);
        HcallRegs clear = HcallRegs.of(Hcall.H_STUFF_TCE, LIOBN, 0x3000, 0, 1);
        assertThat(kvm.hcall(clear)).isEqualTo(HcallPath.QEMU);
        assertThat(clear.r3).isEqualTo(Hcall.H_SUCCESS);
    }

    @Test
    void designD2MovesTheTableOutOfKvmForVhostEvenWithVfioTce() {
        Spapr s = machine(HostCaps.POWERNV_HV, new QemuPolicy(true));
        s.createTable(LIOBN, 12, 0, 1024);
        s.registerNotifier(LIOBN, unmapOnly(), false);
        assertThat(s.table(LIOBN).inKernel()).as("a VFIO notifier keeps it in KVM").isTrue();
        Spapr s2 = machine(HostCaps.POWERNV_HV, new QemuPolicy(true));
        s2.createTable(LIOBN, 12, 0, 1024);
        s2.registerNotifier(LIOBN, unmapOnly(), true);
        assertThat(s2.table(LIOBN).inKernel()).isFalse();
    }

    @Test
    void unregisteringTheLastNotifierClearsNeedVfioButNeverMovesTheTableBack() {
        GuestMemory mem = new GuestMemory(64L << 20);
        Spapr s = new Spapr(new Kvm(HostCaps.NO_VFIO_TCE, mem, KvmPolicy.STOCK), mem, QemuPolicy.STOCK);
        s.createTable(LIOBN, 12, 0, 1024);
        IommuNotifier n = unmapOnly();
        s.registerNotifier(LIOBN, n, true);
        s.unregisterNotifier(LIOBN, n);
        assertThat(s.table(LIOBN).needVfio()).isFalse();
        assertThat(s.table(LIOBN).inKernel()).isFalse();
    }

    @Test
    void qemuAdvertisesMultiTceOnlyWithTheKvmCapability() {
        assertThat(machine(HostCaps.POWERNV_HV, QemuPolicy.STOCK).advertisesMultiTce()).isTrue();
        assertThat(machine(new HostCaps(true, true, false, HostCaps.RealMode.HANDLES, HostCaps.HostKernel.K2019), QemuPolicy.STOCK).advertisesMultiTce()).isFalse();
    }

    @Test
    void designD2MovesTheTableWhenVhostRegistersAfterVfio() {
        Spapr s = machine(HostCaps.POWERNV_HV, new QemuPolicy(true));
        s.createTable(LIOBN, 12, 0, 1024);
        s.registerNotifier(LIOBN, unmapOnly(), false);
        assertThat(s.table(LIOBN).inKernel()).isTrue();
        s.registerNotifier(LIOBN, unmapOnly(), true);
        assertThat(s.table(LIOBN).inKernel()).isFalse();
    }

    @Test
    void withoutD2ASecondNotifierChangesNothing() {
        Spapr s = machine(HostCaps.POWERNV_HV, QemuPolicy.STOCK);
        s.createTable(LIOBN, 12, 0, 1024);
        s.registerNotifier(LIOBN, unmapOnly(), false);
        s.registerNotifier(LIOBN, unmapOnly(), true);
        assertThat(s.table(LIOBN).inKernel()).isTrue();
    }

    @Test
    void aWindowAboveTwoToTheSixtyThreeTranslatesWithUnsignedBusAddresses() {
        GuestMemory mem = new GuestMemory(64L << 20);
        Spapr s = new Spapr(null, mem, QemuPolicy.STOCK);
        long bus = 0x9000_0000_0000_0000L;
        SpaprTceTable t = s.createTable(LIOBN, 16, bus, 16);
        t.table().put((bus >>> 16) + 3, 0x50003);
        assertThat(t.translate(bus + (3L << 16) + 5)).isNotNull();
        assertThat(t.translate(bus + (3L << 16) + 5).translatedAddr()).isEqualTo(0x50000);
        assertThat(t.translate(bus - 1)).isNull();
        assertThat(t.translate(bus + (16L << 16))).isNull();
    }

    /**
     * QEMU zeroes the tables of the windows that exist at machine reset, which allocates every page of a table in KVM: on
     * a POWER8 2019 host, real mode then takes the first non-zero H_PUT_TCE into the default window itself, while the first
     * one into a window created after the reset (a DDW) has no page yet and goes to virtual mode.
     */
    @Test
    void theMachineResetBacksEveryPageOfTheTablesThatExistThenAndNoLaterOnes() {
        GuestMemory mem = new GuestMemory(64L << 20);
        Kvm kvm = new Kvm(HostCaps.POWERNV8_HV, mem, KvmPolicy.STOCK);
        Spapr s = new Spapr(kvm, mem, QemuPolicy.STOCK);
        s.createTable(LIOBN, 12, 0, 1024);
        s.machineReset();
        long ddw = LIOBN + 1;
        s.createTable(ddw, 16, Spapr.DDW_BUS_OFFSET, 1024);
        assertThat(s.table(LIOBN).table().isBacked(0)).isTrue();
        assertThat(s.table(LIOBN).table().allocatedChunks()).as("no entry written yet").isZero();
        assertThat(s.table(ddw).table().isBacked(Spapr.DDW_BUS_OFFSET >>> 16)).isFalse();
        assertThat(kvm.hcall(HcallRegs.of(Hcall.H_PUT_TCE, LIOBN, 0x3000, 0x5003))).isEqualTo(HcallPath.REAL_MODE);
        assertThat(kvm.hcall(HcallRegs.of(Hcall.H_PUT_TCE, ddw, Spapr.DDW_BUS_OFFSET, 0x10003))).isEqualTo(HcallPath.VIRTUAL_MODE);
    }
}
