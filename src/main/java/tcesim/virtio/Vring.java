package tcesim.virtio;

import java.util.ArrayDeque;

/**
 * A split virtqueue as it lies in guest memory: the driver adds descriptors to the available ring, the
 * device returns them through the used ring.
 *
 * <p>Models the split ring of the virtio 1.x specification (section 2.7): descriptors carry a bus address
 * (an IOVA when VIRTIO_F_ACCESS_PLATFORM is negotiated), a length and the WRITE flag (device writes the
 * buffer: RX); the used element returns the descriptor head and the number of bytes written. The ring
 * memory itself is mapped once for DMA at driver start (coherent), at {@link #ringIova()}; the device
 * translates that address too when it touches the ring.
 */
public final class Vring implements tcesim.state.Snapshot {
    /** One descriptor chain head, as the driver posts it. */
    public record Desc(int id, long iova, int len, boolean deviceWrites) {}

    /** One used element. */
    public record Used(int id, int len) {}

    private final int size;
    private final long ringIova;
    private final ArrayDeque<Desc> avail = new ArrayDeque<>();
    private final ArrayDeque<Used> used = new ArrayDeque<>();
    private int inFlight;

    public Vring(int size, long ringIova) {
        if (size <= 0 || Integer.bitCount(size) != 1) throw new IllegalArgumentException("virtqueue size " + size + " must be a power of two");
        this.size = size;
        this.ringIova = ringIova;
    }

    public int size() { return size; }
    public long ringIova() { return ringIova; }

    /** Descriptors the driver owns no longer: posted and not yet returned. */
    public int outstanding() { return avail.size() + inFlight + used.size(); }

    public boolean hasRoom() { return outstanding() < size; }

    public void post(Desc d) {
        if (!hasRoom()) throw new IllegalStateException("virtqueue full");
        avail.addLast(d);
    }

    public boolean hasAvail() { return !avail.isEmpty(); }
    public Desc peekAvail() { return avail.peekFirst(); }

    /** The device consumes the head descriptor (vhost's {@code vhost_get_vq_desc}). */
    public Desc popAvail() {
        Desc d = avail.removeFirst();
        inFlight++;
        return d;
    }

    /** The device returns a descriptor ({@code vhost_add_used}). */
    public void pushUsed(int id, int len) {
        inFlight--;
        used.addLast(new Used(id, len));
    }

    public boolean hasUsed() { return !used.isEmpty(); }

    /** The driver reaps a used element ({@code virtqueue_get_buf}). */
    public Used popUsed() { return used.removeFirst(); }

    /** Whether the device has returned descriptor {@code id} in the used ring (the driver can read it there before reaping). */
    public boolean returned(int id) {
        for (Used u : used) if (u.id() == id) return true;
        return false;
    }

    public int availCount() { return avail.size(); }
    public int usedCount() { return used.size(); }

    /** Available descriptors in ring order, used elements in ring order, and the count the device holds. */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(avail.size(), used.size());
        for (Desc d : avail) {
            out.put(((long) d.id() << 1) | (d.deviceWrites() ? 1 : 0), d.iova());
            out.put(d.len());
        }
        for (Used u : used) out.put(u.id(), u.len());
        out.put(inFlight);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        int na = in.nextInt();
        int nu = in.nextInt();
        avail.clear();
        used.clear();
        for (int i = 0; i < na; i++) {
            long h = in.next();
            long iova = in.next();
            avail.addLast(new Desc((int) (h >> 1), iova, in.nextInt(), (h & 1) != 0));
        }
        for (int i = 0; i < nu; i++) {
            int id = in.nextInt();
            used.addLast(new Used(id, in.nextInt()));
        }
        inFlight = in.nextInt();
    }
}
