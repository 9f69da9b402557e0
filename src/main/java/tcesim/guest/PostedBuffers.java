package tcesim.guest;

/**
 * The buffers a driver has posted to a device and not yet taken back, in posting order: what a Linux driver
 * keeps per descriptor head (virtio's {@code vq->desc_state[head].data}) to find a buffer again when the device
 * returns it. Buffer ids grow with each buffer, so posting order is id order and the saved state is canonical;
 * devices return buffers mostly in order, so a lookup from the front is short.
 */
final class PostedBuffers implements tcesim.state.Snapshot {
    /** The buffers, oldest first: {@code ring[(head + i) & (ring.length - 1)]} for i in [0, size). */
    private DmaBuffer[] ring = new DmaBuffer[16];
    private int head;
    private int size;

    private DmaBuffer at(int i) { return ring[(head + i) & (ring.length - 1)]; }

    void add(DmaBuffer b) {
        if (size == ring.length) {
            DmaBuffer[] n = new DmaBuffer[size * 2];
            for (int i = 0; i < size; i++) n[i] = at(i);
            ring = n;
            head = 0;
        }
        ring[(head + size++) & (ring.length - 1)] = b;
    }

    /** Takes buffer {@code id} out; null when it is not posted (e.g. the guest took it back). */
    DmaBuffer remove(int id) {
        int mask = ring.length - 1;
        for (int i = 0; i < size; i++) {
            DmaBuffer b = ring[(head + i) & mask];
            if (b.id() != id) continue;
            // Close the gap from the front (the oldest buffers move up one): a removal at the front moves nothing.
            for (int j = i; j > 0; j--) ring[(head + j) & mask] = ring[(head + j - 1) & mask];
            ring[head] = null;
            head = (head + 1) & mask;
            size--;
            return b;
        }
        return null;
    }

    int size() { return size; }

    /** The oldest posted buffer the device has not returned yet (the one a guest taking buffers back takes), or null. */
    DmaBuffer oldestNotReturned(tcesim.virtio.Vring vring) {
        for (int i = 0; i < size; i++) {
            DmaBuffer b = at(i);
            if (!vring.returned(b.id())) return b;
        }
        return null;
    }

    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(size);
        for (int i = 0; i < size; i++) at(i).save(out);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        java.util.Arrays.fill(ring, null);
        head = 0;
        size = 0;
        for (int n = in.nextInt(); n > 0; n--) add(DmaBuffer.restore(in));
    }
}
