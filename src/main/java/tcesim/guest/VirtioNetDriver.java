package tcesim.guest;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import tcesim.mem.GuestMemory;
import tcesim.virtio.Vring;

/**
 * The guest's virtio-net driver with VIRTIO_F_ACCESS_PLATFORM, and the rest of the guest kernel that
 * shares its pages.
 *
 * <p>Models the DMA behaviour of Linux {@code drivers/net/virtio_net.c} on a pseries guest: every RX
 * buffer is a freshly allocated page mapped DMA_FROM_DEVICE (read-write TCE) before it is posted and
 * unmapped when the device returns it, after which the page goes up the stack and is freed; every TX
 * buffer is a page the sender filled, mapped DMA_TO_DEVICE (read-only TCE), unmapped and freed on
 * completion. Freed pages go back to the LIFO page allocator, where the next RX refill, TX send or other
 * kernel allocation ({@link #kernelAlloc}) picks them up at once: the reuse the seed's crash needs.
 *
 * <p>Each operation that makes hypercalls returns its {@link DmaOp}; the vCPU runs it one hypercall per
 * step and then calls the matching {@code finish} method.
 */
public final class VirtioNetDriver implements DriverWork.Owner, tcesim.state.Snapshot {
    public static final int RX_STREAM = 1;
    public static final int TX_STREAM = 2;

    private final GuestMemory mem;
    private final PageAllocator pages;
    private final PseriesIommu iommu;
    private final Vring rx;
    private final Vring tx;
    private final int bufLen;
    private final int txBytes;
    /** Posted RX buffers in posting order (the guest knows which are outstanding, not which the device took). */
    private final PostedBuffers rxPosted = new PostedBuffers();
    private final PostedBuffers txPosted = new PostedBuffers();
    /** The other kernel users' pages, oldest first (page frame numbers). */
    private final com.carrotsearch.hppc.LongArrayDeque kernelPages = new com.carrotsearch.hppc.LongArrayDeque();
    private final ArrayDeque<Symptom> symptoms = new ArrayDeque<>();
    private final byte[] scratch;
    private final byte[] kernelPage = new byte[GuestMemory.PAGE_SIZE];
    private int nextId;
    private long rxExpected;
    private long rxDelivered;
    private long rxLost;
    private long rxDropped;
    private long rxRevoked;
    private long txNext;
    private long txLimit;
    private long txCompleted;
    private long mapFailures;
    /** Whether packet and kernel-object bytes are written and checked (for symptom reports; off in the checker). */
    private final boolean data;
    /** Fault injection: the first RX buffer is mapped by the guest itself at the window's last entry, two TCEs long. */
    private boolean mapPastWindowEnd;

    /**
     * @param bufLen bytes of an RX buffer
     * @param txBytes bytes of a TX packet (its buffer and descriptor length)
     * @param data write the bytes of TX packets and kernel objects and check what comes back (the symptoms); without
     *     it the driver behaves the same but moves no bytes
     */
    public VirtioNetDriver(GuestMemory mem, PageAllocator pages, PseriesIommu iommu, Vring rx, Vring tx, int bufLen, int txBytes, long txPackets,
                           boolean data) {
        this.data = data;
        this.mem = mem;
        this.pages = pages;
        this.iommu = iommu;
        this.rx = rx;
        this.tx = tx;
        this.bufLen = bufLen;
        this.txBytes = txBytes;
        this.txLimit = txPackets;
        this.scratch = new byte[Math.max(bufLen, GuestMemory.PAGE_SIZE)];
    }

    /** Makes the next RX buffer a buggy guest's mapping at the window's last entry, two TCEs, the second past the end. */
    public void mapNextRxPastWindowEnd() { mapPastWindowEnd = true; }

    public Vring rx() { return rx; }
    public Vring tx() { return tx; }
    public PseriesIommu iommu() { return iommu; }
    public PageAllocator pages() { return pages; }

    // ---- RX -------------------------------------------------------------------------------------

    public boolean canRefillRx() { return rx.hasRoom(); }

    /** Allocates a page and starts mapping it DMA_FROM_DEVICE; null when no page or no IOVA was free. */
    public DriverWork refillRx(int cpu) {
        return newBuffer(cpu, DriverWork.Kind.RX_REFILL, DmaDirection.FROM_DEVICE);
    }

    public boolean canReapRx() { return rx.hasUsed(); }

    /**
     * Takes one used RX buffer and starts unmapping it. A used element for a buffer the guest took back
     * ({@link #revokeRx}) has nothing behind it: its packet is dropped and null returned.
     */
    public DriverWork reapRx(int cpu) {
        Vring.Used u = rx.popUsed();
        DmaBuffer b = rxPosted.remove(u.id());
        if (b == null) {
            rxDropped++;
            return null;
        }
        return new DriverWork(DriverWork.Kind.RX_REAP, iommu.unmap(cpu, b.dma(), b.len()), b, u.len(), this);
    }

    public boolean canRevokeRx() { return rxPosted.oldestNotReturned(rx) != null; }

    /**
     * A misbehaving (or hostile) guest takes back its oldest RX buffer the device has not returned, while it may
     * still own it: unmaps it and, once the unmap returns, frees the page, without telling the device.
     * The descriptor stays in the ring. The guest is untrusted, so the properties must hold anyway.
     */
    public DriverWork revokeRx(int cpu) {
        DmaBuffer b = rxPosted.oldestNotReturned(rx);
        rxPosted.remove(b.id());
        rxRevoked++;
        return new DriverWork(DriverWork.Kind.RX_REVOKE, iommu.unmap(cpu, b.dma(), b.len()), b, 0, this);
    }

    // ---- TX -------------------------------------------------------------------------------------

    public boolean canSendTx() { return txNext < txLimit && tx.hasRoom(); }

    /** Allocates a page, writes the next TX packet into it and starts mapping it DMA_TO_DEVICE. */
    public DriverWork sendTx(int cpu) {
        DriverWork p = newBuffer(cpu, DriverWork.Kind.TX_SEND, DmaDirection.TO_DEVICE);
        if (p != null) txNext++;
        return p;
    }

    /** A fresh page (filled with the next TX packet for a send) and the start of its mapping; null when no page or IOVA is free. */
    private DriverWork newBuffer(int cpu, DriverWork.Kind kind, DmaDirection dir) {
        long pfn = pages.alloc(PageUse.DMA_BUFFER);
        if (pfn == PageAllocator.NO_PAGE) return null;
        long gpa = pfn << GuestMemory.PAGE_SHIFT;
        int len = kind == DriverWork.Kind.TX_SEND ? txBytes : bufLen;
        if (kind == DriverWork.Kind.TX_SEND && data) {
            Payload.fill(scratch, len, TX_STREAM, txNext);
            mem.write(gpa, scratch, 0, len);
        }
        DmaOp op;
        if (kind == DriverWork.Kind.RX_REFILL && mapPastWindowEnd && !iommu.direct()) {
            mapPastWindowEnd = false;
            IommuTableAllocator t = iommu.table();
            op = iommu.mapAt(cpu, gpa, len, dir, t.itOffset() + t.itSize() - 1, 2);
        } else {
            op = iommu.map(cpu, gpa, len, dir);
        }
        if (op == null) {
            pages.free(pfn);
            mapFailures++;
            return null;
        }
        return new DriverWork(kind, op, new DmaBuffer(nextId++, pfn, op.dmaAddr(), len, dir), 0, this);
    }

    public boolean canReapTx() { return tx.hasUsed(); }

    public DriverWork reapTx(int cpu) {
        Vring.Used u = tx.popUsed();
        DmaBuffer b = txPosted.remove(u.id());
        return new DriverWork(DriverWork.Kind.TX_REAP, iommu.unmap(cpu, b.dma(), b.len()), b, u.len(), this);
    }

    // ---- completion of an operation whose hypercalls are done ----------------------------------

    /** Called once every hypercall of {@code p} has returned. */
    @Override
    public void finish(DriverWork p) {
        DmaBuffer b = p.buffer();
        switch (p.kind()) {
            case RX_REFILL, TX_SEND -> {
                if (p.op().mappingFailed()) {
                    pages.free(b.pfn());
                    mapFailures++;
                    if (p.kind() == DriverWork.Kind.TX_SEND) txNext--;
                    return;
                }
                if (p.kind() == DriverWork.Kind.RX_REFILL) {
                    rxPosted.add(b);
                    rx.post(new Vring.Desc(b.id(), b.dma(), b.len(), true));
                } else {
                    txPosted.add(b);
                    tx.post(new Vring.Desc(b.id(), b.dma(), b.len(), false));
                }
            }
            case RX_REAP -> {
                deliverRx(b, p.usedLen());
                pages.free(b.pfn());
            }
            case TX_REAP -> {
                txCompleted++;
                pages.free(b.pfn());
            }
            case RX_REVOKE -> pages.free(b.pfn());
            default -> throw new IllegalStateException("not a virtio-net operation: " + p.kind());
        }
    }

    /** The network stack reads the packet: it must be the next one of the RX stream. */
    private void deliverRx(DmaBuffer b, int len) {
        rxDelivered++;
        if (!data) return;
        long gpa = b.pfn() << GuestMemory.PAGE_SHIFT;
        int n = Math.min(len, b.len());
        mem.read(gpa, scratch, 0, n);
        long seq = Payload.check(scratch, n, RX_STREAM);
        if (seq != rxExpected) {
            rxLost++;
            symptoms.add(new Symptom("rx-data", b.pfn(), String.format("RX buffer at page 0x%x holds %s, expected packet %d", gpa,
                    seq < 0 ? "foreign bytes" : "packet " + seq, rxExpected)));
            if (seq > rxExpected) rxExpected = seq + 1;
        } else {
            rxExpected++;
        }
    }

    // ---- the rest of the kernel ----------------------------------------------------------------

    /** Another kernel user takes a page (a slab, a page-cache page) and fills it with its data. */
    public boolean kernelAlloc() {
        long pfn = pages.alloc(PageUse.KERNEL);
        if (pfn == PageAllocator.NO_PAGE) return false;
        kernelPages.addLast(pfn);
        if (!data) return true;
        Payload.fillKernelPage(kernelPage, pfn, pages.generation(pfn));
        mem.write(pfn << GuestMemory.PAGE_SHIFT, kernelPage, 0, GuestMemory.PAGE_SIZE);
        return true;
    }

    public int kernelPagesHeld() { return kernelPages.size(); }

    /** The oldest kernel page is used one last time (its data checked) and freed. */
    public void kernelFree() {
        long pfn = kernelPages.removeFirst();
        if (!data) {
            pages.free(pfn);
            return;
        }
        int gen = pages.generation(pfn);
        long gpa = pfn << GuestMemory.PAGE_SHIFT;
        Payload.fillKernelPage(kernelPage, pfn, gen);
        mem.read(gpa, scratch, 0, GuestMemory.PAGE_SIZE);
        int off = java.util.Arrays.mismatch(kernelPage, 0, GuestMemory.PAGE_SIZE, scratch, 0, GuestMemory.PAGE_SIZE);
        if (off >= 0) {
            symptoms.add(new Symptom("kernel-data", pfn, String.format(
                    "kernel object in page 0x%x overwritten at offset %d: the guest would crash here", gpa, off & ~7)));
        }
        pages.free(pfn);
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

    /**
     * What decides the driver's next moves: posted buffers (RX in posting order), kernel pages, counters and
     * both rings. The RX stream position and loss count follow the bytes found in buffers and feed only the
     * symptom reports: they are not saved.
     */
    @Override
    public void save(tcesim.state.StateWriter out) {
        rxPosted.save(out);
        txPosted.save(out);
        out.put(kernelPages.size());
        for (com.carrotsearch.hppc.cursors.LongCursor p : kernelPages) out.put(p.value);
        out.put(nextId, rxDelivered);
        out.put(rxDropped, rxRevoked);
        out.put(txNext, txCompleted);
        out.put(mapFailures);
        out.put(mapPastWindowEnd);
        rx.save(out);
        tx.save(out);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        rxPosted.restore(in);
        txPosted.restore(in);
        kernelPages.clear();
        for (int n = in.nextInt(); n > 0; n--) kernelPages.addLast(in.next());
        nextId = in.nextInt();
        rxDelivered = in.next();
        rxDropped = in.next();
        rxRevoked = in.next();
        txNext = in.next();
        txCompleted = in.next();
        mapFailures = in.next();
        mapPastWindowEnd = in.nextBool();
        rx.restore(in);
        tx.restore(in);
    }
}
