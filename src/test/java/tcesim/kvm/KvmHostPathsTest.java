package tcesim.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.papr.Hcall.*;

import org.junit.jupiter.api.Test;
import tcesim.kvm.HostCaps.HostKernel;
import tcesim.kvm.HostCaps.RealMode;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.TceTable;

/** The path each TCE hypercall takes through KVM (real mode, virtual mode, exit to QEMU) per host CPU and kernel era. */
class KvmHostPathsTest {
    static final long LIOBN = 0x80000000L;
    static final long UNKNOWN = 0x80000007L;
    static final long LIST = 0x20000;

    static final HostCaps P9_2019 = HostCaps.POWERNV_HV;
    static final HostCaps P8_2019 = HostCaps.POWERNV8_HV;
    static final HostCaps P9_2022 = HostCaps.POWERNV_HV.withKernel(HostKernel.K2022);
    static final HostCaps P8_2022 = HostCaps.POWERNV8_HV.withKernel(HostKernel.K2022);

    final GuestMemory mem = new GuestMemory(16L << 20);
    long lastRc;

    Kvm kvm(HostCaps host, KvmPolicy policy) {
        Kvm k = new Kvm(host, mem, policy);
        k.createSpaprTce64(LIOBN, 12, 0, 2L * TceTable.CHUNK_ENTRIES);
        k.setUserspaceExit(regs -> H_SUCCESS);
        return k;
    }

    HcallPath call(Kvm k, long op, long... args) {
        HcallRegs r = HcallRegs.of(op, args);
        HcallPath p = k.hcall(r);
        lastRc = r.r3;
        return p;
    }

    /** A first valid H_PUT_TCE into a fresh table page, then one more into that page, a clear, a list, a read. */
    HcallPath[] workload(Kvm k) {
        mem.writeLongBE(LIST, 0x3003);
        mem.writeLongBE(LIST + 8, 0x4003);
        return new HcallPath[] {
            call(k, H_PUT_TCE, LIOBN, 0x1000, 0x1003),
            call(k, H_PUT_TCE, LIOBN, 0x2000, 0x2003),
            call(k, H_STUFF_TCE, LIOBN, 0x1000, 0, 2),
            call(k, H_PUT_TCE_INDIRECT, LIOBN, 0x3000, LIST, 2),
            call(k, H_GET_TCE, LIOBN, 0x3000),
            call(k, H_PUT_TCE, UNKNOWN, 0, 0),
        };
    }

    @Test
    void power8On2019CompletesInRealModeWhatItCan() {
        assertThat(workload(kvm(P8_2019, KvmPolicy.STOCK))).containsExactly(
                HcallPath.VIRTUAL_MODE,   // real mode cannot allocate the table page
                HcallPath.REAL_MODE, HcallPath.REAL_MODE, HcallPath.REAL_MODE, HcallPath.REAL_MODE,
                HcallPath.QEMU);
        assertThat(P8_2019.realMode()).isEqualTo(RealMode.HANDLES);
        assertThat(P8_2019.enteredRealMode()).isTrue();
    }

    @Test
    void power9RadixOn2019PuntsEveryTceWriteToVirtualModeButReadsInRealMode() {
        assertThat(workload(kvm(P9_2019, KvmPolicy.STOCK))).containsExactly(
                HcallPath.VIRTUAL_MODE, HcallPath.VIRTUAL_MODE, HcallPath.VIRTUAL_MODE, HcallPath.VIRTUAL_MODE,
                HcallPath.REAL_MODE,      // kvmppc_h_get_tce has no radix check
                HcallPath.QEMU);
        assertThat(P9_2019.realMode()).isEqualTo(RealMode.PUNTS);
        assertThat(P9_2019.enteredRealMode()).as("a punted call still paid for the real-mode entry").isTrue();
    }

    @Test
    void kernel2022HasOnlyVirtualModeOnEitherCpu() {
        for (HostCaps h : new HostCaps[] {P9_2022, P8_2022}) {
            assertThat(workload(kvm(h, KvmPolicy.STOCK))).as("%s", h).containsExactly(
                    HcallPath.VIRTUAL_MODE, HcallPath.VIRTUAL_MODE, HcallPath.VIRTUAL_MODE, HcallPath.VIRTUAL_MODE,
                    HcallPath.VIRTUAL_MODE, HcallPath.QEMU);
            assertThat(h.realMode()).isEqualTo(RealMode.NONE);
            assertThat(h.enteredRealMode()).isFalse();
        }
    }

    @Test
    void hostsWithoutInKernelTceHaveNoRealMode() {
        assertThat(HostCaps.NO_KVM_TCE.realMode()).isEqualTo(RealMode.NONE);
        assertThat(HostCaps.NO_KVM_TCE.enteredRealMode()).isFalse();
        assertThat(HostCaps.NO_VFIO_TCE.realMode()).isEqualTo(RealMode.HANDLES);
        assertThat(HostCaps.NO_VFIO_TCE.withKernel(HostKernel.K2022).realMode()).isEqualTo(RealMode.NONE);
    }

    @Test
    void d1RefusesAZeroStuffOnlyAfterTheIobaIsValidated() {
        // The patch's check is placed after kvmppc_ioba_validate (see KvmTceHandlers#stuffTce): a zero STUFF
        // with a bad ioba fails in the kernel; placed first, it would exit to QEMU, which masks a misaligned ioba
        // and clears the entry.
        KvmPolicy d1 = new KvmPolicy(true);
        for (HostCaps h : new HostCaps[] {P8_2019, P9_2019, P9_2022}) {
            Kvm k = kvm(h, d1);
            HcallPath inKernel = h.realMode() == RealMode.HANDLES ? HcallPath.REAL_MODE : HcallPath.VIRTUAL_MODE;
            assertThat(call(k, H_STUFF_TCE, LIOBN, 0x1008, 0, 1)).as("misaligned, %s", h).isEqualTo(inKernel);
            assertThat(lastRc).isEqualTo(H_PARAMETER);
            assertThat(call(k, H_STUFF_TCE, LIOBN, 3L * TceTable.CHUNK_ENTRIES << 12, 0, 1)).as("outside, %s", h).isEqualTo(inKernel);
            assertThat(lastRc).isEqualTo(H_PARAMETER);
            // A valid zero STUFF goes to QEMU; H_PUT_TCE(0) and a non-zero poison value stay in the kernel.
            assertThat(call(k, H_STUFF_TCE, LIOBN, 0x1000, 0, 1)).isEqualTo(HcallPath.QEMU);
            assertThat(call(k, H_PUT_TCE, LIOBN, 0x1000, 0)).isEqualTo(inKernel);
            assertThat(call(k, H_STUFF_TCE, LIOBN, 0x1000, 0x1000, 1)).isNotEqualTo(HcallPath.QEMU);
        }
    }

    /** KVM_CREATE_SPAPR_TCE_64: -EINVAL for size 0, a page shift outside 12..34 or a window past 2^64; -EBUSY for a LIOBN already there. */
    @org.junit.jupiter.api.Test
    void createSpaprTce64RefusesBadGeometryAndADuplicateLiobn() {
        Kvm kvm = new Kvm(P9_2019, new tcesim.mem.GuestMemory(16L << 20), KvmPolicy.STOCK);
        java.util.function.IntSupplier[] bad = {
                () -> errno(() -> kvm.createSpaprTce64(1, 12, 0, 0)),
                () -> errno(() -> kvm.createSpaprTce64(1, 11, 0, 16)),
                () -> errno(() -> kvm.createSpaprTce64(1, 35, 0, 16)),
                () -> errno(() -> kvm.createSpaprTce64(1, 24, (1L << 40) - 8, 16))};
        for (java.util.function.IntSupplier b : bad) org.assertj.core.api.Assertions.assertThat(b.getAsInt()).isEqualTo(Kvm.EINVAL);
        kvm.createSpaprTce64(1, 12, 0, 16);
        org.assertj.core.api.Assertions.assertThat(errno(() -> kvm.createSpaprTce64(1, 16, 0, 16))).isEqualTo(Kvm.EBUSY);
        org.assertj.core.api.Assertions.assertThat(kvm.table(1).table().size()).isEqualTo(16);
    }

    private static int errno(Runnable r) {
        try {
            r.run();
            return 0;
        } catch (Kvm.KvmError e) {
            return e.errno();
        }
    }
}
