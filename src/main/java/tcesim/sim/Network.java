package tcesim.sim;

import java.util.ArrayDeque;
import java.util.List;
import tcesim.guest.Payload;
import tcesim.guest.Symptom;
import tcesim.guest.VirtioNetDriver;
import tcesim.vhost.VhostNet;

/**
 * The network: sends the RX stream into the tap, receives the TX stream from it.
 *
 * <p>Models the host side of the guest's tap device: a packet for the guest goes into the tap ({@code tun_net_xmit},
 * drivers/net/tun.c, queues it on the tun file's ring and wakes the socket's readers: vhost's RX socket poll, when it
 * is on the wait queue), and
 * what vhost sends on the tap's socket goes out on the wire. The wire carries one frame at a time. Also holds the
 * tap's backlog and the wire's counters, which are saved with QEMU's main loop as the stack's host side
 * (see {@link Stack#save}).
 */
final class Network implements Actor, tcesim.state.Snapshot {
    static final int TAP_BACKLOG = 64;
    /** Bytes a frame takes on Ethernet besides its payload: preamble 8, header 14, FCS 4, inter-frame gap 12. */
    static final int ETHERNET_OVERHEAD = 38;

    private final Stack stack;
    private final StackConfig cfg;
    private final Trace trace;
    private final Stats stats;
    private final Clocks clocks;
    /** Whether packet bytes are moved and checked (see {@link Stack#data()}). */
    private final boolean data;
    /** Where the wire reports a TX packet it did not expect: the stack's {@link Stack#wireSymptoms()}. */
    private final List<Symptom> symptoms;
    private final TapDev tap = new TapDev();
    private final byte[] packet;

    /** The packets in the tap, by sequence number, waiting for vhost. */
    private final ArrayDeque<Long> tapBacklog = new ArrayDeque<>();
    /** Packets of the RX stream sent into the tap so far. */
    private long rxInjected;
    /** Packets of the TX stream the wire has got so far. */
    private long txSeen;

    /** The network of {@code stack}, made before vhost-net, which it hands {@link #tap()}. */
    Network(Stack stack) {
        this.stack = stack;
        this.cfg = stack.config();
        this.trace = stack.trace();
        this.stats = stack.stats();
        this.clocks = stack.clocks();
        this.data = stack.data();
        this.symptoms = stack.wireSymptoms();
        this.packet = new byte[cfg.packetBytes()];
    }

    @Override public String name() { return "net"; }
    @Override public String stepName(int kind) { return "rx-packet"; }

    /** The tap device, for vhost-net. */
    VhostNet.Tap tap() { return tap; }

    long rxInjected() { return rxInjected; }

    /** Whether the tap holds no packet. */
    boolean tapEmpty() { return tapBacklog.isEmpty(); }

    @Override
    public void enabledSteps(StepList out) {
        // Request/response: request k goes out once response k - 1 has come back.
        if (rxInjected < cfg.rxPackets() && tapBacklog.size() < TAP_BACKLOG && (!cfg.requestResponse() || txSeen >= rxInjected)) out.add(this, 0);
    }

    @Override
    public void step(int kind) {
        CostLedger ledger = stack.ledger();
        // The wire carries one frame at a time; a request waits for the response before it.
        ledger.after(clocks.wireFree);
        ledger.after(clocks.takeTapSlot());
        if (cfg.requestResponse()) ledger.after(clocks.txOnWire);
        ledger.charge(CostLedger.Lane.WIRE, CostLedger.Kind.WIRE, cfg.packetBytes() + ETHERNET_OVERHEAD);
        clocks.wireFree = ledger.now();
        clocks.tapArrival.add(ledger.now());
        if (cfg.requestResponse()) clocks.requests.add(ledger.now());
        tapBacklog.addLast(rxInjected);
        // The tap wakes its socket's readers (EPOLLIN): vhost's RX socket poll, if it is armed. After handle_rx stopped on a
        // MISS it is not: the packet waits in the tap.
        stack.vhostNet().tapReadable();
        if (trace.enabled()) trace.emit("net", "rx-packet", Event.NONE, Event.NONE, "packet " + rxInjected + " arrives at the tap");
        rxInjected++;
    }

    /** The network's counters and the tap's backlog: the last words of the stack's host side (see {@link Stack#save}). */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(rxInjected, txSeen);
        out.put(tapBacklog.size());
        for (long seq : tapBacklog) out.put(seq);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        rxInjected = in.next();
        txSeen = in.next();
        tapBacklog.clear();
        for (int n = in.nextInt(); n > 0; n--) tapBacklog.addLast(in.next());
    }

    /** The tap device as vhost-net sees it. */
    private final class TapDev implements VhostNet.Tap {
        @Override
        public int peekRx() { return tapBacklog.isEmpty() ? -1 : cfg.packetBytes(); }

        /** The packet with the virtio-net header the tap puts before it (IFF_VNET_HDR): 12 zero bytes. */
        @Override
        public void takeRx(byte[] buf) {
            long seq = tapBacklog.removeFirst();
            if (data) {
                java.util.Arrays.fill(buf, 0, VhostNet.VNET_HDR_LEN, (byte) 0);
                Payload.fill(packet, cfg.packetBytes(), VirtioNetDriver.RX_STREAM, seq);
                System.arraycopy(packet, 0, buf, VhostNet.VNET_HDR_LEN, cfg.packetBytes());
            }
            stats.packetsRx++;
        }

        /** The frame vhost sends: the guest's virtio-net header, then the packet. */
        @Override
        public void transmit(byte[] buf, int len) {
            long seq = txSeen;
            if (data) {
                int n = Math.min(len - VhostNet.VNET_HDR_LEN, cfg.packetBytes());
                seq = n <= 0 ? -1 : Payload.check(java.util.Arrays.copyOfRange(buf, VhostNet.VNET_HDR_LEN, VhostNet.VNET_HDR_LEN + n), n, VirtioNetDriver.TX_STREAM);
            }
            if (seq != txSeen) {
                symptoms.add(new Symptom("tx-data", -1, String.format("the wire got %s, expected TX packet %d",
                        seq < 0 ? "foreign bytes" : "packet " + seq, txSeen)));
            }
            txSeen++;
            stats.packetsTx++;
        }
    }
}
