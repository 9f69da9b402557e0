package tcesim.vhost;

import java.util.Arrays;
import tcesim.virtio.Vring;

/**
 * The vhost-net device: its handlers, which move packets between the tap device and the guest's virtqueues
 * through the device IOTLB, and the wake-up machinery that decides when they run.
 *
 * <p>Models {@code handle_rx} / {@code handle_tx_copy} of Linux drivers/vhost/net.c with the notification and
 * polling code of drivers/vhost/vhost.c, as read in the late-2019 tree (v5.3 to v5.6) and checked unchanged in
 * control flow in the 2022 tree (docs/fidelity.md has a row per rule). In 2025, 8c2e6b26ffe2 "vhost/net: Defer TX
 * queue re-enable until after sendmsg" made handle_tx re-queue itself after any exit with buffers left, an IOTLB
 * miss included, until "vhost-net: correctly flush batched packet before enabling notification" (Sep 2025) restored
 * the exit modelled here; no era of the model runs those kernels:
 * <ul>
 * <li><b>Who runs a handler.</b> The device's worker runs queued works in order ({@link VhostDevice#takeWork}).
 *     Each virtqueue has two works that call its handler: its kick work ({@code vq->poll}, queued by a guest kick
 *     through the kick eventfd, whose poll is always armed; by {@code vhost_iotlb_notify_vq} when an UPDATE covers a
 *     MISS of the queue that userspace has read; and by {@code vhost_exceeds_weight}) and its socket work
 *     ({@code n->poll[vq]}, queued when the tap socket signals EPOLLIN for RX or EPOLLOUT for TX while that poll is
 *     armed, and at once when it is armed on a socket already ready). A queued work is not queued twice.
 * <li><b>Entry.</b> Under the virtqueue mutex (held to the exit: IOTLB messages wait for it), the handler first
 *     prefetches the ring's translations ({@code vq_meta_prefetch}: desc and avail read-only, used write-only, at most
 *     one MISS); when that fails it leaves at once, before touching notifications or the socket poll. Else it
 *     disables guest notifications ({@code vhost_disable_notify}: with VIRTIO_RING_F_EVENT_IDX only a private flag, so
 *     {@code avail_event} stays where it was and the guest may still kick once when it passes it) and stops the socket
 *     poll ({@code vhost_net_disable_vq}).
 * <li><b>Exits</b> (RX; TX is the same shape, without the socket's part):
 *     the socket is drained: the socket poll is re-armed, notifications stay off;
 *     a packet is waiting but the ring is empty: notifications are enabled ({@code vhost_enable_notify}: without
 *     EVENT_IDX {@code used->flags} is cleared, with it {@code avail_event} is written) and, if the guest slipped a
 *     buffer in meanwhile, disabled again and the loop goes on; the socket poll stays stopped;
 *     a translation fails (a MISS's -EAGAIN, or -EPERM, -EFAULT): "stop handling until the next kick", re-arming
 *     nothing; 256 packets or 512 KiB ({@code VHOST_NET_PKT_WEIGHT}, {@code VHOST_NET_WEIGHT}): the kick work is
 *     queued again. So after a MISS, packets reaching the tap do not run the handler: the UPDATE's re-kick does,
 *     or a kick or socket wake-up queued before, or a guest kick the stale {@code avail_event} still allows.
 * <li><b>Used elements</b> are written in batches ({@code vhost_net_signal_used}: at the exit, and when more than
 *     {@code VHOST_NET_BATCH} = 64 are pending) and the guest interrupted when {@code vhost_notify} says so: with
 *     EVENT_IDX when the used index passed the driver's {@code used_event} since the last signal, else when
 *     VRING_AVAIL_F_NO_INTERRUPT is clear.
 * </ul>
 *
 * <p><b>Steps.</b> One step of the worker is one packet of a handler run: translating its descriptors and copying
 * it, under the virtqueue mutex, as one atomic step; the entry is part of a run's first step, and the tests that end
 * the loop after a packet (weight, drained socket, empty ring with its notification re-check) are part of that
 * packet's step, since nothing the guest or the network does in between can change their outcome other than by
 * coming before or after the step. A MISS ends its step and the run.
 *
 * <p>Not modelled: busy polling ({@code busyloop_timeout} is 0 unless userspace sets it, and QEMU does not by
 * default), TX zero-copy ({@code experimental_zcopytx} is 0), XDP batching of TX, a tap whose queue is full (its
 * EPOLLOUT wake-up of TX), VIRTIO_F_NOTIFY_ON_EMPTY (Linux does not negotiate it), dirty logging.
 *
 * <p>The fault-injection switch {@code skipVqLock} releases the virtqueue mutex between translating a descriptor
 * and copying into it, as if the worker did not hold it across both: an IOTLB message can then come in between.
 */
public final class VhostNet implements tcesim.state.Snapshot {
    public static final int RX_VQ = 0;
    public static final int TX_VQ = 1;
    /** drivers/vhost/net.c: "Max number of bytes transferred before requeueing the job." */
    public static final int VHOST_NET_WEIGHT = 0x80000;
    /** drivers/vhost/net.c: "Max number of packets transferred before requeueing the job." */
    public static final int VHOST_NET_PKT_WEIGHT = 256;
    /** drivers/vhost/net.c: used elements written at once. */
    public static final int VHOST_NET_BATCH = 64;
    /** sizeof(struct virtio_net_hdr_mrg_rxbuf): the header the tap adds before each packet (IFF_VNET_HDR) and the guest's buffers hold. */
    public static final int VNET_HDR_LEN = 12;

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
        /** Length of the next packet waiting for the guest (without its virtio-net header), or -1. */
        int peekRx();

        /** Copies the next packet into {@code buf} and drops it from the backlog. */
        void takeRx(byte[] buf);

        /** Sends a packet of {@code len} bytes to the wire. */
        void transmit(byte[] buf, int len);
    }

    /** The guest's interrupt for a virtqueue ({@code eventfd_signal(vq->call_ctx)}: an irqfd into KVM). */
    public interface GuestInterrupt {
        void raise(int vq);
    }

    /** How a handler run ended. */
    public enum Exit {
        /** Still running. */
        NONE("running"),
        /** vq_meta_prefetch missed: notifications and the socket poll left as they were. */
        PREFETCH_MISS("the ring's own translation missed before anything else: notifications and the socket poll left as they were"),
        /** A descriptor's translation missed: nothing re-armed. */
        MISS("a descriptor's translation missed: socket poll stopped, guest notifications off, until the UPDATE re-kicks"),
        /** Any other translation error (vq_err): nothing re-armed. */
        ERROR("a translation failed: socket poll stopped, guest notifications off, until the next kick"),
        /** The socket is empty: its poll is re-armed; notifications stay off. */
        DRAINED("the tap is drained: socket poll re-armed, guest notifications stay off"),
        /** The ring is empty: notifications on, socket poll stopped. */
        EMPTY("the ring is empty: guest notifications on, socket poll stopped"),
        /** The weight is exceeded: the kick work is queued again. */
        WEIGHT("256 packets or 512 KiB: the queue's kick work is queued again");

        private final String what;

        Exit(String what) { this.what = what; }

        public String what() { return what; }
    }

    /** What one worker step did. */
    public enum Outcome { IDLE, DONE, MISS, ERROR, TRANSLATED, EXITED }

    private static final Exit[] EXITS = Exit.values();

    private final VhostDevice dev;
    private final Vring[] vqs;
    private final UserMemory um;
    private final Tap tap;
    private final AccessListener listener;
    private final GuestInterrupt irq;
    private final VhostDevice.Segments seg = new VhostDevice.Segments();
    private final byte[] buf;
    private final boolean skipVqLock;
    /** The socket works' ids, {@code sockWork + vq}. */
    private final int sockWork;

    // Per virtqueue, vhost.c's struct vhost_virtqueue and net.c's state.
    /** {@code vq->used_flags & VRING_USED_F_NO_NOTIFY}: guest notifications disabled. */
    private final boolean[] noNotify = new boolean[2];
    /** {@code vq->signalled_used} and {@code signalled_used_valid}. */
    private final int[] signalledUsed = new int[2];
    private final boolean[] signalledUsedValid = new boolean[2];
    /** The socket poll is on the tap's wait queue ({@code poll->wqh != NULL}). */
    private final boolean[] sockArmed = new boolean[2];
    /** Used elements not yet written ({@code nvq->done_idx} and {@code vq->heads}): id and length pairs. */
    private final int[][] done = {new int[8], new int[8]};
    private final int[] doneCount = new int[2];
    /** How each queue's last run ended. */
    private final Exit[] lastExit = {Exit.DRAINED, Exit.EMPTY};

    // The run in progress.
    private int runVq = -1;
    private int runPkts;
    private long runBytes;
    /** With skipVqLock: the translation made in the first half of a packet's step, used by the second. */
    private long[] heldHva, heldLen;
    private int[] heldIds, heldLens;

    /** The iovec array of a translation copied in the same step (vhost's {@code vq->iov}). */
    private long[] iovHva = new long[8], iovLen = new long[8];
    private int[] headIds = new int[4], headLens = new int[4];
    private int heads;
    private long copies;
    private long bytes;
    private int lastErrno;

    public VhostNet(VhostDevice dev, Vring rx, Vring tx, UserMemory um, Tap tap, AccessListener listener, GuestInterrupt irq, int maxPacket,
                    boolean skipVqLock) {
        this.dev = dev;
        this.vqs = new Vring[] {rx, tx};
        this.um = um;
        this.tap = tap;
        this.listener = listener;
        this.irq = irq;
        this.buf = new byte[maxPacket + VNET_HDR_LEN];
        this.skipVqLock = skipVqLock;
        this.sockWork = dev.registerWorks(2);
    }

    /**
     * {@code VHOST_NET_SET_BACKEND} for both queues: each socket poll is armed ({@code vhost_net_enable_vq}), which queues
     * its work at once when the socket is ready: the tap is always writable, so TX's socket work runs once.
     */
    public void setBackend() {
        for (int vq = 0; vq < 2; vq++) armSocket(vq);
    }

    public VhostDevice device() { return dev; }

    // ---- wake-ups from outside ----------------------------------------------------------------

    /** A guest kick on {@code vq}'s kick eventfd (the notify register, through KVM's ioeventfd): its kick poll queues the handler. */
    public void kick(int vq) {
        dev.queueWork(vq);
    }

    /** A packet reached the tap: the socket's EPOLLIN wakes the RX socket poll if it is armed. */
    public void tapReadable() {
        if (sockArmed[RX_VQ]) dev.queueWork(sockWork + RX_VQ);
    }

    /** {@code vhost_net_enable_vq}: the socket poll goes on the tap's wait queue and queues its work if the socket is ready now. */
    private void armSocket(int vq) {
        sockArmed[vq] = true;
        boolean ready = vq == TX_VQ || tap.peekRx() >= 0;
        if (ready) dev.queueWork(sockWork + vq);
    }

    // ---- the worker -----------------------------------------------------------------------------

    /** Whether the worker has something to do: a run in progress or a queued work. */
    public boolean canRun() { return runVq >= 0 || dev.hasWork(); }

    /** The queue whose handler runs now, or the one the next queued work is for; -1 when idle. */
    public int nextVq() {
        if (runVq >= 0) return runVq;
        int[] w = dev.queuedWorks();
        return w.length == 0 ? -1 : workVq(w[0]);
    }

    private int workVq(int work) { return work >= sockWork ? work - sockWork : work; }

    /** The queue of the run in progress, or -1. */
    public int runningVq() { return runVq; }
    public Exit lastExit(int vq) { return lastExit[vq]; }
    public boolean socketArmed(int vq) { return sockArmed[vq]; }
    public boolean notificationsDisabled(int vq) { return noNotify[vq]; }
    public boolean holdsTranslation(int vq) { return heldHva != null && runVq == vq; }
    public int lastErrno() { return lastErrno; }
    public long copies() { return copies; }
    public long bytes() { return bytes; }
    /** The descriptor ids the last copied packet took, and how many ({@link #lastHeads()}). */
    public int lastHead(int i) { return headIds[i]; }
    public int lastHeads() { return heads; }

    /** One step of the worker: starts the next queued work's run when none is in progress, then handles one packet. */
    public Outcome step() {
        if (runVq < 0) {
            int w = dev.takeWork();
            if (w < 0) return Outcome.IDLE;
            int vq = workVq(w);
            runVq = vq;
            dev.lockVq(true);
            Vring r = vqs[vq];
            // vq_meta_prefetch: desc and avail read-only, used write-only (one page here), at most one MISS.
            int rc = dev.accessOk(vq, r.ringIova(), tcesim.mem.GuestMemory.PAGE_SIZE, IotlbMsg.RO);
            if (rc == 0) rc = dev.accessOk(vq, r.ringIova(), tcesim.mem.GuestMemory.PAGE_SIZE, IotlbMsg.WO);
            if (rc != 0) {
                lastErrno = rc;
                endRun(Exit.PREFETCH_MISS);
                return rc == -Errno.EAGAIN ? Outcome.MISS : Outcome.ERROR;
            }
            disableNotify(vq);
            sockArmed[vq] = false;
            runPkts = 0;
            runBytes = 0;
            lastExit[vq] = Exit.NONE;
        } else if (heldHva != null) {
            dev.lockVq(true);
            return copy(runVq, heldHva, heldLen, heldHva.length, heldIds, heldLens, heldIds.length);
        }
        return packet(runVq);
    }

    /**
     * One packet of the run on {@code vq}: its buffers, taken and translated one by one as {@code get_rx_bufs} /
     * {@code vhost_get_vq_desc} do (a MISS or an error ends the run at the descriptor that has it; a ring that runs out
     * before the packet fits is the empty-ring exit), then the copy.
     */
    private Outcome packet(int vq) {
        Vring r = vqs[vq];
        boolean rx = vq == RX_VQ;
        int want = rx ? tap.peekRx() : 0;
        if (rx && want < 0) return endRun(Exit.DRAINED);
        int need = rx ? want + VNET_HDR_LEN : 0;
        heads = 0;
        int n = 0;
        for (int i = 0; ; i++) {
            if (i >= r.availCount()) return endRun(Exit.EMPTY);
            Vring.Desc d = r.availAt(i);
            int len = rx ? Math.min(need, d.len()) : d.len();
            int k = dev.translate(vq, d.iova(), len, rx ? IotlbMsg.WO : IotlbMsg.RO, seg, VhostDevice.UIO_MAXIOV - n);
            if (k < 0) {
                lastErrno = k;
                endRun(k == -Errno.EAGAIN ? Exit.MISS : Exit.ERROR);
                return k == -Errno.EAGAIN ? Outcome.MISS : Outcome.ERROR;
            }
            if (iovHva.length < n + k) {
                iovHva = Arrays.copyOf(iovHva, Math.max(2 * iovHva.length, n + k));
                iovLen = Arrays.copyOf(iovLen, iovHva.length);
            }
            for (int j = 0; j < k; j++) {
                iovHva[n + j] = seg.hva(j);
                iovLen[n + j] = seg.len(j);
            }
            n += k;
            if (heads == headIds.length) {
                headIds = Arrays.copyOf(headIds, heads * 2);
                headLens = Arrays.copyOf(headLens, heads * 2);
            }
            headIds[heads] = d.id();
            headLens[heads++] = len;
            if (!rx) break;
            need -= len;
            if (need == 0) break;
        }
        if (skipVqLock) {
            heldHva = Arrays.copyOf(iovHva, n);
            heldLen = Arrays.copyOf(iovLen, n);
            heldIds = Arrays.copyOf(headIds, heads);
            heldLens = Arrays.copyOf(headLens, heads);
            dev.lockVq(false);
            return Outcome.TRANSLATED;
        }
        return copy(vq, iovHva, iovLen, n, headIds, headLens, heads);
    }

    /** Copies the packet through the {@code n} iovecs, takes its {@code h} descriptors and queues their used elements; then the loop's tests. */
    private Outcome copy(int vq, long[] hva, long[] ln, int n, int[] ids, int[] lens, int h) {
        heldHva = null;
        heldLen = null;
        heldIds = null;
        heldLens = null;
        Vring r = vqs[vq];
        boolean write = vq == RX_VQ;
        int total = 0;
        for (int i = 0; i < n; i++) total += (int) ln[i];
        if (write) tap.takeRx(buf);
        // Each descriptor's share of the iovecs, in order: the accesses are judged per segment at the descriptor's IOVA.
        int s = 0;
        int off = 0;
        for (int k = 0; k < h; k++) {
            Vring.Desc d = r.popAvail();
            int left = lens[k];
            long at = d.iova();
            while (left > 0 && s < n) {
                int l = (int) Math.min(left, ln[s]);
                listener.access(vq, at, l, hva[s], write);
                if (um.mapped(hva[s], l)) {
                    if (write) um.write(hva[s], buf, off, l);
                    else um.read(hva[s], buf, off, l);
                }
                at += l;
                off += l;
                left -= l;
                s++;
            }
            addDone(vq, ids[k], write ? lens[k] : 0, write ? (k == 0 ? h : 0) : 1);
        }
        if (!write) tap.transmit(buf, total);
        copies++;
        bytes += total;
        if (doneCount[vq] > VHOST_NET_BATCH) signalUsed(vq);
        // The loop's condition and the next iteration's tests.
        runPkts++;
        runBytes += total;
        if (runPkts >= VHOST_NET_PKT_WEIGHT || runBytes >= VHOST_NET_WEIGHT) {
            dev.queueWork(vq); // vhost_exceeds_weight: vhost_poll_queue(&vq->poll)
            endRun(Exit.WEIGHT);
            return Outcome.DONE;
        }
        if (write && tap.peekRx() < 0) {
            endRun(Exit.DRAINED);
            return Outcome.DONE;
        }
        if (!r.hasAvail()) {
            endRun(Exit.EMPTY);
            return Outcome.DONE;
        }
        return Outcome.DONE;
    }

    /** Queues a used element; {@code bufs} is what the element's header says ({@code num_buffers} on a packet's first RX buffer). */
    private void addDone(int vq, int id, int len, int bufs) {
        int c = doneCount[vq];
        if (2 * c + 2 > done[vq].length) done[vq] = Arrays.copyOf(done[vq], done[vq].length * 2);
        done[vq][2 * c] = id;
        done[vq][2 * c + 1] = len | (bufs << 24);
        doneCount[vq]++;
    }

    /**
     * Ends the run with {@code exit}: the exit's notification and socket-poll changes, then {@code out:}
     * ({@code vhost_net_signal_used}) and the mutex's release.
     */
    private Outcome endRun(Exit exit) {
        int vq = runVq;
        switch (exit) {
            case DRAINED -> {
                if (vq == RX_VQ) armSocket(vq);
            }
            case EMPTY -> {
                // vhost_enable_notify, then "they have slipped one in": within this atomic step the guest cannot have, so
                // the re-check finds the ring as the step found it and the handler leaves.
                enableNotify(vq);
            }
            default -> { }
        }
        lastExit[vq] = exit;
        signalUsed(vq);
        runVq = -1;
        heldHva = null;
        heldLen = null;
        heldIds = null;
        heldLens = null;
        dev.lockVq(false);
        return Outcome.EXITED;
    }

    /** {@code vhost_disable_notify}. */
    private void disableNotify(int vq) {
        if (noNotify[vq]) return;
        noNotify[vq] = true;
        if (!vqs[vq].eventIdx()) vqs[vq].setNoNotify(true);
    }

    /** {@code vhost_enable_notify} without the re-check's outcome: notifications on, {@code avail_event} at the ring's index. */
    private void enableNotify(int vq) {
        if (!noNotify[vq]) return;
        noNotify[vq] = false;
        Vring r = vqs[vq];
        if (!r.eventIdx()) r.setNoNotify(false);
        else r.setAvailEvent(r.availIdx());
    }

    /** {@code vhost_net_signal_used}: writes the pending used elements and interrupts the guest if {@code vhost_notify} says so. */
    private void signalUsed(int vq) {
        int c = doneCount[vq];
        if (c == 0) return;
        Vring r = vqs[vq];
        for (int i = 0; i < c; i++) r.pushUsed(done[vq][2 * i], done[vq][2 * i + 1] & 0xffffff, done[vq][2 * i + 1] >>> 24);
        doneCount[vq] = 0;
        if (notify(vq)) irq.raise(vq);
    }

    /** {@code vhost_notify}: whether the guest asked to be interrupted for the used elements just written. */
    private boolean notify(int vq) {
        Vring r = vqs[vq];
        if (!r.eventIdx()) return !r.noInterrupt();
        int old = signalledUsed[vq];
        boolean valid = signalledUsedValid[vq];
        int newIdx = r.usedIdx();
        signalledUsed[vq] = newIdx;
        signalledUsedValid[vq] = true;
        if (!valid) return true;
        return Vring.needEvent(r.usedEvent(), newIdx, old);
    }

    /**
     * The worker's own state: each queue's notification flag, signalled index, socket poll, pending used elements and
     * last exit; the run in progress and a translation held across a split step (counters are bookkeeping).
     */
    @Override
    public void save(tcesim.state.StateWriter out) {
        for (int vq = 0; vq < 2; vq++) {
            out.put((noNotify[vq] ? 1 : 0) | (signalledUsedValid[vq] ? 2 : 0) | (sockArmed[vq] ? 4 : 0) | ((long) lastExit[vq].ordinal() << 8)
                    | ((long) signalledUsed[vq] << 16) | ((long) doneCount[vq] << 32));
            for (int i = 0; i < 2 * doneCount[vq]; i++) out.put(done[vq][i]);
        }
        out.put(runVq, runPkts);
        out.put(runBytes);
        out.put(heldHva == null ? -1 : heldHva.length);
        if (heldHva != null) {
            for (int i = 0; i < heldHva.length; i++) out.put(heldHva[i], heldLen[i]);
            out.put(heldIds.length);
            for (int i = 0; i < heldIds.length; i++) out.put(heldIds[i], heldLens[i]);
        }
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        for (int vq = 0; vq < 2; vq++) {
            long w = in.next();
            noNotify[vq] = (w & 1) != 0;
            signalledUsedValid[vq] = (w & 2) != 0;
            sockArmed[vq] = (w & 4) != 0;
            lastExit[vq] = EXITS[(int) ((w >>> 8) & 0xff)];
            signalledUsed[vq] = (int) ((w >>> 16) & 0xffff);
            int c = (int) (w >>> 32);
            if (done[vq].length < 2 * c) done[vq] = new int[2 * c];
            doneCount[vq] = c;
            for (int i = 0; i < 2 * c; i++) done[vq][i] = in.nextInt();
        }
        runVq = in.nextInt();
        runPkts = in.nextInt();
        runBytes = in.next();
        int n = in.nextInt();
        heldHva = n < 0 ? null : new long[n];
        heldLen = n < 0 ? null : new long[n];
        heldIds = null;
        heldLens = null;
        if (n >= 0) {
            for (int i = 0; i < n; i++) {
                heldHva[i] = in.next();
                heldLen[i] = in.next();
            }
            int h = in.nextInt();
            heldIds = new int[h];
            heldLens = new int[h];
            for (int i = 0; i < h; i++) {
                heldIds[i] = in.nextInt();
                heldLens[i] = in.nextInt();
            }
        }
    }
}
