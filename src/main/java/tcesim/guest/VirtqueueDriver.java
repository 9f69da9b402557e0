package tcesim.guest;

import tcesim.virtio.Vring;

/**
 * The guest's side of one split virtqueue: what Linux's drivers/virtio/virtio_ring.c keeps privately
 * ({@code num_added}, whether callbacks are enabled) and the notification decisions it makes, as in v5.4.
 *
 * <p>Rules (drivers/virtio/virtio_ring.c, v5.4):
 * <ul>
 * <li>{@code virtqueue_add}: each descriptor is published at once ({@code avail->idx} written after a write
 *     barrier), so the device may take it before any kick; {@code num_added} counts the adds since the last kick
 *     decision.
 * <li>{@code virtqueue_kick_prepare_split}: with EVENT_IDX, kick iff the new entries passed the device's
 *     {@code avail_event} ({@code vring_need_event(avail_event, new, old)}, old = new - num_added); without, iff
 *     {@code used->flags} lacks VRING_USED_F_NO_NOTIFY. {@code num_added} goes back to 0.
 * <li>{@code virtqueue_disable_cb_split}: sets VRING_AVAIL_F_NO_INTERRUPT in the private shadow; it writes
 *     {@code avail->flags} only without EVENT_IDX: with it, nothing is written and interrupts stop only because
 *     {@code used_event} is left behind (v5.14 made it write {@code used_event = 0}, 8d622d21d248).
 * <li>{@code virtqueue_enable_cb_prepare_split}: clears the shadow flag (writes {@code avail->flags} without
 *     EVENT_IDX), writes {@code used_event = last_used_idx} and returns it for {@code virtqueue_poll}.
 * <li>{@code virtqueue_enable_cb_delayed_split}: the same, with {@code used_event} three quarters of the outstanding
 *     buffers ahead; false when more than that many were used already.
 * <li>{@code virtqueue_get_buf_ctx_split}: takes the next used element and, while callbacks are enabled, writes
 *     {@code used_event = last_used_idx}. The buffer's DMA unmapping ({@code detach_buf_split}) happens inside it,
 *     before the driver sees the buffer: the callers here make the unmap's hypercalls first.
 * <li>{@code virtqueue_poll}: whether {@code used->idx} moved past the index {@code enable_cb_prepare} returned.
 * </ul>
 */
public final class VirtqueueDriver implements tcesim.state.Snapshot {
    private final Vring ring;
    private int numAdded;
    private boolean cbEnabled = true;

    public VirtqueueDriver(Vring ring) {
        this.ring = ring;
    }

    public Vring ring() { return ring; }
    public boolean callbacksEnabled() { return cbEnabled; }
    /** {@code vq->num_free}. */
    public int numFree() { return ring.numFree(); }

    /** {@code virtqueue_add_inbuf}/{@code _outbuf}: the descriptor is published. */
    public void add(Vring.Desc d) {
        ring.post(d);
        numAdded++;
    }

    /** {@code virtqueue_kick_prepare}: whether the device wants a kick for the descriptors added since the last decision. */
    public boolean kickPrepare() {
        int newIdx = ring.availIdx();
        int old = (newIdx - numAdded) & 0xffff;
        numAdded = 0;
        return ring.eventIdx() ? Vring.needEvent(ring.availEvent(), newIdx, old) : !ring.noNotify();
    }

    /** Whether used elements are waiting ({@code more_used}). */
    public boolean moreUsed() { return ring.hasUsed(); }

    /** {@code virtqueue_get_buf}: the next used element (its buffer already unmapped by the caller). */
    public Vring.Used getBuf() {
        Vring.Used u = ring.popUsed();
        if (cbEnabled) ring.setUsedEvent(ring.lastUsedIdx());
        return u;
    }

    /** {@code virtqueue_disable_cb}. */
    public void disableCb() {
        if (!cbEnabled) return;
        cbEnabled = false;
        if (!ring.eventIdx()) ring.setNoInterrupt(true);
    }

    /** {@code virtqueue_enable_cb_prepare}: callbacks on; returns the index {@link #poll} compares with. */
    public int enableCbPrepare() {
        if (!cbEnabled) {
            cbEnabled = true;
            if (!ring.eventIdx()) ring.setNoInterrupt(false);
        }
        int last = ring.lastUsedIdx();
        ring.setUsedEvent(last);
        return last;
    }

    /** {@code virtqueue_poll}: whether the device used more since {@code enableCbPrepare} returned {@code opaque}. */
    public boolean poll(int opaque) { return opaque != ring.usedIdx(); }

    /** {@code virtqueue_enable_cb_delayed}: callbacks on, interrupt after 3/4 of the outstanding buffers; false if that many are used already. */
    public boolean enableCbDelayed() {
        if (!cbEnabled) {
            cbEnabled = true;
            if (!ring.eventIdx()) ring.setNoInterrupt(false);
        }
        int last = ring.lastUsedIdx();
        int bufs = ((ring.availIdx() - last) & 0xffff) * 3 / 4;
        ring.setUsedEvent(last + bufs);
        return ((ring.usedIdx() - last) & 0xffff) <= bufs;
    }

    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(numAdded | (cbEnabled ? 1L << 32 : 0));
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        long w = in.next();
        numAdded = (int) (w & 0xffffffffL);
        cbEnabled = (w >>> 32) != 0;
    }
}
