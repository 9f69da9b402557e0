package tcesim.guest;

import java.util.ArrayDeque;
import tcesim.mem.GuestMemory;
import tcesim.virtio.Vring;

/**
 * The guest's virtio-net driver with VIRTIO_F_ACCESS_PLATFORM, and the rest of the guest kernel that shares its
 * pages: the receive and transmit paths of Linux {@code drivers/net/virtio_net.c} (v5.4, the seed's guest) on the
 * split ring of {@code drivers/virtio/virtio_ring.c} ({@link VirtqueueDriver}), with one queue pair.
 *
 * <p><b>What the driver does, in the order the code does it</b> (each DMA mapping or unmapping is the vCPU's
 * hypercalls, one a step; everything else of an activity happens between them):
 * <ul>
 * <li><b>Open</b> ({@code virtnet_open}): {@code try_fill_recv} fills the receive ring, kicks, then
 *     {@code virtnet_napi_enable} schedules the receive NAPI once.
 * <li><b>Receive interrupt</b> ({@code vring_interrupt} -> {@code skb_recv_done}): when used elements are there,
 *     {@code virtqueue_napi_schedule}: {@code napi_schedule_prep} (or NAPIF_STATE_MISSED when the NAPI is scheduled
 *     already) and {@code virtqueue_disable_cb}.
 * <li><b>Receive poll</b> ({@code virtnet_poll}): {@code virtnet_poll_cleantx} first (with TX NAPI, when the TX lock
 *     is free: reaps completed transmit buffers); then reaps used receive buffers up to the budget of 64 packets, as
 *     many as the device has published by the time each {@code virtqueue_get_buf} runs (each buffer unmapped in
 *     {@code detach_buf_split} before the driver sees it); then, when {@code num_free > min(budget, ring size) / 2}
 *     (v5.3 and later), {@code try_fill_recv} adds buffers until the ring is full and makes one kick decision; then,
 *     when fewer than the budget were received, {@code virtqueue_napi_complete}: callbacks on
 *     ({@code used_event} written), the NAPI completed (unless an interrupt marked it missed) and scheduled again if
 *     {@code virtqueue_poll} sees more used.
 * <li><b>Receive buffers</b> ({@code add_recvbuf_mergeable}, mergeable buffers being QEMU's default): cut from a page
 *     fragment ({@link PageFrag}), {@code ALIGN(hdr_len + clamp(EWMA of packet lengths, 1518, PAGE_SIZE - hdr_len),
 *     L1_CACHE_BYTES)} long, so 1536 bytes for 1500-byte packets: 42 in a 64 KiB page, each mapped on its own with
 *     {@code dma_map_page} (one or two 4 KiB TCEs). A packet larger than a buffer takes several
 *     ({@code num_buffers}). {@link RxBuffers#PAGE} is the other layout: one whole 4 KiB page per buffer on a guest
 *     with 4 KiB pages, a simplification kept for configurations too small for fragments to matter.
 * <li><b>Received packets</b> ({@code receive_mergeable} -> {@code page_to_skb}): a packet of at most
 *     {@code GOOD_COPY_LEN} (128) bytes is copied into the skb and its buffer's page reference dropped at once; a
 *     larger one keeps its buffer as a fragment of the skb until the application has read it
 *     ({@link #appRecv}). A fragment page goes back to the page allocator when every buffer cut from it is done and
 *     the fragment allocator has moved on.
 * <li><b>Transmit</b> ({@code start_xmit}, TX NAPI on: {@code napi_tx} is true from v5.3): reap completed buffers,
 *     {@code virtqueue_enable_cb_delayed}, map the packet (header and data in one buffer cut from the sender's page
 *     fragment, {@code DMA_TO_DEVICE}), add it, stop the queue when fewer than {@code 2 + MAX_SKB_FRAGS} descriptors
 *     are free, and kick if {@code virtqueue_kick_prepare} says so. The transmit interrupt schedules the TX NAPI
 *     ({@code skb_xmit_done}), whose poll ({@code virtnet_poll_tx}) reaps completed buffers, re-enables callbacks and
 *     wakes the queue.
 * </ul>
 *
 * <p><b>Timing.</b> When an interrupt is taken, when a scheduled NAPI or the sender or the application runs, and how
 * many used elements a poll finds are not decided by the driver but by when the vCPU gets to them: the vCPU offers
 * each as a step whenever it may run, so the checker explores them. What the code decides deterministically (the
 * order of a poll's phases, the buffer layout, the pool the IOVA comes from, the page the allocator returns on a
 * CPU) is deterministic here.
 *
 * <p>Simplifications (docs/fidelity.md): no {@code refill_work} (the guest never runs out of memory here), no
 * {@code xmit_more} batching (every packet is the last of its batch), a transmit packet is one buffer (the real
 * skb has a header in slab memory and the payload in page fragments), a transmit buffer's page reference is
 * dropped at completion (TCP would keep it until the data is acknowledged), and a ring smaller than 32 stops the
 * transmit queue only when it is full (2 + MAX_SKB_FRAGS = 19 free descriptors would never be reached).
 */
public final class VirtioNetDriver implements DriverWork.Owner, tcesim.state.Composite {
    public static final int RX_STREAM = 1;
    public static final int TX_STREAM = 2;
    /** sizeof(struct virtio_net_hdr_mrg_rxbuf). */
    public static final int HDR_LEN = 12;
    /** {@code GOOD_PACKET_LEN = ETH_HLEN + VLAN_HLEN + ETH_DATA_LEN}. */
    static final int GOOD_PACKET_LEN = 14 + 4 + 1500;
    /** {@code GOOD_COPY_LEN}: a packet this short is copied into the skb's head. */
    static final int GOOD_COPY_LEN = 128;
    /** {@code L1_CACHE_BYTES} on ppc64. */
    static final int L1_CACHE_BYTES = 128;
    /** {@code napi_weight = NAPI_POLL_WEIGHT}. */
    public static final int NAPI_BUDGET = 64;
    /** {@code 2 + MAX_SKB_FRAGS}: the free descriptors below which {@code start_xmit} stops the queue. */
    static final int TX_STOP_BELOW = 2 + 17;

    /** How receive buffers are laid out. */
    public enum RxBuffers {
        /** Mergeable buffers cut from page fragments, as Linux does with QEMU's default {@code mrg_rxbuf=on}. */
        MERGEABLE,
        /** One whole page per buffer (a guest with 4 KiB pages): the simplification for small checks. */
        PAGE
    }

    /**
     * What the driver is given at probe time.
     *
     * @param layout how receive buffers are laid out
     * @param txBytes bytes of a transmit packet (without its virtio-net header)
     * @param txPackets packets the sender sends
     * @param rxCpu the vCPU that takes the receive interrupt and runs the receive NAPI (and the application's reads)
     * @param txCpu the vCPU the sender runs on, which also takes the transmit interrupt
     * @param requestResponse the sender sends packet k only once k packets were received (a TCP_RR-like workload)
     * @param mapPastWindowEnd fault injection: the first receive buffer is mapped by the guest itself at the window's
     *     last entry, two TCEs long, and posted whatever the hypervisor answered
     * @param up the interface is brought up ({@code virtnet_open}); one that carries no traffic in a run stays down and
     *     posts no buffers
     */
    public record Config(RxBuffers layout, int txBytes, long txPackets, int rxCpu, int txCpu, boolean requestResponse, boolean mapPastWindowEnd,
                         boolean up) {}

    /** What runs on a vCPU. */
    public enum Activity {
        NONE, OPEN, RX_POLL, XMIT, TX_POLL, RX_REVOKE;
        static final Activity[] ALL = values();
    }

    private enum Phase { CLEANTX, REAP, REFILL, FREE_OLD, MAP, DONE }

    private static final Phase[] PHASES = Phase.values();

    private final GuestMemory mem;
    private final PageAllocator pages;
    private final PseriesIommu iommu;
    private final VirtqueueDriver rxq;
    private final VirtqueueDriver txq;
    private final Config cfg;
    private final RxBuffers layout;
    private final PageFrag rxFrag;
    private final PageFrag txFrag;
    private final int txBytes;
    private final long txLimit;
    private final int rxCpu;
    private final int txCpu;
    /** Whether packet and kernel-object bytes are written and checked (for symptom reports; off in the checker). */
    private final boolean data;
    private final byte[] scratch;
    private final byte[] payload;
    private final byte[] kernelPage;
    private final byte[] kernelNow;
    /** Kicks the device on a virtqueue (the notify register, which KVM's ioeventfd turns into vhost's kick eventfd). */
    private final Notify notify;

    /** The device's notify register, as the driver writes it. */
    @FunctionalInterface
    public interface Notify {
        void kick(int vq);
    }

    /** Posted RX buffers in posting order (the guest knows which are outstanding, not which the device took). */
    private final PostedBuffers rxPosted = new PostedBuffers();
    private final PostedBuffers txPosted = new PostedBuffers();
    /** The socket's receive queue: per skb the buffers (their addresses) it holds until the application reads it. */
    private final com.carrotsearch.hppc.LongArrayDeque sockQueue = new com.carrotsearch.hppc.LongArrayDeque();
    /** The other kernel users' pages, oldest first. */
    private final com.carrotsearch.hppc.LongArrayDeque kernelPages = new com.carrotsearch.hppc.LongArrayDeque();
    private final ArrayDeque<Symptom> symptoms = new ArrayDeque<>();

    // Interrupt and NAPI state.
    private boolean rxIrq, txIrq;
    private boolean napiSched, napiMissed, txNapiSched, txNapiMissed;
    private boolean txStopped;
    private boolean opened;
    /** The activity on each vCPU and where it is. */
    private final Activity[] activity;
    private final Phase[] phase;
    private int received;
    /** Buffers still to reap of a packet that took several ({@code num_buffers - 1}), and the packet's length so far. */
    private int bufsLeft;
    private int packetLen;
    /** Whether the poll's packet being reaped holds pages the application will release ({@code sockQueue} has its buffers). */
    private boolean packetQueued;
    /** {@code try_fill_recv} is running, and a mapping failed (its loop ends). */
    private boolean filling;
    private boolean fillFailed;
    private long ewma;

    private int nextId;
    private long rxExpected;
    private long rxDelivered;
    private long rxLost;
    private long rxDropped;
    private long rxRevoked;
    private long txNext;
    private long txCompleted;
    private long mapFailures;
    private long kicks;
    private long interrupts;
    private boolean mappedPastEnd;

    /**
     * @param txBytes bytes of a TX packet
     * @param notify the device's notify register
     * @param data write the bytes of packets and kernel objects and check what comes back (the symptoms); without it
     *     the driver behaves the same but moves no bytes
     */
    public VirtioNetDriver(GuestMemory mem, PageAllocator pages, PseriesIommu iommu, Vring rx, Vring tx, Config cfg, Notify notify, boolean data) {
        this.data = data;
        this.mem = mem;
        this.pages = pages;
        this.iommu = iommu;
        this.rxq = new VirtqueueDriver(rx);
        this.txq = new VirtqueueDriver(tx);
        this.cfg = cfg;
        this.layout = cfg.layout();
        this.rxFrag = new PageFrag(pages, PageUse.DMA_BUFFER, true);
        this.txFrag = new PageFrag(pages, PageUse.DMA_BUFFER, false);
        this.txBytes = cfg.txBytes();
        this.txLimit = cfg.txPackets();
        this.rxCpu = cfg.rxCpu();
        this.txCpu = cfg.txCpu();
        this.notify = notify;
        this.scratch = new byte[Math.max(pages.pageSize(), HDR_LEN + txBytes) + 8192];
        this.payload = new byte[txBytes];
        this.kernelPage = new byte[data ? pages.pageSize() : 0];
        this.kernelNow = new byte[data ? pages.pageSize() : 0];
        int cpus = Math.max(rxCpu, txCpu) + 1;
        this.activity = new Activity[cpus];
        this.phase = new Phase[cpus];
        java.util.Arrays.fill(activity, Activity.NONE);
        java.util.Arrays.fill(phase, Phase.DONE);
        this.snapshotParts = new tcesim.state.Snapshot[] {rxPosted, txPosted, rxFrag, txFrag, new OwnState(), rxq, txq, rx(), tx()};
    }

    public Vring rx() { return rxq.ring(); }
    public Vring tx() { return txq.ring(); }
    public VirtqueueDriver rxQueue() { return rxq; }
    public VirtqueueDriver txQueue() { return txq; }
    public PseriesIommu iommu() { return iommu; }
    public PageAllocator pages() { return pages; }
    public int rxCpu() { return rxCpu; }
    public int txCpu() { return txCpu; }
    public Activity activity(int cpu) { return cpu < activity.length ? activity[cpu] : Activity.NONE; }

    // ---- interrupts -----------------------------------------------------------------------------

    /** The device signalled {@code vq}'s interrupt (vhost's call eventfd, through KVM's irqfd). */
    public void raiseInterrupt(int vq) {
        if (vq == 0) rxIrq = true;
        else txIrq = true;
    }

    public boolean rxInterruptPending() { return rxIrq; }
    public boolean txInterruptPending() { return txIrq; }

    /** {@code vring_interrupt} -> {@code skb_recv_done}, on the receive CPU. */
    public void rxInterrupt() {
        rxIrq = false;
        interrupts++;
        if (!rxq.moreUsed()) return; // IRQ_NONE
        if (napiSched) napiMissed = true;
        else {
            napiSched = true;
            rxq.disableCb();
        }
    }

    /** {@code vring_interrupt} -> {@code skb_xmit_done}, on the transmit CPU. */
    public void txInterrupt() {
        txIrq = false;
        interrupts++;
        if (!txq.moreUsed()) return;
        txq.disableCb();
        if (txNapiSched) txNapiMissed = true;
        else txNapiSched = true;
    }

    // ---- what may start on a vCPU ---------------------------------------------------------------

    /** Whether {@code cpu} is between activities. */
    public boolean idle(int cpu) { return activity(cpu) == Activity.NONE; }

    public boolean canOpen(int cpu) { return cfg.up() && !opened && cpu == rxCpu && idle(cpu); }

    /** The receive NAPI is scheduled and its poll can run (softirq on the receive CPU). */
    public boolean canPollRx(int cpu) { return opened && cpu == rxCpu && napiSched && idle(cpu); }

    /** The sender can call {@code start_xmit} (the queue is not stopped and packets are left). */
    public boolean canXmit(int cpu) {
        return opened && cpu == txCpu && idle(cpu) && !txStopped && txNext < txLimit && txq.numFree() > 0 && (!cfg.requestResponse() || rxDelivered > txNext);
    }

    /** The TX NAPI is scheduled and its poll can run (on the transmit CPU, which takes the transmit interrupt). */
    public boolean canPollTx(int cpu) { return opened && cpu == txCpu && txNapiSched && idle(cpu); }

    /** The application has an skb to read. */
    public boolean canAppRecv() { return !sockQueue.isEmpty(); }

    public boolean canRevokeRx(int cpu) { return cpu == rxCpu && idle(cpu) && rxPosted.oldestNotReturned(rx()) != null; }

    /** The TX lock ({@code __netif_tx_lock}) is held by a transmit activity on some vCPU. */
    private boolean txLocked() {
        for (Activity a : activity) if (a == Activity.XMIT || a == Activity.TX_POLL) return true;
        return false;
    }

    // ---- starting and continuing activities -----------------------------------------------------

    /** {@code virtnet_open}: starts filling the receive ring. */
    public DriverWork open(int cpu) {
        begin(cpu, Activity.OPEN, Phase.REFILL);
        filling = true;
        return next(cpu);
    }

    /** {@code virtnet_poll}: starts the receive NAPI poll. */
    public DriverWork pollRx(int cpu) {
        begin(cpu, Activity.RX_POLL, Phase.CLEANTX);
        received = 0;
        return next(cpu);
    }

    /** {@code start_xmit} for the next packet. */
    public DriverWork xmit(int cpu) {
        begin(cpu, Activity.XMIT, Phase.FREE_OLD);
        return next(cpu);
    }

    /** {@code virtnet_poll_tx}. */
    public DriverWork pollTx(int cpu) {
        begin(cpu, Activity.TX_POLL, Phase.FREE_OLD);
        txq.disableCb();
        return next(cpu);
    }

    /**
     * A misbehaving (or hostile) guest takes back its oldest RX buffer the device has not returned, while the device may
     * still own it: unmaps it and, once the unmap returns, drops the buffer's page reference, without telling the
     * device. The descriptor stays in the ring. The guest is untrusted, so the properties must hold anyway.
     */
    public DriverWork revokeRx(int cpu) {
        DmaBuffer b = rxPosted.oldestNotReturned(rx());
        rxPosted.remove(b.id());
        rxRevoked++;
        begin(cpu, Activity.RX_REVOKE, Phase.DONE);
        return new DriverWork(DriverWork.Kind.RX_REVOKE, iommu.unmap(cpu, b.dma(), b.len()), b, 0, this);
    }

    private void begin(int cpu, Activity a, Phase p) {
        activity[cpu] = a;
        phase[cpu] = p;
    }

    /** The next DMA operation of the activity on {@code cpu}, after the last one finished; null when the activity is over. */
    @Override
    public DriverWork next(int cpu) {
        Activity a = activity[cpu];
        while (true) {
            switch (phase[cpu]) {
                case CLEANTX -> {
                    // virtnet_poll_cleantx: __netif_tx_trylock; only with TX NAPI, which is on.
                    if (!(txLockedElsewhere(cpu)) && txq.moreUsed()) return reapTx(cpu);
                    wakeTxIfRoom();
                    phase[cpu] = Phase.REAP;
                }
                case REAP -> {
                    if (bufsLeft > 0 || (received < NAPI_BUDGET && rxq.moreUsed())) {
                        DriverWork w = reapRx(cpu);
                        if (w != null) return w;
                        continue;
                    }
                    filling = rxq.numFree() > Math.min(NAPI_BUDGET, rx().size()) / 2;
                    phase[cpu] = Phase.REFILL;
                }
                case REFILL -> {
                    if (filling && !fillFailed && rxq.numFree() > 0) {
                        DriverWork w = newRxBuffer(cpu);
                        if (w != null) return w;
                        fillFailed = true;
                    }
                    // try_fill_recv's loop is over: one kick decision.
                    if (filling && rxq.kickPrepare()) kick(0);
                    filling = false;
                    fillFailed = false;
                    phase[cpu] = Phase.DONE;
                    if (a == Activity.OPEN) {
                        // virtnet_napi_enable: virtqueue_napi_schedule.
                        opened = true;
                        if (!napiSched) {
                            napiSched = true;
                            rxq.disableCb();
                        }
                    } else {
                        completeRxPoll();
                    }
                    return end(cpu);
                }
                case FREE_OLD -> {
                    if (txq.moreUsed()) return reapTx(cpu);
                    if (a == Activity.TX_POLL) {
                        completeTxPoll();
                        return end(cpu);
                    }
                    // start_xmit with TX NAPI and no xmit_more: virtqueue_enable_cb_delayed, then the packet.
                    txq.enableCbDelayed();
                    phase[cpu] = Phase.MAP;
                    DriverWork w = newTxBuffer(cpu);
                    if (w != null) return w;
                    return end(cpu);
                }
                case MAP, DONE -> {
                    return end(cpu);
                }
            }
        }
    }

    private boolean txLockedElsewhere(int cpu) {
        for (int c = 0; c < activity.length; c++) if (c != cpu && (activity[c] == Activity.XMIT || activity[c] == Activity.TX_POLL)) return true;
        return false;
    }

    private DriverWork end(int cpu) {
        activity[cpu] = Activity.NONE;
        phase[cpu] = Phase.DONE;
        return null;
    }

    private void kick(int vq) {
        kicks++;
        notify.kick(vq);
    }

    /** {@code virtqueue_napi_complete} at the end of a poll that received fewer packets than its budget. */
    private void completeRxPoll() {
        if (received >= NAPI_BUDGET) return; // stays scheduled: polled again
        int opaque = rxq.enableCbPrepare();
        if (napiMissed) {
            // napi_complete_done returns false: the NAPI stays scheduled, callbacks off again.
            napiMissed = false;
            rxq.disableCb();
            return;
        }
        napiSched = false;
        if (rxq.poll(opaque)) {
            napiSched = true;
            rxq.disableCb();
        }
    }

    /** The end of {@code virtnet_poll_tx}. */
    private void completeTxPoll() {
        int opaque = txq.enableCbPrepare();
        if (txNapiMissed) {
            txNapiMissed = false;
            txq.disableCb();
        } else {
            txNapiSched = false;
            if (txq.poll(opaque)) {
                txNapiSched = true;
                txq.disableCb();
            }
        }
        wakeTxIfRoom();
    }

    private int txStopBelow() { return tx().size() >= 32 ? TX_STOP_BELOW : 1; }

    private void wakeTxIfRoom() {
        if (txq.numFree() >= txStopBelow()) txStopped = false;
    }

    // ---- RX -------------------------------------------------------------------------------------

    /** The length of the next receive buffer ({@code get_mergeable_buf_len}), or a page. */
    private int rxBufLen() {
        if (layout == RxBuffers.PAGE) return pages.pageSize();
        long avg = Math.max(GOOD_PACKET_LEN, Math.min(ewma, pages.pageSize() - HDR_LEN));
        int len = (int) (HDR_LEN + avg);
        return (len + L1_CACHE_BYTES - 1) & -L1_CACHE_BYTES;
    }

    /** {@code add_recvbuf_mergeable}: a fragment for the next buffer, and the start of its mapping; null when no page or IOVA was free. */
    private DriverWork newRxBuffer(int cpu) {
        long gpa;
        int len;
        PageFrag.Frag f = null;
        if (layout == RxBuffers.PAGE) {
            long page = pages.alloc(cpu, PageUse.DMA_BUFFER);
            if (page == PageAllocator.NO_PAGE) return null;
            gpa = pages.gpa(page);
            len = pages.pageSize();
        } else {
            f = rxFrag.alloc(cpu, rxBufLen());
            if (f == null) return null;
            gpa = f.gpa();
            len = f.len();
        }
        DmaOp op;
        if (cfg.mapPastWindowEnd() && !mappedPastEnd && !iommu.direct()) {
            mappedPastEnd = true;
            IommuTableAllocator t = iommu.table();
            op = iommu.mapAt(cpu, gpa, len, DmaDirection.FROM_DEVICE, t.itOffset() + t.itSize() - 1, 2);
        } else {
            op = iommu.map(cpu, gpa, len, DmaDirection.FROM_DEVICE);
        }
        if (op == null) {
            pages.put(pages.pageOf(gpa), cpu);
            mapFailures++;
            return null;
        }
        return new DriverWork(DriverWork.Kind.RX_REFILL, op, new DmaBuffer(nextId++, gpa, op.dmaAddr(), len, DmaDirection.FROM_DEVICE), 0, this);
    }

    /** {@code virtqueue_get_buf}: the next used receive buffer and the start of its unmapping. */
    private DriverWork reapRx(int cpu) {
        Vring.Used u = rxq.getBuf();
        DmaBuffer b = rxPosted.remove(u.id());
        if (b == null) {
            // The device used a buffer the guest took back: nothing behind it, the packet is dropped.
            rxDropped++;
            if (bufsLeft > 0) bufsLeft--;
            else received++;
            return null;
        }
        return new DriverWork(DriverWork.Kind.RX_REAP, iommu.unmap(cpu, b.dma(), b.len()), b, u.len() | (u.bufs() << 24), this);
    }

    // ---- TX -------------------------------------------------------------------------------------

    /** The packet's buffer, cut from the sender's page fragment with its header, and the start of its mapping. */
    private DriverWork newTxBuffer(int cpu) {
        int len = HDR_LEN + txBytes;
        PageFrag.Frag f = txFrag.alloc(cpu, len);
        if (f == null) return null;
        if (data) {
            java.util.Arrays.fill(scratch, 0, HDR_LEN, (byte) 0);
            Payload.fill(payload, txBytes, TX_STREAM, txNext);
            System.arraycopy(payload, 0, scratch, HDR_LEN, txBytes);
            mem.write(f.gpa(), scratch, 0, len);
        }
        DmaOp op = iommu.map(cpu, f.gpa(), len, DmaDirection.TO_DEVICE);
        if (op == null) {
            pages.put(f.page(), cpu);
            mapFailures++;
            return null;
        }
        txNext++;
        return new DriverWork(DriverWork.Kind.TX_SEND, op, new DmaBuffer(nextId++, f.gpa(), op.dmaAddr(), len, DmaDirection.TO_DEVICE), 0, this);
    }

    /** {@code free_old_xmit_skbs}: the next completed transmit buffer and the start of its unmapping. */
    private DriverWork reapTx(int cpu) {
        Vring.Used u = txq.getBuf();
        DmaBuffer b = txPosted.remove(u.id());
        return new DriverWork(DriverWork.Kind.TX_REAP, iommu.unmap(cpu, b.dma(), b.len()), b, u.len(), this);
    }

    // ---- completion of an operation whose hypercalls are done ----------------------------------

    /** Called once every hypercall of {@code p} has returned, on the vCPU {@code cpu} that made them. */
    @Override
    public void finish(DriverWork p, int cpu) {
        DmaBuffer b = p.buffer();
        switch (p.kind()) {
            case RX_REFILL -> {
                if (p.op().mappingFailed()) {
                    pages.put(pages.pageOf(b.gpa()), cpu);
                    mapFailures++;
                    fillFailed = true;
                    return;
                }
                rxPosted.add(b);
                rxq.add(new Vring.Desc(b.id(), b.dma(), b.len(), true));
            }
            case TX_SEND -> {
                if (p.op().mappingFailed()) {
                    pages.put(pages.pageOf(b.gpa()), cpu);
                    mapFailures++;
                    txNext--;
                    return;
                }
                txPosted.add(b);
                txq.add(new Vring.Desc(b.id(), b.dma(), b.len(), false));
                if (txq.numFree() < txStopBelow()) txStopped = true;
                if (txq.kickPrepare()) kick(1);
            }
            case RX_REAP -> receive(b, p.usedLen() & 0xffffff, p.usedLen() >>> 24, cpu);
            case TX_REAP -> {
                txCompleted++;
                pages.put(pages.pageOf(b.gpa()), cpu);
            }
            case RX_REVOKE -> pages.put(pages.pageOf(b.gpa()), cpu);
            default -> throw new IllegalStateException("not a virtio-net operation: " + p.kind());
        }
    }

    /**
     * {@code receive_mergeable} for buffer {@code b} holding {@code len} bytes; {@code bufs} is the packet's
     * {@code num_buffers} when {@code b} is its first buffer. The skb keeps each buffer's page reference (the
     * application drops them when it reads the packet), except for a packet short enough for {@code page_to_skb} to
     * copy whole, whose one buffer's reference is dropped at once.
     */
    private void receive(DmaBuffer b, int len, int bufs, int cpu) {
        boolean head = bufsLeft == 0;
        if (head) {
            received++;
            bufsLeft = Math.max(bufs, 1) - 1;
            packetLen = len - HDR_LEN;
            packetQueued = false;
            if (data) mem.read(b.gpa() + HDR_LEN, scratch, 0, Math.max(0, len - HDR_LEN));
        } else {
            bufsLeft--;
            if (data) mem.read(b.gpa(), scratch, packetLen, len);
            packetLen += len;
        }
        if (head && bufsLeft == 0 && packetLen <= GOOD_COPY_LEN) {
            pages.put(pages.pageOf(b.gpa()), cpu); // page_to_skb copied the packet: put_page
        } else {
            sockQueue.addLast(b.gpa());
            packetQueued = true;
        }
        if (bufsLeft > 0) return;
        // The whole packet is in: the EWMA of lengths (DECLARE_EWMA(pkt_len, 0, 64)), the stack, the socket.
        ewma = ewma == 0 ? packetLen : ((ewma << 6) - ewma + packetLen) >> 6;
        rxDelivered++;
        if (data) checkPayload(b, packetLen);
        if (packetQueued) sockQueue.addLast(-1L);
    }

    /** The application reads the oldest skb: its buffers' page references are dropped on {@code cpu}. */
    public void appRecv(int cpu) {
        while (!sockQueue.isEmpty()) {
            long gpa = sockQueue.removeFirst();
            if (gpa < 0) return;
            pages.put(pages.pageOf(gpa), cpu);
        }
    }

    /** The network stack reads the packet (assembled in {@code scratch}): it must be the next one of the RX stream. */
    private void checkPayload(DmaBuffer b, int n) {
        if (n <= 0) return;
        long seq = Payload.check(scratch, n, RX_STREAM);
        if (seq != rxExpected) {
            rxLost++;
            symptoms.add(new Symptom("rx-data", pages.pageOf(b.gpa()), String.format("RX buffer at 0x%x holds %s, expected packet %d", b.gpa(),
                    seq < 0 ? "foreign bytes" : "packet " + seq, rxExpected)));
            if (seq > rxExpected) rxExpected = seq + 1;
        } else {
            rxExpected++;
        }
    }

    // ---- the rest of the kernel ----------------------------------------------------------------

    /** Another kernel user takes a page (a slab, a page-cache page) and fills it with its data. */
    public boolean kernelAlloc(int cpu) {
        long pfn = pages.alloc(cpu, PageUse.KERNEL);
        if (pfn == PageAllocator.NO_PAGE) return false;
        kernelPages.addLast(pfn);
        if (!data) return true;
        Payload.fillKernelPage(kernelPage, pfn, pages.generation(pfn));
        mem.write(pages.gpa(pfn), kernelPage, 0, kernelPage.length);
        return true;
    }

    public int kernelPagesHeld() { return kernelPages.size(); }

    /** The oldest kernel page is used one last time (its data checked) and freed. */
    public void kernelFree(int cpu) {
        long pfn = kernelPages.removeFirst();
        if (data) {
            int gen = pages.generation(pfn);
            long gpa = pages.gpa(pfn);
            Payload.fillKernelPage(kernelPage, pfn, gen);
            mem.read(gpa, kernelNow, 0, kernelNow.length);
            int off = java.util.Arrays.mismatch(kernelPage, kernelNow);
            if (off >= 0) {
                symptoms.add(new Symptom("kernel-data", pfn, String.format(
                        "kernel object in page 0x%x overwritten at offset %d: the guest would crash here", gpa, off & ~7)));
            }
        }
        pages.put(pfn, cpu);
    }

    // ---- what the oracles and reports read -----------------------------------------------------

    public ArrayDeque<Symptom> symptoms() { return symptoms; }
    public long rxDelivered() { return rxDelivered; }
    public long rxLost() { return rxLost; }
    /** Packets the device put into buffers the guest had taken back. */
    public long rxDropped() { return rxDropped; }
    public long rxRevoked() { return rxRevoked; }
    public long txCompleted() { return txCompleted; }
    public long txQueued() { return txNext; }
    public long mapFailures() { return mapFailures; }
    public long kicks() { return kicks; }
    public long interrupts() { return interrupts; }
    public boolean txStopped() { return txStopped; }
    public boolean napiScheduled() { return napiSched; }
    public boolean txNapiScheduled() { return txNapiSched; }
    public int socketQueued() {
        int n = 0;
        for (com.carrotsearch.hppc.cursors.LongCursor c : sockQueue) if (c.value < 0) n++;
        return n;
    }

    /**
     * What decides the driver's next moves: posted buffers, the page fragments, the socket queue, kernel pages,
     * interrupts and NAPI state, each vCPU's activity and where it is, counters and both rings with their private
     * state. The RX stream position and loss count follow the bytes found in buffers and feed only the symptom
     * reports: they are not saved.
     */
    @Override
    public tcesim.state.Snapshot[] parts() { return snapshotParts; }

    /**
     * Saved in this order, each on its own (a step touches few of them): the posted buffers, the page fragments, the
     * driver's own words, each virtqueue's private state, then the rings.
     */
    private final tcesim.state.Snapshot[] snapshotParts;

    /** A deque's size, then its values from the first (read straight from its buffer: no cursor per value). */
    private static void saveDeque(tcesim.state.StateWriter out, com.carrotsearch.hppc.LongArrayDeque q) {
        out.put(q.size());
        long[] b = q.buffer;
        for (int i = q.head; i != q.tail; i = i + 1 == b.length ? 0 : i + 1) out.put(b[i]);
    }

    /** The driver's own words: the socket queue, kernel pages, interrupt and NAPI state, each vCPU's activity, counters. */
    private final class OwnState implements tcesim.state.Snapshot {
        @Override
        public void save(tcesim.state.StateWriter out) {
            saveDeque(out, sockQueue);
            saveDeque(out, kernelPages);
            out.put((rxIrq ? 1 : 0) | (txIrq ? 2 : 0) | (napiSched ? 4 : 0) | (napiMissed ? 8 : 0) | (txNapiSched ? 16 : 0) | (txNapiMissed ? 32 : 0)
                    | (txStopped ? 64 : 0) | (opened ? 128 : 0) | (filling ? 256 : 0) | (fillFailed ? 512 : 0) | (mappedPastEnd ? 1024 : 0)
                    | (packetQueued ? 2048 : 0) | ((long) received << 16) | ((long) bufsLeft << 32));
            out.put(packetLen);
            for (int c = 0; c < activity.length; c++) out.put(activity[c].ordinal() | (phase[c].ordinal() << 8));
            out.put(ewma, nextId);
            out.put(rxDelivered, rxDropped);
            out.put(rxRevoked, txNext);
            out.put(txCompleted, mapFailures);
        }

        @Override
        public void restore(tcesim.state.StateReader in) {
            sockQueue.clear();
            for (int n = in.nextInt(); n > 0; n--) sockQueue.addLast(in.next());
            kernelPages.clear();
            for (int n = in.nextInt(); n > 0; n--) kernelPages.addLast(in.next());
            long f = in.next();
            rxIrq = (f & 1) != 0;
            txIrq = (f & 2) != 0;
            napiSched = (f & 4) != 0;
            napiMissed = (f & 8) != 0;
            txNapiSched = (f & 16) != 0;
            txNapiMissed = (f & 32) != 0;
            txStopped = (f & 64) != 0;
            opened = (f & 128) != 0;
            filling = (f & 256) != 0;
            fillFailed = (f & 512) != 0;
            mappedPastEnd = (f & 1024) != 0;
            packetQueued = (f & 2048) != 0;
            received = (int) ((f >>> 16) & 0xffff);
            bufsLeft = (int) ((f >>> 32) & 0xffff);
            packetLen = in.nextInt();
            for (int c = 0; c < activity.length; c++) {
                int w = in.nextInt();
                activity[c] = Activity.ALL[w & 0xff];
                phase[c] = PHASES[w >>> 8];
            }
            ewma = in.next();
            nextId = in.nextInt();
            rxDelivered = in.next();
            rxDropped = in.next();
            rxRevoked = in.next();
            txNext = in.next();
            txCompleted = in.next();
            mapFailures = in.next();
        }
    }
}
