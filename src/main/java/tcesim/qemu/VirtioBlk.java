package tcesim.qemu;

import java.util.ArrayDeque;
import tcesim.mem.GuestMemory;
import tcesim.papr.Tce;
import tcesim.virtio.Vring;

/**
 * QEMU's own virtio-blk device on the pseries PHB, with VIRTIO_F_ACCESS_PLATFORM: a second DMA user of the window
 * vhost-net uses (every emulated PCI device of the PHB shares its LIOBN), one that QEMU serves itself, so that its
 * accesses go through the window's IOMMU region at the time they are made and add nothing to vhost's IOTLB.
 *
 * <p>Models {@code hw/block/virtio-blk.c} ({@code virtio_blk_handle_vq}, {@code virtio_blk_handle_request},
 * {@code virtio_blk_req_complete}) on {@code hw/virtio/virtio.c} ({@code virtqueue_split_pop}: an INDIRECT head is
 * read through an {@code address_space_cache_init} of the device's DMA address space, which for an IOMMU region
 * keeps no pointer and translates every access; {@code virtqueue_map_desc}: each descriptor is mapped with
 * {@code dma_memory_map}, a translation through {@code spapr_tce_translate_iommu} made at pop time and held until
 * {@code virtqueue_unmap_sg} at completion; {@code virtqueue_push}). QEMU registers no IOMMU notifier for it and
 * caches nothing between requests. A translation that fails, or whose permission does not allow the access
 * ({@code address_space_map} of an IOMMU entry without the bit returns NULL), ends in {@code virtio_error}: the
 * device is broken and serves nothing more ("virtio: bogus descriptor or out of resources").
 *
 * <p>Two steps per request, as the work splits in QEMU's thread: {@link #pop} takes the head, reads the indirect
 * table and the request header, maps the buffers and, for a write, the block backend reads the data (the image is
 * in the host's page cache: the I/O is a copy); {@link #complete} writes a read's data and the status byte through
 * the mappings taken at pop, and returns the head in the used ring. The buffers' layout is that of Linux's
 * {@code virtblk_add_req}: header (device reads), data (either way), status (device writes).
 */
public final class VirtioBlk implements tcesim.state.Snapshot {
    /** {@code VIRTIO_BLK_T_IN}, {@code VIRTIO_BLK_T_OUT} (include/uapi/linux/virtio_blk.h). */
    public static final int T_IN = 0, T_OUT = 1;
    /** {@code VIRTIO_BLK_S_OK}, {@code VIRTIO_BLK_S_UNSUPP}. */
    public static final int S_OK = 0, S_UNSUPP = 2;
    /** {@code struct virtio_blk_outhdr}: le32 type, le32 ioprio, le64 sector. */
    public static final int OUTHDR_BYTES = 16;
    /** {@code struct vring_desc}: le64 addr, le32 len, le16 flags, le16 next. */
    public static final int DESC_BYTES = 16;
    public static final int VRING_DESC_F_NEXT = 1, VRING_DESC_F_WRITE = 2;
    /** {@code VIRTQUEUE_MAX_SIZE}: no descriptor chain is longer. */
    public static final int VIRTQUEUE_MAX_SIZE = 1024;
    /** Sector size of the block layer. */
    public static final int SECTOR_BYTES = 512;

    /** Every access QEMU makes to guest memory, before it is made (the oracles' hook). */
    public interface Dma {
        /** @param gpa where the access lands: the translation QEMU took for it */
        void access(String what, long iova, long len, long gpa, boolean write);
    }

    /** The disk image behind the device (QEMU's block backend). */
    public interface Image {
        void read(long sector, byte[] buf, int len);

        void write(long sector, byte[] buf, int len);
    }

    /** A request popped and submitted, waiting for its I/O to complete: the mappings {@code virtqueue_map_desc} took. */
    private record Request(int head, int type, long sector, long dataIova, long dataGpa, int dataLen, long statusIova, long statusGpa) {}

    private final Spapr spapr;
    private final GuestMemory mem;
    private final Vring vq;
    private final Dma dma;
    private final Image image;
    /** Whether data bytes are moved (for symptom reports; the addresses are judged either way). */
    private final boolean data;
    private final ArrayDeque<Request> inFlight = new ArrayDeque<>();
    private final byte[] buf = new byte[GuestMemory.PAGE_SIZE];
    /** Why {@code virtio_error} broke the device (an index into {@link #ERRORS}), or -1. */
    private int broken = -1;
    private long requests;

    /** The {@code virtio_error} messages of the checks modelled. */
    private static final String[] ERRORS = {"invalid size for indirect buffer table", "cannot map the indirect table", "loop in the indirect descriptor chain",
            "incorrect order for descriptors", "missing virtio-blk headers", "cannot map the request headers", "unexpected virtio-blk request layout",
            "cannot map the data buffer"};

    public VirtioBlk(Spapr spapr, GuestMemory mem, Vring vq, Dma dma, Image image, boolean data) {
        this.spapr = spapr;
        this.mem = mem;
        this.vq = vq;
        this.dma = dma;
        this.image = image;
        this.data = data;
    }

    public Vring vq() { return vq; }
    public boolean canPop() { return broken < 0 && vq.hasAvail(); }
    public boolean canComplete() { return broken < 0 && !inFlight.isEmpty(); }
    /** Why {@code virtio_error} broke the device, or null. */
    public String broken() { return broken < 0 ? null : ERRORS[broken]; }
    public long requests() { return requests; }

    /**
     * {@code address_space_map} (or one access of an {@code address_space_cache}) of {@code [iova, iova + len)}
     * through the window's IOMMU region as the table is now: the guest address, or -1 when no window covers it,
     * the entry does not allow the access, the range leaves the IOMMU page, or it is not guest RAM.
     */
    private long translate(long iova, long len, boolean write) {
        IommuTlbEvent e = spapr.translate(iova);
        if (e == null || (e.perm() & (write ? Tce.WRITE : Tce.READ)) == 0) return -1;
        if ((iova & e.addrMask()) + len > e.addrMask() + 1) return -1;
        long gpa = e.translatedAddr() + (iova & e.addrMask());
        return mem.contains(gpa, len) ? gpa : -1;
    }

    private long fail(int why) {
        broken = why;
        return -1;
    }

    /**
     * {@code virtio_blk_handle_vq}: pops the head, reads its indirect table and the request header, maps the data
     * and status buffers, and submits the I/O (a write's data is read here). Returns the bytes read from guest memory,
     * or -1 when the device broke.
     */
    public long pop() {
        Vring.Desc head = vq.popAvail();
        int n = head.len() / DESC_BYTES;
        if (n == 0 || n > VIRTQUEUE_MAX_SIZE || head.len() % DESC_BYTES != 0) return fail(0);
        long table = translate(head.iova(), head.len(), false);
        if (table < 0) return fail(1);
        dma.access("indirect table read", head.iova(), head.len(), table, false);
        long[] iova = new long[n];
        int[] len = new int[n];
        boolean[] in = new boolean[n];
        int count = 0;
        for (int i = 0, seen = 0; ; seen++) {
            if (i >= n || seen >= n) return fail(2);
            long d = table + (long) DESC_BYTES * i;
            iova[count] = mem.readLE(d, 8);
            len[count] = (int) mem.readLE(d + 8, 4);
            int flags = (int) mem.readLE(d + 12, 2);
            in[count] = (flags & VRING_DESC_F_WRITE) != 0;
            if (count > 0 && in[count - 1] && !in[count]) return fail(3);
            count++;
            if ((flags & VRING_DESC_F_NEXT) == 0) break;
            i = (int) mem.readLE(d + 14, 2);
        }
        // virtio_blk_handle_request: the header leads the device-readable part, the status byte ends the writable part.
        if (count < 2 || in[0] || !in[count - 1] || len[0] < OUTHDR_BYTES || len[count - 1] < 1) return fail(4);
        long hdr = translate(iova[0], OUTHDR_BYTES, false);
        long status = translate(iova[count - 1] + len[count - 1] - 1, 1, true);
        if (hdr < 0 || status < 0) return fail(5);
        dma.access("request header read", iova[0], OUTHDR_BYTES, hdr, false);
        int type = (int) mem.readLE(hdr, 4);
        long sector = mem.readLE(hdr + 8, 8);
        requests++;
        boolean rw = type == T_IN || type == T_OUT;
        // One data buffer, as Linux's driver posts a one-segment request: the descriptor between the headers.
        if (rw && (count != 3 || in[1] != (type == T_IN))) return fail(6);
        long dataIova = rw ? iova[1] : -1;
        int dataLen = rw ? len[1] : 0;
        long dataGpa = rw ? translate(dataIova, dataLen, type == T_IN) : -1;
        if (rw && dataGpa < 0) return fail(7);
        if (type == T_OUT) {
            dma.access("disk write: data read", dataIova, dataLen, dataGpa, false);
            if (data) {
                mem.read(dataGpa, buf, 0, dataLen);
                image.write(sector, buf, dataLen);
            }
        }
        inFlight.addLast(new Request(head.id(), rw ? type : -1, sector, dataIova, dataGpa, dataLen, iova[count - 1] + len[count - 1] - 1, status));
        return head.len() + OUTHDR_BYTES + (type == T_OUT ? dataLen : 0);
    }

    /**
     * The I/O completes ({@code virtio_blk_rw_complete}, {@code virtio_blk_req_complete}): a read's data and the status
     * byte are written through the mappings taken at pop, and the head goes to the used ring. Returns the bytes written.
     */
    public int complete() {
        Request r = inFlight.removeFirst();
        int written = 1;
        if (r.type() == T_IN) {
            dma.access("disk read: data write", r.dataIova(), r.dataLen(), r.dataGpa(), true);
            if (data) {
                image.read(r.sector(), buf, r.dataLen());
                mem.write(r.dataGpa(), buf, 0, r.dataLen());
            }
            written += r.dataLen();
        }
        dma.access("status write", r.statusIova(), 1, r.statusGpa(), true);
        mem.writeByte(r.statusGpa(), (byte) (r.type() < 0 ? S_UNSUPP : S_OK));
        vq.pushUsed(r.head(), written);
        return written;
    }

    /** The requests in flight with their mappings, and whether the device is broken (the ring is the driver's to save). */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(broken);
        out.put(inFlight.size());
        for (Request r : inFlight) {
            out.put(((long) r.head() << 32) | (r.type() & 0xffffffffL), r.sector());
            out.put(r.dataIova(), r.dataGpa());
            out.put(r.dataLen());
            out.put(r.statusIova(), r.statusGpa());
        }
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        broken = in.nextInt();
        inFlight.clear();
        for (int n = in.nextInt(); n > 0; n--) {
            long h = in.next();
            long sector = in.next();
            long dataIova = in.next();
            long dataGpa = in.next();
            int dataLen = in.nextInt();
            long statusIova = in.next();
            inFlight.addLast(new Request((int) (h >> 32), (int) h, sector, dataIova, dataGpa, dataLen, statusIova, in.next()));
        }
    }
}
