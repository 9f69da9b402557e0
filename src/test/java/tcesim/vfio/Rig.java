package tcesim.vfio;

import static org.assertj.core.api.Assertions.assertThat;

import tcesim.kvm.HcallPath;
import tcesim.kvm.HostCaps;
import tcesim.kvm.Kvm;
import tcesim.kvm.KvmPolicy;
import tcesim.kvm.KvmSpaprTceTable;
import tcesim.mem.GuestMemory;
import tcesim.papr.Hcall;
import tcesim.papr.HcallRegs;
import tcesim.papr.Tce;
import tcesim.papr.TceTable;

/**
 * A guest window in KVM with a VFIO group attached and its passthrough device: the V design's stack, on the
 * seed's host (POWER9, 2019 kernel) unless a test picks another.
 */
final class Rig {
    static final long LIOBN = 0x80000000L;
    static final int SHIFT = 12;
    static final long PAGE = 1L << SHIFT;

    final GuestMemory mem = new GuestMemory(16L << 20);
    final Kvm kvm;
    final KvmSpaprTceTable stt;
    final HwTceTable hw;
    final PhbTceCache cache;
    final VfioSpaprTce vfio;
    final PassthroughDevice dev;

    Rig() {
        this(PhbTceCache.DEFAULT_CAPACITY);
    }

    Rig(int cacheCapacity) {
        this(HostCaps.POWERNV_HV, cacheCapacity, null);
    }

    Rig(HostCaps host) {
        this(host, PhbTceCache.DEFAULT_CAPACITY, null);
    }

    Rig(HostCaps host, int cacheCapacity, GuestMemory registered) {
        this(host, cacheCapacity, registered, false);
    }

    /** The rig with VFIO's kills planted away: they are counted, none reaches the PHB. */
    static Rig skippingKills(int cacheCapacity) {
        return new Rig(HostCaps.POWERNV_HV, cacheCapacity, null, true);
    }

    /**
     * @param registered the guest RAM QEMU preregistered for VFIO (null: all of it)
     * @param skipKill the planted fault of {@link VfioSpaprTce}
     */
    Rig(HostCaps host, int cacheCapacity, GuestMemory registered, boolean skipKill) {
        kvm = new Kvm(host, mem, KvmPolicy.STOCK);
        stt = kvm.createSpaprTce64(LIOBN, SHIFT, 0, 4096);
        hw = HwTceTable.matching(stt.table());
        cache = new PhbTceCache(cacheCapacity);
        vfio = new VfioSpaprTce(hw, cache, registered == null ? mem : registered, skipKill);
        stt.attach(vfio);
        dev = new PassthroughDevice(cache, hw, mem);
    }

    TceTable guest() { return stt.table(); }

    long hcall(long op, long... args) {
        HcallRegs r = HcallRegs.of(op, args);
        HcallPath p = kvm.hcall(r);
        assertThat(p).as("handled in the kernel").isNotEqualTo(HcallPath.QEMU);
        return r.r3;
    }

    void put(long ioba, long gpa, long perm) {
        assertThat(hcall(Hcall.H_PUT_TCE, LIOBN, ioba, Tce.make(gpa, perm))).isEqualTo(Hcall.H_SUCCESS);
    }

    void clear(long ioba, long npages) {
        assertThat(hcall(Hcall.H_STUFF_TCE, LIOBN, ioba, 0, npages)).isEqualTo(Hcall.H_SUCCESS);
    }

    /**
     * The stale-access oracle in miniature (safety property 1): every page the device used must match the
     * guest's current entry for that IOVA, address and direction. Returns a description of the first
     * mismatch, or null.
     */
    String staleAccess(DmaResult r) {
        TceTable g = guest();
        for (int i = 0; i < r.segments(); i++) {
            long idx = r.iova(i) >>> g.pageShift();
            long gt = g.contains(idx) ? g.get(idx) : 0;
            long want = r.isWrite() ? Tce.WRITE : Tce.READ;
            long pageGpa = r.gpa(i) & ~(g.pageSize() - 1);
            if (!Tce.valid(gt)) return "iova 0x" + Long.toHexString(r.iova(i)) + " used gpa 0x" + Long.toHexString(r.gpa(i)) + " but the guest entry is empty";
            if (Tce.gpa(gt) != pageGpa) return "iova 0x" + Long.toHexString(r.iova(i)) + " used gpa 0x" + Long.toHexString(r.gpa(i)) + " but the guest maps " + Tce.describe(gt);
            if ((HwTceTable.hwPerm(Tce.perm(gt)) & want) == 0) return "direction not permitted by " + Tce.describe(gt);
        }
        return null;
    }
}
