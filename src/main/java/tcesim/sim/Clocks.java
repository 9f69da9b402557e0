package tcesim.sim;

/**
 * The times things passed between actors were produced: descriptors posted and returned, packets on the wire
 * and in the tap, MISS messages, eventfd ranges, the works queued for vhost's worker, the device's interrupts, the
 * release of vhost's virtqueue mutex and of the BQL, QEMU's acknowledgement; and the latencies measured from them. Not part of the saved state: a restored state starts
 * with none (the checker does not time anything).
 *
 * <p>Kept by {@link Stack}: each of its actors adds the times of what it produces and takes those of what it
 * consumes. Part of the cost model, not of the modelled system.
 */
final class Clocks {
    final Times rxPosted = new Times(), txPosted = new Times(), ptPosted = new Times();
    final Times txStarted = new Times();
    final Times rxUsed = new Times(), txUsed = new Times(), ptUsed = new Times();
    final Times rxUsedArrival = new Times(), ptArrival = new Times();
    final Times tapArrival = new Times();
    /** When each of the tap's backlog slots became free, after the ones free from the start: the network cannot put a packet in earlier. */
    final Times tapSlots = new Times();
    int slotsFreeAtStart;
    final Times requests = new Times();
    final Times misses = new Times();
    final Times signals = new Times();
    final Times blkPosted = new Times(), blkUsed = new Times();
    private final Times[] all = {rxPosted, txPosted, ptPosted, txStarted, rxUsed, txUsed, ptUsed, rxUsedArrival, ptArrival, tapArrival, tapSlots,
            requests, misses, signals, blkPosted, blkUsed};
    /** When each of vhost's works was last queued (a kick, the tap's wake-up, an UPDATE's re-kick, the weight's requeue). */
    final double[] workAt = new double[4];
    /** When the device last interrupted the guest for each virtio-net queue; whether it did so in the step running now. */
    final double[] irq = new double[2];
    final boolean[] irqRaised = new boolean[2];
    /** When the vhost worker last released its virtqueue mutex (a write to its fd waits for that). */
    double vhostFree;
    double bqlFree, acked, wireFree, txOnWire;
    final Mean rxLatency = new Mean(), txLatency = new Mean(), transaction = new Mean();

    Clocks() {
        clear();
    }

    /** When the next packet can go into the tap as far as its backlog goes. */
    double nextTapSlot() { return slotsFreeAtStart > 0 ? 0 : tapSlots.peek(); }

    double takeTapSlot() {
        if (slotsFreeAtStart > 0) {
            slotsFreeAtStart--;
            return 0;
        }
        return tapSlots.poll();
    }

    void clear() {
        for (Times t : all) t.clear();
        slotsFreeAtStart = Network.TAP_BACKLOG;
        java.util.Arrays.fill(workAt, 0);
        java.util.Arrays.fill(irq, 0);
        java.util.Arrays.fill(irqRaised, false);
        vhostFree = bqlFree = acked = wireFree = txOnWire = 0;
    }

    /** A running mean. */
    static final class Mean {
        private double sum;
        private long n;

        void add(double v) {
            sum += v;
            n++;
        }

        double mean() { return n == 0 ? 0 : sum / n; }
    }
}
