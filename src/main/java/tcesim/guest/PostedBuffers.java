package tcesim.guest;

import java.util.ArrayList;
import java.util.List;

/**
 * The buffers a driver has posted to a device and not yet taken back, in posting order: what a Linux driver
 * keeps per descriptor head (virtio's {@code vq->desc_state[head].data}) to find a buffer again when the device
 * returns it. Buffer ids grow with each buffer, so posting order is id order and the saved state is canonical;
 * devices return buffers mostly in order, so a lookup from the front is short.
 */
final class PostedBuffers implements tcesim.state.Snapshot {
    private final List<DmaBuffer> buffers = new ArrayList<>();

    void add(DmaBuffer b) { buffers.add(b); }

    /** Takes buffer {@code id} out; null when it is not posted (e.g. the guest took it back). */
    DmaBuffer remove(int id) {
        for (int i = 0; i < buffers.size(); i++) if (buffers.get(i).id() == id) return buffers.remove(i);
        return null;
    }

    int size() { return buffers.size(); }

    /** The oldest posted buffer the device has not returned yet (the one a guest taking buffers back takes), or null. */
    DmaBuffer oldestNotReturned(tcesim.virtio.Vring ring) {
        for (DmaBuffer b : buffers) if (!ring.returned(b.id())) return b;
        return null;
    }

    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(buffers.size());
        for (DmaBuffer b : buffers) b.save(out);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        buffers.clear();
        for (int n = in.nextInt(); n > 0; n--) buffers.add(DmaBuffer.restore(in));
    }
}
