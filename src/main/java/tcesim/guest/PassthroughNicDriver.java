package tcesim.guest;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import tcesim.mem.GuestMemory;
import tcesim.virtio.Vring;

/**
 * The guest's driver of a NIC passed through with VFIO, sharing the DMA window with virtio-net.
 *
 * <p>Models what matters of any Linux NIC driver for DMA on pseries: it keeps a ring of receive buffers,
 * each a fresh page mapped DMA_FROM_DEVICE through the same {@link PseriesIommu} before it is posted,
 * unmapped once the device has filled it and freed after the packet is read. The descriptor ring is the
 * NIC's own; it is modelled with the same ring structure as a virtqueue (post, consume, return).
 */
public final class PassthroughNicDriver implements DriverWork.Owner, tcesim.state.Snapshot {
    public static final int STREAM = 3;

    private final GuestMemory mem;
    private final PageAllocator pages;
    private final PseriesIommu iommu;
    private final Vring ring;
    private final int bufLen;
    private final long packets;
    private final PostedBuffers posted = new PostedBuffers();
    private final ArrayDeque<Symptom> symptoms = new ArrayDeque<>();
    private final byte[] scratch;
    private int nextId;
    private long expected;
    private long delivered;
    private long lost;
    /** Whether received bytes are checked (for symptom reports; off in the checker). */
    private final boolean data;

    public PassthroughNicDriver(GuestMemory mem, PageAllocator pages, PseriesIommu iommu, Vring ring, int bufLen, long packets, boolean data) {
        this.data = data;
        this.mem = mem;
        this.pages = pages;
        this.iommu = iommu;
        this.ring = ring;
        this.bufLen = bufLen;
        this.packets = packets;
        this.scratch = new byte[bufLen];
    }

    public Vring ring() { return ring; }
    public long packets() { return packets; }
    public long delivered() { return delivered; }
    public long lost() { return lost; }
    public ArrayDeque<Symptom> symptoms() { return symptoms; }

    public boolean canRefill() { return ring.hasRoom() && delivered + ring.outstanding() < packets; }

    /** Allocates a page and starts mapping it DMA_FROM_DEVICE; null when no page or IOVA was free. */
    public DriverWork refill(int cpu) {
        long pfn = pages.alloc(PageUse.DMA_BUFFER);
        if (pfn == PageAllocator.NO_PAGE) return null;
        DmaOp op = iommu.map(cpu, pages.gpa(pfn), bufLen, DmaDirection.FROM_DEVICE);
        if (op == null) {
            pages.free(pfn);
            return null;
        }
        return new DriverWork(DriverWork.Kind.PT_REFILL, op, new DmaBuffer(nextId++, pages.gpa(pfn), op.dmaAddr(), bufLen, DmaDirection.FROM_DEVICE), 0, this);
    }

    public boolean canReap() { return ring.hasUsed(); }

    private long revoked;

    public long revoked() { return revoked; }

    /** Whether a posted buffer the device has not returned yet exists (one the guest could take back). */
    public boolean canRevoke() { return posted.oldestNotReturned(ring) != null; }

    /**
     * A misbehaving guest takes back its oldest posted buffer the device has not returned: unmaps it and, once the
     * unmap returns, frees the page, without telling the device, whose descriptor stays in its ring.
     */
    public DriverWork revoke(int cpu) {
        DmaBuffer b = posted.oldestNotReturned(ring);
        posted.remove(b.id());
        revoked++;
        return new DriverWork(DriverWork.Kind.PT_REVOKE, iommu.unmap(cpu, b.dma(), b.len()), b, 0, this);
    }

    public DriverWork reap(int cpu) {
        Vring.Used u = ring.popUsed();
        DmaBuffer b = posted.remove(u.id());
        if (b == null) {
            // A buffer the guest took back: the packet has nowhere to go.
            delivered++;
            return null;
        }
        return new DriverWork(DriverWork.Kind.PT_REAP, iommu.unmap(cpu, b.dma(), b.len()), b, u.len(), this);
    }

    @Override
    public void finish(DriverWork w, int cpu) {
        DmaBuffer b = w.buffer();
        switch (w.kind()) {
            case PT_REFILL -> {
                if (w.op().mappingFailed()) {
                    pages.free(pages.pageOf(b.gpa()));
                    return;
                }
                posted.add(b);
                ring.post(new Vring.Desc(b.id(), b.dma(), b.len(), true));
            }
            case PT_REAP -> {
                if (!data) {
                    delivered++;
                    pages.free(pages.pageOf(b.gpa()));
                    return;
                }
                int n = Math.min(w.usedLen(), b.len());
                mem.read(b.gpa(), scratch, 0, n);
                long seq = Payload.check(scratch, n, STREAM);
                if (seq != expected) {
                    lost++;
                    symptoms.add(new Symptom("passthrough-rx-data", pages.pageOf(b.gpa()), String.format(
                            "passthrough RX buffer at 0x%x holds %s, expected packet %d", b.gpa(),
                            seq < 0 ? "foreign bytes" : "packet " + seq, expected)));
                    if (seq > expected) expected = seq + 1;
                } else {
                    expected++;
                }
                delivered++;
                pages.free(pages.pageOf(b.gpa()));
            }
            case PT_REVOKE -> pages.free(pages.pageOf(b.gpa()));
            default -> throw new IllegalStateException("not a passthrough operation: " + w.kind());
        }
    }

    /** Posted buffers in posting order, counters and the ring; the stream position follows received bytes (reports only). */
    @Override
    public void save(tcesim.state.StateWriter out) {
        posted.save(out);
        out.put(nextId, delivered);
        out.put(revoked);
        ring.save(out);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        posted.restore(in);
        nextId = in.nextInt();
        delivered = in.next();
        revoked = in.next();
        ring.restore(in);
    }
}
