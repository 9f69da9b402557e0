package tcesim.kvm;

import java.util.ArrayDeque;

/**
 * Designs D3a and D3b: KVM tells QEMU about the entries its handlers cleared through an eventfd, and QEMU
 * forwards them to vhost as INVALIDATE.
 *
 * <p>Modelled as KVM would have to build it: attached to each guest table vhost listens on, like a VFIO group (a new
 * attribute next to {@code KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE}; {@link #forWindow}), it collects the cleared entries of
 * each hypercall ({@code exchange} with no permission) and, at the end of the hypercall ({@code hypercallDone}), queues their
 * bus range and signals the one eventfd ({@code eventfd_signal}, which may not be called in real mode here: it hands
 * the call to virtual mode). QEMU's handler reads the queue in its main loop. Valid-to-valid overwrites are not
 * reported: the design is about clears, as in the thread.
 *
 * <p>In D3a the hypercall returns at once; in D3b ({@link #synchronous()}) the vCPU waits until QEMU has
 * acknowledged every range queued by its hypercall ({@link #acked()} reaches the hypercall's {@link #queued()}).
 */
public final class IotlbEventfd implements tcesim.state.Snapshot {
    /** One cleared range, in bus addresses. */
    public record Range(long iova, long size, long seq) {}

    private final boolean synchronous;
    private final ArrayDeque<Range> queue = new ArrayDeque<>();
    private long queued;
    private long acked;

    public IotlbEventfd(boolean synchronous) {
        this.synchronous = synchronous;
    }

    public boolean synchronous() { return synchronous; }

    /** What KVM attaches to one window's table (of IOMMU page shift {@code pageShift}): its clears go to this eventfd. */
    public AttachedTable forWindow(int pageShift) {
        return new AttachedTable() {
            // The run of cleared entries of the hypercall under way (none between hypercalls).
            private long first = -1;
            private long last = -1;

            @Override
            public boolean realModeCapable() { return false; }

            @Override
            public long exchange(long idx, long gpa, int perm) {
                if (perm == 0) {
                    if (first < 0 || idx != last + 1) flush();
                    if (first < 0) first = idx;
                    last = idx;
                }
                return tcesim.papr.Hcall.H_SUCCESS;
            }

            @Override
            public void kill(long idx, long npages) {
                // Where the era puts its TCE kills does not matter here: the range goes out once the call is done.
            }

            @Override
            public void hypercallDone() {
                flush();
            }

            private void flush() {
                if (first < 0) return;
                queue.addLast(new Range(first << pageShift, (last - first + 1) << pageShift, ++queued));
                first = -1;
                last = -1;
            }
        };
    }

    /** The eventfd is readable: ranges wait for QEMU. */
    public boolean signaled() { return !queue.isEmpty(); }

    /** QEMU reads the next range. */
    public Range read() { return queue.pollFirst(); }

    /** QEMU acknowledges a range it has forwarded to vhost (D3b). */
    public void ack(Range r) { acked = Math.max(acked, r.seq()); }

    /** Ranges queued so far (the sequence number of the last). */
    public long queued() { return queued; }

    public long acked() { return acked; }

    /** The queued ranges and the sequence counters (between hypercalls no window is collecting a range). */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(queued, acked);
        out.put(queue.size());
        for (Range r : queue) {
            out.put(r.iova(), r.size());
            out.put(r.seq());
        }
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        queued = in.next();
        acked = in.next();
        queue.clear();
        for (int n = in.nextInt(); n > 0; n--) {
            long iova = in.next();
            long size = in.next();
            queue.addLast(new Range(iova, size, in.next()));
        }
    }
}
