package tcesim.sim;

import tcesim.guest.PassthroughNicDriver;
import tcesim.guest.Payload;
import tcesim.vfio.DmaResult;
import tcesim.vfio.PassthroughDevice;
import tcesim.virtio.Vring;

/**
 * The passthrough NIC's DMA engine: a received packet is written into the head buffer in two bursts, the header and
 * then the rest (a NIC writes a frame in several PCIe transactions; each translation goes through the PHB's TCE
 * cache), so that the guest can take the buffer back between them.
 *
 * <p>Hardware, not code: the receive side of a NIC passed through with VFIO, whose inbound DMA the PHB translates
 * ({@link PassthroughDevice}: its TCE cache, then the hardware table KVM or QEMU's VFIO listener keeps in step with the
 * guest's). The ring it takes buffers from is the guest driver's ({@link PassthroughNicDriver}).
 */
final class PassthroughDma implements Actor, tcesim.state.Snapshot {
    static final int HEADER_BURST = 64;
    private static final String[] NAMES = {"dma-header", "dma-payload"};

    private final Stack stack;
    private final StackConfig cfg;
    private final Trace trace;
    private final Clocks clocks;
    private final Oracles oracles;
    private final PassthroughDevice ptDevice;
    private final PassthroughNicDriver ptDriver;
    /** Whether packet bytes are moved (see {@link Stack#data()}). */
    private final boolean data;

    private final byte[] buf = new byte[4096];
    /** The descriptor whose packet is half written, or null. */
    private Vring.Desc current;
    /** Packets the NIC has started to write (the wire's sequence numbers). */
    private long ptSent;

    /** The DMA engine of {@code stack}'s passthrough NIC, made once the device and its guest driver exist. */
    PassthroughDma(Stack stack) {
        this.stack = stack;
        this.cfg = stack.config();
        this.trace = stack.trace();
        this.clocks = stack.clocks();
        this.oracles = stack.oracles();
        this.ptDevice = stack.passthroughDevice();
        this.ptDriver = stack.passthroughDriver();
        this.data = stack.data();
    }

    @Override public String name() { return "vfio-dev"; }
    @Override public String stepName(int kind) { return NAMES[kind]; }

    @Override
    public void enabledSteps(StepList out) {
        if (ptDevice.frozen()) return;
        if (current != null) out.add(this, 1);
        else if (ptDriver.ring().hasAvail() && ptSent < cfg.passthroughPackets()) out.add(this, 0);
    }

    @Override
    public void step(int kind) {
        CostLedger ledger = stack.ledger();
        Vring ring = ptDriver.ring();
        boolean header = current == null;
        if (header) {
            ledger.after(clocks.ptPosted.poll());
            current = ring.popAvail();
            if (data) Payload.fill(buf, Math.min(cfg.packetBytes(), current.len()), PassthroughNicDriver.STREAM, ptSent);
            ptSent++;
        }
        Vring.Desc d = current;
        int len = Math.min(cfg.packetBytes(), d.len());
        int from = header ? 0 : Math.min(HEADER_BURST, len);
        int to = header ? Math.min(HEADER_BURST, len) : len;
        DmaResult r = data ? ptDevice.dmaWrite(d.iova() + from, buf, from, to - from) : ptDevice.dmaWrite(d.iova() + from, to - from);
        if (r.ok()) ledger.charge(CostLedger.Lane.DEVICE, CostLedger.Kind.COPY, to - from);
        oracles.deviceDma("vfio-dev", r);
        if (!r.ok()) {
            current = null;
            if (trace.enabled()) trace.emit("vfio-dev", "dma-fault", r.iova(), Event.NONE, String.format("DMA to iova 0x%x failed (%s): the PE is frozen", r.iova(), r.status()));
            return;
        }
        if (trace.enabled()) trace.emit("vfio-dev", header ? "dma-header" : "dma-write", d.iova() + from, r.gpa(0), String.format("wrote %s to iova 0x%x = gpa 0x%x (%s)",
                header ? "the packet's header" : "the rest of the packet", d.iova() + from, r.gpa(0), r.fromCache(0) ? "PHB TCE cache" : "hardware table"));
        if (to == len) {
            current = null;
            ring.pushUsed(d.id(), len);
            clocks.ptUsed.add(ledger.now());
            clocks.ptArrival.add(ledger.now());
        }
    }

    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(ptSent);
        out.put(current != null);
        if (current != null) {
            out.put(current.id(), current.iova());
            out.put(current.len());
        }
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        ptSent = in.next();
        current = null;
        if (in.nextBool()) {
            int id = in.nextInt();
            long iova = in.next();
            current = new Vring.Desc(id, iova, in.nextInt(), true);
        }
    }
}
