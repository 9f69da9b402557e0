package tcesim.sim;

import tcesim.kvm.IotlbEventfd;
import tcesim.qemu.VhostIommu;
import tcesim.vhost.IotlbMsg;
import tcesim.vhost.VhostDevice;

/**
 * QEMU's main loop, serving the vhost fd.
 *
 * <p>Models QEMU's main loop ({@code main_loop_wait}, util/main-loop.c, which runs its fd handlers under the BQL) with
 * the vhost fd's read handler ({@code vhost_kernel_iotlb_read}, hw/virtio/vhost-backend.c, set by
 * {@code vhost_kernel_set_iotlb_callback} with {@code qemu_set_fd_handler}): each MISS goes through
 * {@code vhost_backend_handle_iotlb_msg} to {@code vhost_device_iotlb_miss} (hw/virtio/vhost.c), which translates it
 * and writes the UPDATE; in designs D3a and D3b, also the handler of KVM's eventfd. Reading and translating a MISS is
 * one step, writing the UPDATE the next, with the BQL held from one to the other: in-kernel hypercalls do not take
 * the BQL and can run between, a hypercall that exits to QEMU waits. A write to vhost's fd waits while vhost's worker
 * holds a virtqueue mutex (the main loop is blocked in write(), the BQL still held). What the handlers do is
 * {@link VhostIommu}.
 */
final class QemuMainLoop implements Actor, tcesim.state.Snapshot {
    private static final String[] NAMES = {"iotlb-miss", "iotlb-update", "eventfd"};

    private final Stack stack;
    private final Stats stats;
    private final Clocks clocks;
    private final VhostIommu glue;
    private final VhostDevice vhost;
    /** Designs D3a/D3b: the eventfd KVM signals; null otherwise. */
    private final IotlbEventfd eventfd;

    /** Whether the main loop holds the BQL: from reading a MISS to writing its UPDATE. */
    private boolean bqlHeld;
    /** The UPDATE translated and not yet written, or null. */
    private IotlbMsg pendingUpdate;

    /** QEMU's main loop of {@code stack}, made once vhost's glue and the design's eventfd exist. */
    QemuMainLoop(Stack stack) {
        this.stack = stack;
        this.stats = stack.stats();
        this.clocks = stack.clocks();
        this.glue = stack.vhostIommu();
        this.vhost = stack.vhost();
        this.eventfd = stack.eventfd();
    }

    @Override public String name() { return "qemu"; }
    @Override public String stepName(int kind) { return NAMES[kind]; }

    /** Whether the main loop holds the BQL, so that a hypercall exiting to QEMU has to wait. */
    boolean holdsBql() { return bqlHeld; }

    @Override
    public void enabledSteps(StepList out) {
        // Writing to vhost's fd waits while the worker holds a virtqueue mutex (vhost_process_iotlb_msg locks them all).
        boolean writable = vhost.acceptsIotlbMsg();
        if (pendingUpdate != null) {
            if (writable) out.add(this, 1);
            return;
        }
        if (bqlHeld) return;
        if (glue.missPending()) out.add(this, 0);
        if (eventfd != null && eventfd.signaled() && writable) out.add(this, 2);
    }

    @Override
    public void step(int kind) {
        stack.lane(CostLedger.Lane.QEMU);
        CostLedger ledger = stack.ledger();
        if (kind == 0) {
            // The MISS round trip (wake-up, read, translate, UPDATE write, re-kick) is priced as one and spent here; a MISS
            // already waiting when QEMU gets to it is read in the same wake-up, for less.
            boolean woke = ledger.after(clocks.misses.poll());
            ledger.charge(CostLedger.Lane.QEMU, woke ? CostLedger.Kind.IOTLB_MISS : CostLedger.Kind.IOTLB_MISS_QUEUED, 1);
            bqlHeld = true;
            stats.missesRead++;
            pendingUpdate = glue.readAndTranslate();
            if (pendingUpdate == null) {
                stats.missesUnanswered++;
                bqlHeld = false;
                clocks.bqlFree = ledger.now();
            }
        } else if (kind == 2) {
            // The eventfd handler runs under the BQL and finishes within the step.
            ledger.after(clocks.signals.poll());
            ledger.after(clocks.vhostFree);
            ledger.charge(CostLedger.Lane.QEMU, CostLedger.Kind.EVENTFD, 1);
            IotlbEventfd.Range r = eventfd.read();
            glue.invalidate(r.iova(), r.size());
            eventfd.ack(r);
            clocks.acked = ledger.now();
        } else {
            IotlbMsg u = pendingUpdate;
            pendingUpdate = null;
            ledger.after(clocks.vhostFree);
            long missesBefore = vhost.missesQueued();
            glue.sendUpdate(u); // a covered MISS's queue is re-kicked: its work is timed as queued now
            // A design's vhost that drops a late UPDATE sends its MISS again, queued now.
            for (long m = vhost.missesQueued() - missesBefore; m > 0; m--) clocks.misses.add(ledger.now());
            stats.updates++;
            bqlHeld = false;
            clocks.bqlFree = ledger.now();
        }
    }

    /** The BQL and the pending UPDATE: the first words of the stack's host side (see {@link Stack#save}). */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(bqlHeld);
        out.put(pendingUpdate != null);
        if (pendingUpdate != null) {
            out.put(pendingUpdate.iova(), pendingUpdate.size());
            out.put(pendingUpdate.uaddr(), pendingUpdate.perm());
        }
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        bqlHeld = in.nextBool();
        pendingUpdate = null;
        if (in.nextBool()) {
            long iova = in.next();
            long size = in.next();
            long uaddr = in.next();
            pendingUpdate = IotlbMsg.update(iova, size, uaddr, in.nextInt());
        }
    }
}
