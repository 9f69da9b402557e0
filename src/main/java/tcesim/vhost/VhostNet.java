package tcesim.vhost;

import tcesim.virtio.Vring;

/**
 * The vhost-net worker: moves packets between the tap device and the guest's virtqueues through the
 * device IOTLB.
 *
 * <p>Models {@code handle_rx} / {@code handle_tx} of Linux {@code drivers/vhost/net.c} with the
 * translation of {@code drivers/vhost/vhost.c}: under the virtqueue mutex the worker checks that the
 * ring is mapped ({@code vq_meta_prefetch}: desc and avail rings read-only, used ring write-only), takes
 * the head descriptor ({@code vhost_get_vq_desc}, which translates the buffer with
 * {@code translate_desc}), copies the packet, and adds the used element. A translation miss queues a
 * MISS for userspace and leaves the descriptor in the ring; any other translation error stops the queue too
 * ({@code vq_err}). Either way the worker stops "handling until the next kick" (vhost-net's handle_rx/handle_tx,
 * {@code /* On error, stop handling until the next kick. *}{@code /}). The guest's kicks do not reach it then:
 * handle_rx/handle_tx disable guest notifications while they work and leave them off when they stop on an error.
 * What wakes it is the UPDATE's re-kick ({@code vhost_iotlb_notify_vq}) or, for RX, the tap: the socket's poll
 * wakes handle_rx for every packet that arrives ({@link #kick}), which translates the same descriptor again and,
 * missing again, queues another MISS (vhost_iotlb_miss does not look for one already queued). Because
 * UPDATE and INVALIDATE take every virtqueue mutex, a whole {@link #handleRx()} or {@link #handleTx()}
 * is one atomic step. The fault-injection switch {@code skipVqLock} splits translation and copy into two
 * steps, as if the worker did not hold the mutex across them.
 */
public final class VhostNet implements tcesim.state.Snapshot {
    public static final int RX_VQ = 0;
    public static final int TX_VQ = 1;

    /** QEMU's address space, where the IOTLB's user addresses point (vhost's copy_to_user / copy_from_user). */
    public interface UserMemory {
        boolean mapped(long hva, long len);

        void write(long hva, byte[] src, int off, int len);

        void read(long hva, byte[] dst, int off, int len);
    }

    /** Sees every device access to guest memory before it is made (the oracles' hook). */
    public interface AccessListener {
        void access(int vq, long iova, long len, long hva, boolean write);
    }

    /** The tap device behind vhost-net. */
    public interface Tap {
        /** Length of the next packet waiting for the guest, or -1. */
        int peekRx();

        /** Copies the next packet into {@code buf} and drops it from the backlog. */
        void takeRx(byte[] buf);

        void transmit(byte[] buf, int len);
    }

    /** What one worker step did. */
    public enum Outcome { IDLE, DONE, MISS, ERROR, TRANSLATED }

    private final VhostDevice dev;
    private final Vring[] vqs;
    private final UserMemory um;
    private final Tap tap;
    private final AccessListener listener;
    private final VhostDevice.Segments seg = new VhostDevice.Segments();
    private final byte[] buf;
    private final boolean[] broken = new boolean[2];
    private final boolean skipVqLock;
    /** With skipVqLock: the translation made in the first half of a step, used by the second. */
    private final long[][] heldHva = new long[2][];
    private final long[][] heldLen = new long[2][];
    /** The iovec array of a translation copied in the same step (vhost's {@code vq->iov}). */
    private long[] iovHva = new long[8], iovLen = new long[8];
    private long copies;
    private long bytes;
    private int lastErrno;

    public VhostNet(VhostDevice dev, Vring rx, Vring tx, UserMemory um, Tap tap, AccessListener listener, int maxPacket, boolean skipVqLock) {
        this.dev = dev;
        this.vqs = new Vring[] {rx, tx};
        this.um = um;
        this.tap = tap;
        this.listener = listener;
        this.buf = new byte[maxPacket];
        this.skipVqLock = skipVqLock;
    }

    public VhostDevice device() { return dev; }

    /** Whether {@code vq} has work the worker would do now. */
    public boolean canRun(int vq) {
        if (heldHva[vq] != null) return true;
        if (broken[vq] || dev.isStalled(vq)) return false;
        Vring r = vqs[vq];
        if (!r.hasAvail()) return false;
        return vq == TX_VQ || tap.peekRx() >= 0;
    }

    public boolean isBroken(int vq) { return broken[vq]; }

    /** The socket's poll wakes handle_rx ({@code vhost_poll_queue}) when a packet arrives: a queue stopped on a miss or an error is handled again. */
    public void kick(int vq) {
        broken[vq] = false;
        dev.pollKick(vq);
    }

    public boolean holdsTranslation(int vq) { return heldHva[vq] != null; }
    public int lastErrno() { return lastErrno; }
    public long copies() { return copies; }
    public long bytes() { return bytes; }

    public Outcome handleRx() { return handle(RX_VQ); }

    public Outcome handleTx() { return handle(TX_VQ); }

    private Outcome handle(int vq) {
        if (heldHva[vq] != null) return copy(vq, heldHva[vq], heldLen[vq], heldHva[vq].length);
        if (!canRun(vq)) return Outcome.IDLE;
        Vring r = vqs[vq];
        int rc = dev.accessOk(vq, r.ringIova(), tcesim.mem.GuestMemory.PAGE_SIZE, IotlbMsg.RO);
        if (rc == 0) rc = dev.accessOk(vq, r.ringIova(), tcesim.mem.GuestMemory.PAGE_SIZE, IotlbMsg.WO);
        if (rc != 0) return failed(vq, rc);
        Vring.Desc d = r.peekAvail();
        int len = vq == RX_VQ ? Math.min(tap.peekRx(), d.len()) : d.len();
        int n = dev.translate(vq, d.iova(), len, vq == RX_VQ ? IotlbMsg.WO : IotlbMsg.RO, seg, VhostDevice.UIO_MAXIOV);
        if (n < 0) return failed(vq, n);
        if (skipVqLock) {
            long[] hva = new long[n];
            long[] ln = new long[n];
            for (int i = 0; i < n; i++) {
                hva[i] = seg.hva(i);
                ln[i] = seg.len(i);
            }
            heldHva[vq] = hva;
            heldLen[vq] = ln;
            return Outcome.TRANSLATED;
        }
        // Under the vq mutex: the copy uses the iovecs just translated.
        if (iovHva.length < n) {
            iovHva = new long[n];
            iovLen = new long[n];
        }
        for (int i = 0; i < n; i++) {
            iovHva[i] = seg.hva(i);
            iovLen[i] = seg.len(i);
        }
        return copy(vq, iovHva, iovLen, n);
    }

    private Outcome failed(int vq, int rc) {
        lastErrno = rc;
        if (rc == -Errno.EAGAIN) return Outcome.MISS;
        broken[vq] = true; // vq_err(): the worker stops serving this queue until the next kick
        return Outcome.ERROR;
    }

    /** Copies the packet through the {@code n} iovecs {@code hva[i], ln[i]}, then returns the descriptor in the used ring. */
    private Outcome copy(int vq, long[] hva, long[] ln, int n) {
        heldHva[vq] = null;
        heldLen[vq] = null;
        Vring r = vqs[vq];
        Vring.Desc d = r.popAvail();
        int total = 0;
        for (int i = 0; i < n; i++) total += (int) ln[i];
        boolean write = vq == RX_VQ;
        if (write) tap.takeRx(buf);
        long iova = d.iova();
        int off = 0;
        for (int i = 0; i < n; i++) {
            int l = (int) ln[i];
            listener.access(vq, iova + off, l, hva[i], write);
            if (um.mapped(hva[i], l)) {
                if (write) um.write(hva[i], buf, off, l);
                else um.read(hva[i], buf, off, l);
            }
            off += l;
        }
        if (!write) tap.transmit(buf, total);
        r.pushUsed(d.id(), write ? total : 0);
        copies++;
        bytes += total;
        return Outcome.DONE;
    }

    /** The worker's own state: stopped queues and a translation held across a split step (counters are bookkeeping). */
    @Override
    public void save(tcesim.state.StateWriter out) {
        for (int vq = 0; vq < 2; vq++) {
            out.put(broken[vq]);
            out.put(heldHva[vq] == null ? -1 : heldHva[vq].length);
            if (heldHva[vq] != null) for (int i = 0; i < heldHva[vq].length; i++) out.put(heldHva[vq][i], heldLen[vq][i]);
        }
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        for (int vq = 0; vq < 2; vq++) {
            broken[vq] = in.nextBool();
            int n = in.nextInt();
            heldHva[vq] = n < 0 ? null : new long[n];
            heldLen[vq] = n < 0 ? null : new long[n];
            for (int i = 0; i < n; i++) {
                heldHva[vq][i] = in.next();
                heldLen[vq][i] = in.next();
            }
        }
    }
}
