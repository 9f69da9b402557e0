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
 * that runs the works queued on it, in order, inside the owner's address space) running vhost-net's handlers
 * ({@code handle_rx} and {@code handle_tx} of {@code drivers/vhost/net.c}, queued by a guest kick, the tap socket's
 * poll, an UPDATE's re-kick or the weight's requeue). One step is one packet of a handler run, under the virtqueue
 * mutex; a run's first step takes the next queued work. What the handlers do and when they are queued is
 * {@link VhostNet}, the IOTLB they translate through {@link VhostDevice}.
 */
final class VhostWorker implements Actor {
    private static final String[] NAMES = {"handle"};

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
        if (net.canRun()) out.add(this, 0);
    }

    /** When the worker's next step can start, as far as what it consumes goes (its own clock aside). */
    double inputTime() {
        int vq = net.nextVq();
        if (vq < 0) return 0;
        double t = net.runningVq() < 0 ? clocks.workAt[vhost.peekWork()] : 0;
        if (vq == VhostNet.RX_VQ) return Math.max(t, Math.max(clocks.rxPosted.peek(), clocks.tapArrival.peek()));
        return Math.max(t, clocks.txPosted.peek());
    }

    @Override
    public void step(int kind) {
        stack.lane(CostLedger.Lane.VHOST);
        CostLedger ledger = stack.ledger();
        boolean starting = net.runningVq() < 0;
        if (starting) ledger.after(clocks.workAt[vhost.peekWork()]);
        int vq = net.nextVq();
        Vring r = vq == VhostNet.RX_VQ ? driver.rx() : driver.tx();
        Vring.Desc d = r.peekAvail();
        boolean held = net.holdsTranslation(vq);
        long bytesBefore = net.bytes();
        int taken = r.lastAvailIdx();
        int published = r.usedIdx();
        long missesBefore = vhost.missesQueued();
        VhostNet.Outcome o = net.step();
        // What the step consumed and produced, for the clocks: descriptors taken, used elements written, interrupts.
        for (int n = (r.lastAvailIdx() - taken) & 0xffff; n > 0; n--) {
            ledger.after(vq == VhostNet.RX_VQ ? clocks.rxPosted.poll() : clocks.txPosted.poll());
        }
        if (o == VhostNet.Outcome.DONE) {
            if (vq == VhostNet.RX_VQ) ledger.after(clocks.tapArrival.peek());
            ledger.charge(CostLedger.Lane.VHOST, CostLedger.Kind.VHOST_PACKET, 1);
            ledger.charge(CostLedger.Lane.VHOST, CostLedger.Kind.COPY, net.bytes() - bytesBefore);
            double now = ledger.now();
            if (vq == VhostNet.RX_VQ) {
                clocks.rxUsedArrival.add(clocks.tapArrival.poll());
                clocks.tapSlots.add(now);
            } else {
                clocks.txLatency.add(now - clocks.txStarted.poll());
                clocks.txOnWire = now;
                if (cfg.requestResponse()) clocks.transaction.add(now - clocks.requests.poll());
            }
        }
        double now = ledger.now();
        // One time per MISS vhost queued in the step: none when a design's vhost keeps to a single MISS per IOVA.
        for (long m = vhost.missesQueued() - missesBefore; m > 0; m--) clocks.misses.add(now);
        for (int q = 0; q < 2; q++) {
            Vring ring = q == VhostNet.RX_VQ ? driver.rx() : driver.tx();
            int from = q == vq ? published : ring.usedIdx();
            for (int n = (ring.usedIdx() - from) & 0xffff; n > 0; n--) (q == VhostNet.RX_VQ ? clocks.rxUsed : clocks.txUsed).add(now);
            if (clocks.irqRaised[q]) {
                clocks.irq[q] = now;
                clocks.irqRaised[q] = false;
            }
        }
        if (net.runningVq() < 0) clocks.vhostFree = now;
        if (!trace.enabled()) return;
        String q = vq == VhostNet.RX_VQ ? "handle_rx" : "handle_tx";
        switch (o) {
            case MISS -> trace.emit("vhost", "iotlb-miss", vhost.lastMissIova(), Event.NONE, String.format("%s: no translation for iova 0x%x%s: MISS queued; %s",
                    q, vhost.lastMissIova(), net.lastExit(vq) == VhostNet.Exit.PREFETCH_MISS ? " (the ring)" : "", net.lastExit(vq).what()));
            case ERROR -> trace.emit("vhost", "vq-error", d == null ? Event.NONE : d.iova(), Event.NONE, String.format("%s: translation failed with errno %d; %s",
                    q, net.lastErrno(), net.lastExit(vq).what()));
            case TRANSLATED -> trace.emit("vhost", "translate", d.iova(), Event.NONE, String.format("%s: translated iova 0x%x (copy not yet done)", q, d.iova()));
            case DONE -> {
                var e = vhost.iotlb().lookup(d.iova());
                long hva = e == null ? -1 : e.uaddr() + (d.iova() - e.start());
                trace.emit("vhost", vq == VhostNet.RX_VQ ? "rx-copy" : "tx-copy", d.iova(), e == null ? Event.NONE : mem.hvaToGpa(hva),
                        String.format("%s: %s iova 0x%x%s%s", q, vq == VhostNet.RX_VQ ? "wrote packet to" : "read packet from", d.iova(),
                                e == null ? (held ? " through a translation taken before an INVALIDATE" : "") : String.format(" = gpa 0x%x (IOTLB)", mem.hvaToGpa(hva)),
                                net.runningVq() < 0 ? "; " + net.lastExit(vq).what() : ""));
            }
            case EXITED -> trace.emit("vhost", "exit", Event.NONE, Event.NONE, q + ": " + net.lastExit(vq).what());
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
