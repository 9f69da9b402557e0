package tcesim.kvm;

/**
 * Design D4: vhost's device IOTLB linked to the guest table in KVM, so that KVM invalidates it itself.
 *
 * <p>Modelled on {@code KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE}: QEMU hands KVM the vhost device for the LIOBN,
 * KVM attaches it to the table like a hardware table, and at the end of every hypercall that changed
 * entries it invalidates their bus range in vhost's IOTLB, as it would issue a TCE kill, by calling the
 * same code a userspace INVALIDATE runs ({@code vhost_process_iotlb_msg}, under vhost's device and
 * virtqueue mutexes) before the hypercall returns. Taking those mutexes sleeps, which real mode cannot
 * do, so a table with such a link makes real mode hand every call to virtual mode.
 */
public final class VhostIotlbLink implements AttachedTable {
    /** What KVM calls into vhost with. */
    @FunctionalInterface
    public interface Invalidate {
        void invalidate(long iova, long size);
    }

    private final int pageShift;
    private final Invalidate vhost;
    private long invalidations;

    public VhostIotlbLink(int pageShift, Invalidate vhost) {
        this.pageShift = pageShift;
        this.vhost = vhost;
    }

    @Override
    public boolean realModeCapable() { return false; }

    @Override
    public long exchange(long idx, long gpa, int perm) {
        return tcesim.papr.Hcall.H_SUCCESS;
    }

    @Override
    public void kill(long idx, long npages) {
        if (npages <= 0) return;
        invalidations++;
        vhost.invalidate(idx << pageShift, npages << pageShift);
    }

    public long invalidations() { return invalidations; }
}
