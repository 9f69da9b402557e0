package tcesim.virtio;

import java.util.ArrayDeque;

/**
 * A split virtqueue as it lies in guest memory: the driver adds descriptors to the available ring, the
 * device returns them through the used ring, and each side tells the other when it wants to be notified.
 *
 * <p>Models the split ring of the virtio 1.x specification (section 2.7): descriptors carry a bus address
 * (an IOVA when VIRTIO_F_ACCESS_PLATFORM is negotiated), a length and the WRITE flag (device writes the
 * buffer: RX); the used element returns the descriptor head and the number of bytes written. The ring
 * memory itself is mapped once for DMA at driver start (coherent), at {@link #ringIova()}; the device
 * translates that address too when it touches the ring.
 *
 * <p>Only what lies in the shared memory is here; each side's private copies (the driver's
 * {@code last_used_idx}, the device's {@code last_avail_idx} and {@code used_flags}) belong to the side:
 * {@code tcesim.guest.VirtqueueDriver} and {@code tcesim.vhost.VhostNet}. The shared words:
 * <ul>
 * <li>{@code avail->idx} ({@link #availIdx()}) and {@code used->idx} ({@link #usedIdx()}), free-running 16-bit
 *     counters: the descriptors the driver has made available, the elements the device has used. Here they are
 *     kept as ints and compared modulo 2^16, as {@code vring_need_event} does.
 * <li>With VIRTIO_RING_F_EVENT_IDX (which Linux and QEMU's virtio-net negotiate by default: QEMU's
 *     {@code DEFINE_VIRTIO_COMMON_FEATURES} has {@code event_idx} on): {@code avail_event} at the end of the used
 *     ring, written by the device ("kick me when you make entry N available"), and {@code used_event} at the end
 *     of the available ring, written by the driver ("interrupt me when you use entry N").
 * <li>Without it: {@code used->flags} VRING_USED_F_NO_NOTIFY (device: "do not kick") and {@code avail->flags}
 *     VRING_AVAIL_F_NO_INTERRUPT (driver: "do not interrupt").
 * </ul>
 * Descriptors the device has taken but not yet returned are counted ({@link #inFlight}): vhost writes used
 * elements in batches ({@code vhost_net_signal_used}), so a consumed buffer can stay invisible to the driver
 * for a while.
 */
public final class Vring implements tcesim.state.Snapshot {
    /** One descriptor chain head, as the driver posts it. */
    public record Desc(int id, long iova, int len, boolean deviceWrites) {}

    /**
     * One used element, and for the first buffer of a packet spread over several (virtio-net's mergeable receive
     * buffers) the {@code num_buffers} the device wrote into its header; 1 otherwise.
     */
    public record Used(int id, int len, int bufs) {
        public Used(int id, int len) { this(id, len, 1); }
    }

    private final int size;
    private final long ringIova;
    private final boolean eventIdx;
    private final ArrayDeque<Desc> avail = new ArrayDeque<>();
    private final ArrayDeque<Used> used = new ArrayDeque<>();
    private int inFlight;
    private int availIdx;
    private int usedIdx;
    private int availEvent;
    private int usedEvent;
    private boolean noNotify;
    private boolean noInterrupt;

    /** A ring with VIRTIO_RING_F_EVENT_IDX negotiated (Linux with QEMU's devices, by default). */
    public Vring(int size, long ringIova) {
        this(size, ringIova, true);
    }

    public Vring(int size, long ringIova, boolean eventIdx) {
        if (size <= 0 || Integer.bitCount(size) != 1) throw new IllegalArgumentException("virtqueue size " + size + " must be a power of two");
        this.size = size;
        this.ringIova = ringIova;
        this.eventIdx = eventIdx;
    }

    public int size() { return size; }
    public long ringIova() { return ringIova; }
    /** Whether VIRTIO_RING_F_EVENT_IDX was negotiated. */
    public boolean eventIdx() { return eventIdx; }

    /** Descriptors the driver owns no longer: posted and not yet returned. */
    public int outstanding() { return avail.size() + inFlight + used.size(); }

    /** Free descriptors, as the driver counts them ({@code vq->num_free}): returned ones count only once reaped. */
    public int numFree() { return size - outstanding(); }

    public boolean hasRoom() { return outstanding() < size; }

    /** The driver adds a descriptor and publishes {@code avail->idx} ({@code virtqueue_add}: one publish per add). */
    public void post(Desc d) {
        if (!hasRoom()) throw new IllegalStateException("virtqueue full");
        avail.addLast(d);
        availIdx = (availIdx + 1) & 0xffff;
    }

    public boolean hasAvail() { return !avail.isEmpty(); }
    public Desc peekAvail() { return avail.peekFirst(); }
    /** The {@code i}-th available descriptor not yet taken by the device (0 is the next one). */
    public Desc availAt(int i) {
        int k = 0;
        for (Desc d : avail) if (k++ == i) return d;
        return null;
    }

    /** The device consumes the head descriptor (vhost's {@code vhost_get_vq_desc}). */
    public Desc popAvail() {
        Desc d = avail.removeFirst();
        inFlight++;
        return d;
    }

    /** The device writes a used element and publishes {@code used->idx} ({@code vhost_add_used_n}). */
    public void pushUsed(int id, int len) {
        pushUsed(id, len, 1);
    }

    /** The same, for a buffer whose header says the packet took {@code bufs} buffers (0 for the packet's later buffers). */
    public void pushUsed(int id, int len, int bufs) {
        inFlight--;
        used.addLast(new Used(id, len, bufs));
        usedIdx = (usedIdx + 1) & 0xffff;
    }

    public boolean hasUsed() { return !used.isEmpty(); }

    /** The driver reaps a used element ({@code virtqueue_get_buf}). */
    public Used popUsed() { return used.removeFirst(); }

    /** Whether the device has returned descriptor {@code id} in the used ring (the driver can read it there before reaping). */
    public boolean returned(int id) {
        for (Used u : used) if (u.id() == id) return true;
        return false;
    }

    public int availCount() { return avail.size(); }
    public int usedCount() { return used.size(); }
    /** Descriptors the device has taken and not yet returned in the used ring. */
    public int inFlight() { return inFlight; }

    /** {@code avail->idx}. */
    public int availIdx() { return availIdx; }
    /** {@code used->idx}. */
    public int usedIdx() { return usedIdx; }
    /** The device's {@code last_avail_idx}: where the next descriptor it takes is. */
    public int lastAvailIdx() { return (availIdx - avail.size()) & 0xffff; }
    /** The driver's {@code last_used_idx}: the next used element it reaps. */
    public int lastUsedIdx() { return (usedIdx - used.size()) & 0xffff; }

    public int availEvent() { return availEvent; }
    public void setAvailEvent(int v) { availEvent = v & 0xffff; }
    public int usedEvent() { return usedEvent; }
    public void setUsedEvent(int v) { usedEvent = v & 0xffff; }
    /** {@code used->flags} & VRING_USED_F_NO_NOTIFY. */
    public boolean noNotify() { return noNotify; }
    public void setNoNotify(boolean v) { noNotify = v; }
    /** {@code avail->flags} & VRING_AVAIL_F_NO_INTERRUPT. */
    public boolean noInterrupt() { return noInterrupt; }
    public void setNoInterrupt(boolean v) { noInterrupt = v; }

    /**
     * {@code vring_need_event(event_idx, new_idx, old)} (include/uapi/linux/virtio_ring.h): whether moving an index from
     * {@code old} to {@code newIdx} passed {@code event}, in 16-bit arithmetic: {@code (u16)(new - event - 1) < (u16)(new - old)}.
     */
    public static boolean needEvent(int event, int newIdx, int old) {
        return ((newIdx - event - 1) & 0xffff) < ((newIdx - old) & 0xffff);
    }

    /** Available descriptors in ring order, used elements in ring order, the count the device holds, and the shared indices and flags. */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(avail.size(), used.size());
        for (Desc d : avail) {
            out.put(((long) d.id() << 1) | (d.deviceWrites() ? 1 : 0), d.iova());
            out.put(d.len());
        }
        for (Used u : used) out.put(u.id() | ((long) u.bufs() << 32), u.len());
        out.put(inFlight | ((long) availIdx << 16) | ((long) usedIdx << 32) | (noNotify ? 1L << 48 : 0) | (noInterrupt ? 1L << 49 : 0));
        out.put(availEvent | ((long) usedEvent << 16));
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        int na = in.nextInt();
        int nu = in.nextInt();
        avail.clear();
        used.clear();
        for (int i = 0; i < na; i++) {
            long h = in.next();
            long iova = in.next();
            avail.addLast(new Desc((int) (h >> 1), iova, in.nextInt(), (h & 1) != 0));
        }
        for (int i = 0; i < nu; i++) {
            long h = in.next();
            used.addLast(new Used((int) h, in.nextInt(), (int) (h >>> 32)));
        }
        long w = in.next();
        inFlight = (int) (w & 0xffff);
        availIdx = (int) ((w >>> 16) & 0xffff);
        usedIdx = (int) ((w >>> 32) & 0xffff);
        noNotify = (w & (1L << 48)) != 0;
        noInterrupt = (w & (1L << 49)) != 0;
        long e = in.next();
        availEvent = (int) (e & 0xffff);
        usedEvent = (int) ((e >>> 16) & 0xffff);
    }
}
