package tcesim.kvm;

/**
 * Design D4: vhost's device IOTLB linked to the guest table in KVM, so that KVM invalidates it itself.
 *
 * <p>Modelled on {@code KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE}: QEMU hands KVM the vhost device for the LIOBN,
 * KVM attaches it to the table like a hardware table, and before a hypercall that changed entries returns it
 * invalidates their bus range in vhost's IOTLB by calling the same code a userspace INVALIDATE runs
 * ({@code vhost_process_iotlb_msg}, under vhost's device and virtqueue mutexes). Taking those mutexes sleeps,
 * which real mode cannot do, so a table with such a link makes real mode hand every call to virtual mode.
 *
 * <p>Which range it invalidates is the link's own design ({@link Range}): a link written for vhost invalidates
 * the entries the call wrote ({@link Range#WRITTEN}, the default); one that reuses the VFIO path's TCE kills
 * inherits their ranges ({@link Range#TCE_KILL}), and so, on a 2019 kernel, H_STUFF_TCE's kill of the entries after
 * the cleared ones (fixed for VFIO by 26a62b750a4e "KVM: PPC: Fix TCE handling for VFIO", 2022).
 */
public final class VhostIotlbLink implements AttachedTable {
    /** What KVM calls into vhost with. */
    @FunctionalInterface
    public interface Invalidate {
        void invalidate(long iova, long size);
    }

    /** The range the link invalidates. */
    public enum Range {
        /** The entries the hypercall wrote, once it has written them. */
        WRITTEN,
        /** The range of each TCE kill KVM issues for an attached table, as the kernel era computes it. */
        TCE_KILL
    }

    private final int pageShift;
    private final Range range;
    private final Invalidate vhost;
    private long invalidations;
    /** WRITTEN: the run of entries written so far in this hypercall, or -1. */
    private long first = -1, last = -1;

    public VhostIotlbLink(int pageShift, Range range, Invalidate vhost) {
        this.pageShift = pageShift;
        this.range = range;
        this.vhost = vhost;
    }

    @Override
    public boolean realModeCapable() { return false; }

    @Override
    public long exchange(long idx, long gpa, int perm) {
        if (range == Range.WRITTEN) {
            if (first >= 0 && idx >= first && idx <= last) return tcesim.papr.Hcall.H_SUCCESS;
            if (first >= 0 && idx != last + 1) flush();
            if (first < 0) first = idx;
            last = idx;
        }
        return tcesim.papr.Hcall.H_SUCCESS;
    }

    @Override
    public void kill(long idx, long npages) {
        if (range == Range.TCE_KILL) invalidate(idx, npages);
    }

    @Override
    public void hypercallDone() {
        flush();
    }

    private void flush() {
        if (first < 0) return;
        invalidate(first, last - first + 1);
        first = -1;
        last = -1;
    }

    private void invalidate(long idx, long npages) {
        if (npages <= 0) return;
        invalidations++;
        vhost.invalidate(idx << pageShift, npages << pageShift);
    }

    public long invalidations() { return invalidations; }
}
