package tcesim.sim;

import tcesim.guest.VirtioNetDriver;
import tcesim.mem.GuestMemory;
import tcesim.vhost.VhostDevice;
import tcesim.vhost.VhostNet;
import tcesim.virtio.Vring;

/**
 * The vhost-net worker thread.
 *
 * <p>Models the vhost worker of Linux {@code drivers/vhost/vhost.c} ({@code vhost_worker}: a kernel thread per device
 * that runs the works queued on it, inside the owner's address space, {@code use_mm(dev->mm)}) running vhost-net's
 * handlers ({@code handle_rx} and {@code handle_tx} of {@code drivers/vhost/net.c}, queued by a kick, the tap
 * socket's poll or the UPDATE's re-kick). One step is one descriptor under the virtqueue mutex; what the handlers do
 * is {@link VhostNet}, the IOTLB they translate through {@link VhostDevice}.
 */
final class VhostWorker implements Actor {
    private static final String[] NAMES = {"handle-rx", "handle-tx"};

    private final Stack stack;
    private final StackConfig cfg;
    private final Trace trace;
    private final Clocks clocks;
    private final GuestMemory mem;
    private final VirtioNetDriver driver;
    private final VhostDevice vhost;
    private final VhostNet net;

    /** The vhost worker of {@code stack}, made once vhost-net runs. */
    VhostWorker(Stack stack) {
        this.stack = stack;
        this.cfg = stack.config();
        this.trace = stack.trace();
        this.clocks = stack.clocks();
        this.mem = stack.memory();
        this.driver = stack.driver();
        this.vhost = stack.vhost();
        this.net = stack.vhostNet();
    }

    @Override public String name() { return "vhost"; }
    @Override public String stepName(int kind) { return NAMES[kind]; }

    @Override
    public void enabledSteps(StepList out) {
        if (net.canRun(VhostNet.RX_VQ)) out.add(this, 0);
        if (net.canRun(VhostNet.TX_VQ)) out.add(this, 1);
    }

    @Override
    public void step(int kind) {
        stack.lane(CostLedger.Lane.VHOST);
        CostLedger ledger = stack.ledger();
        int vq = kind == 0 ? VhostNet.RX_VQ : VhostNet.TX_VQ;
        Vring r = kind == 0 ? driver.rx() : driver.tx();
        Vring.Desc d = r.peekAvail();
        // The worker runs once the queue was kicked after the UPDATE it waited for, the descriptor posted and, for RX, the packet in.
        ledger.after(clocks.vqReady[vq]);
        ledger.after(kind == 0 ? clocks.rxPosted.peek() : clocks.txPosted.peek());
        if (kind == 0) ledger.after(clocks.tapArrival.peek());
        boolean held = net.holdsTranslation(vq);
        long bytesBefore = net.bytes();
        VhostNet.Outcome o = kind == 0 ? net.handleRx() : net.handleTx();
        if (o == VhostNet.Outcome.MISS) clocks.misses.add(ledger.now());
        if (o == VhostNet.Outcome.DONE) {
            ledger.charge(CostLedger.Lane.VHOST, CostLedger.Kind.VHOST_PACKET, 1);
            ledger.charge(CostLedger.Lane.VHOST, CostLedger.Kind.COPY, net.bytes() - bytesBefore);
            double now = ledger.now();
            if (kind == 0) {
                clocks.rxPosted.poll();
                clocks.rxUsedArrival.add(clocks.tapArrival.poll());
                clocks.rxUsed.add(now);
                clocks.tapSlots.add(now);
            } else {
                clocks.txPosted.poll();
                clocks.txLatency.add(now - clocks.txStarted.poll());
                clocks.txUsed.add(now);
                clocks.txOnWire = now;
                if (cfg.requestResponse()) clocks.transaction.add(now - clocks.requests.poll());
            }
        }
        if (!trace.enabled()) return;
        switch (o) {
            case MISS -> trace.emit("vhost", "iotlb-miss", d.iova(), Event.NONE, String.format("vq%d: no translation for iova 0x%x: MISS queued, queue stalled", vq, d.iova()));
            case ERROR -> trace.emit("vhost", "vq-error", d.iova(), Event.NONE, String.format("vq%d: translation failed with errno %d: queue stopped", vq, net.lastErrno()));
            case TRANSLATED -> trace.emit("vhost", "translate", d.iova(), Event.NONE, String.format("vq%d: translated iova 0x%x (copy not yet done)", vq, d.iova()));
            case DONE -> {
                var e = vhost.iotlb().lookup(d.iova());
                long hva = e == null ? -1 : e.uaddr() + (d.iova() - e.start());
                trace.emit("vhost", kind == 0 ? "rx-copy" : "tx-copy", d.iova(), e == null ? Event.NONE : mem.hvaToGpa(hva),
                        String.format("vq%d: %s iova 0x%x%s", vq, kind == 0 ? "wrote packet to" : "read packet from", d.iova(),
                                e == null ? (held ? " through a translation taken before an INVALIDATE" : "") : String.format(" = gpa 0x%x (IOTLB)", mem.hvaToGpa(hva))));
            }
            default -> { }
        }
    }

    /** QEMU's mapping of guest RAM, as vhost's copies reach it (the worker runs in QEMU's address space). */
    static final class UserMem implements VhostNet.UserMemory {
        private final GuestMemory mem;
        /** Whether packet bytes are moved (see {@link Stack#data()}). */
        private final boolean data;

        UserMem(GuestMemory mem, boolean data) {
            this.mem = mem;
            this.data = data;
        }

        @Override public boolean mapped(long hva, long len) { return mem.containsHva(hva, len); }
        @Override public void write(long hva, byte[] src, int off, int len) { if (data) mem.write(mem.hvaToGpa(hva), src, off, len); }
        @Override public void read(long hva, byte[] dst, int off, int len) { if (data) mem.read(mem.hvaToGpa(hva), dst, off, len); }
    }
}
