package tcesim.guest;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import tcesim.mem.GuestMemory;
import tcesim.virtio.Vring;

/**
 * The guest's virtio-blk driver with VIRTIO_F_ACCESS_PLATFORM, a second user of the DMA window virtio-net maps its
 * buffers in (on pseries every emulated device of the PHB shares its LIOBN and its IOVA allocator).
 *
 * <p>Models the DMA behaviour of Linux {@code drivers/block/virtio_blk.c} ({@code virtblk_add_req}: the request
 * header, one data segment and the status byte, each its own scatterlist entry) on {@code drivers/virtio/virtio_ring.c}
 * ({@code virtqueue_add_split}: with VIRTIO_RING_F_INDIRECT_DESC, which QEMU offers, and more than one entry the
 * chain goes into an indirect table; each entry is mapped with {@code vring_map_one_sg}, i.e. {@code dma_map_page},
 * in order, then the table itself with {@code vring_map_single}; a mapping error unmaps what was mapped and fails
 * the request ({@code unmap_release}), which the block layer retries; {@code detach_buf_split} at completion unmaps
 * the table, then each entry). So every request takes four IOVAs from the vCPU's pool and, since QEMU serves the
 * device itself, not one entry of vhost's IOTLB. The block layer submits with the queue's lock held and interrupts
 * off, so a request's four mappings (and its four unmappings at completion) run on the vCPU one after the other,
 * nothing else in between ({@link #next}).
 *
 * <p>Requests are one 4 KiB block each, reads and writes in turn, at consecutive blocks. Each buffer is in its own
 * page from the page allocator, freed at completion (Linux keeps the header and status in the request's
 * {@code virtblk_req}; a page each keeps the requests' buffers apart).
 */
public final class VirtioBlkDriver implements DriverWork.Owner, tcesim.state.Snapshot {
    /** The stream id of disk blocks' contents (see {@link Payload}). */
    public static final int STREAM = 4;
    /** {@code VIRTIO_BLK_T_IN}, {@code VIRTIO_BLK_T_OUT}, {@code VIRTIO_BLK_S_OK}. */
    static final int T_IN = 0, T_OUT = 1, S_OK = 0;
    static final int VRING_DESC_F_NEXT = 1, VRING_DESC_F_WRITE = 2;
    /** The buffers of a request, in the order {@code virtqueue_add_split} maps them. */
    static final int HEADER = 0, DATA = 1, STATUS = 2, TABLE = 3, BUFFERS = 4;
    /** The order {@code detach_buf_split} unmaps them: the indirect table first. */
    private static final int[] UNMAP_ORDER = {TABLE, HEADER, DATA, STATUS};
    private static final int[] LEN = {16, GuestMemory.PAGE_SIZE, 1, 3 * 16};
    public static final int BLOCK_BYTES = GuestMemory.PAGE_SIZE;
    static final int SECTORS_PER_BLOCK = BLOCK_BYTES / 512;

    private enum Phase { MAP, UNWIND, UNMAP }

    /** One request: its buffers' pages and bus addresses (-1 until mapped), and where its DMA API calls are. */
    private static final class Req {
        final int id;
        final int type;
        final long sector;
        final long[] pfn = new long[BUFFERS];
        final long[] dma = {-1, -1, -1, -1};
        boolean tableWritten;
        Phase phase = Phase.MAP;
        /** The next buffer to map (MAP), or how many unmaps are done (UNWIND, UNMAP). */
        int step;
        /** The buffer whose mapping failed, or -1: UNWIND unmaps the ones before it. */
        int failedAt = -1;

        Req(int id, int type, long sector) {
            this.id = id;
            this.type = type;
            this.sector = sector;
        }

        DmaDirection dir(int buf) {
            return switch (buf) {
                case DATA -> type == T_IN ? DmaDirection.FROM_DEVICE : DmaDirection.TO_DEVICE;
                case STATUS -> DmaDirection.FROM_DEVICE;
                default -> DmaDirection.TO_DEVICE;
            };
        }

    }

    /** Where buffer {@code buf} of request {@code r} is: the start of its page. */
    private long gpa(Req r, int buf) { return pages.gpa(r.pfn[buf]); }

    private final GuestMemory mem;
    private final PageAllocator pages;
    private final PseriesIommu iommu;
    private final Vring ring;
    private final long requests;
    private final boolean data;
    private final byte[] scratch = new byte[BLOCK_BYTES];
    private final ArrayDeque<Symptom> symptoms = new ArrayDeque<>();
    /** The request whose mappings or unmappings a vCPU is making, or null. */
    private Req cur;
    /** Posted requests, in posting order (ids grow). */
    private final List<Req> posted = new ArrayList<>();
    private long submitted;
    private long completed;
    private int nextId;

    /**
     * @param requests the requests of the run
     * @param data write and check the blocks' bytes (for symptom reports; without it the driver behaves the same)
     */
    public VirtioBlkDriver(GuestMemory mem, PageAllocator pages, PseriesIommu iommu, Vring ring, long requests, boolean data) {
        this.mem = mem;
        this.pages = pages;
        this.iommu = iommu;
        this.ring = ring;
        this.requests = requests;
        this.data = data;
    }

    public Vring ring() { return ring; }
    public long requests() { return requests; }
    /** Requests started (mapped or being mapped), not counting those given up on a mapping error. */
    public long submitted() { return submitted; }
    public long completed() { return completed; }
    public ArrayDeque<Symptom> symptoms() { return symptoms; }

    public boolean canSubmit() { return cur == null && submitted < requests && ring.hasRoom(); }

    /** {@code virtio_queue_rq}: takes pages for the next request, writes its header and starts mapping; null when out of pages or IOVAs. */
    public DriverWork submit(int cpu) {
        long k = submitted;
        Req r = new Req(nextId, k % 2 == 0 ? T_IN : T_OUT, k * SECTORS_PER_BLOCK);
        for (int i = 0; i < BUFFERS; i++) {
            r.pfn[i] = pages.alloc(PageUse.DMA_BUFFER);
            if (r.pfn[i] == PageAllocator.NO_PAGE) {
                for (int j = 0; j < i; j++) pages.free(r.pfn[j]);
                return null;
            }
        }
        nextId++;
        submitted++;
        writeHeader(r);
        if (data && r.type == T_OUT) {
            Payload.fill(scratch, BLOCK_BYTES, STREAM, r.sector);
            mem.write(gpa(r, DATA), scratch, 0, BLOCK_BYTES);
        }
        cur = r;
        return next(cpu);
    }

    public boolean canReap() { return cur == null && ring.hasUsed(); }

    /** {@code virtblk_done}: takes a used request and starts unmapping its buffers. */
    public DriverWork reap(int cpu) {
        Vring.Used u = ring.popUsed();
        for (int i = 0; i < posted.size(); i++) {
            if (posted.get(i).id == u.id()) {
                cur = posted.remove(i);
                break;
            }
        }
        cur.phase = Phase.UNMAP;
        cur.step = 0;
        return next(cpu);
    }

    @Override
    public void finish(DriverWork w, int cpu) {
        switch (w.kind()) {
            case BLK_MAP -> {
                if (w.op().mappingFailed()) cur.failedAt = cur.step;
                else cur.step++;
            }
            case BLK_UNMAP -> cur.step++;
            default -> throw new IllegalStateException("not a virtio-blk operation: " + w.kind());
        }
    }

    /** The request's next mapping or unmapping, which the vCPU makes before anything else; null once the request is posted, given up or done. */
    @Override
    public DriverWork next(int cpu) {
        while (cur != null) {
            switch (cur.phase) {
                case MAP -> {
                    if (cur.failedAt >= 0) {
                        cur.phase = Phase.UNWIND;
                        cur.step = 0;
                    } else if (cur.step == BUFFERS) {
                        posted.add(cur);
                        ring.post(new Vring.Desc(cur.id, cur.dma[TABLE], LEN[TABLE], false));
                        cur = null;
                    } else {
                        DriverWork w = map(cpu, cur.step);
                        if (w != null) return w;
                        cur.failedAt = cur.step;
                    }
                }
                case UNWIND -> {
                    if (cur.step < cur.failedAt) return unmap(cpu, cur.step);
                    // The block layer requeues the request: it is started again later, as the same block.
                    for (long p : cur.pfn) pages.free(p);
                    submitted--;
                    cur = null;
                }
                case UNMAP -> {
                    if (cur.step < BUFFERS) return unmap(cpu, UNMAP_ORDER[cur.step]);
                    done(cur);
                    cur = null;
                }
            }
        }
        return null;
    }

    private DriverWork map(int cpu, int buf) {
        if (buf == TABLE) writeTable(cur);
        DmaOp op = iommu.map(cpu, gpa(cur, buf), LEN[buf], cur.dir(buf));
        if (op == null) return null;
        cur.dma[buf] = op.dmaAddr();
        return new DriverWork(DriverWork.Kind.BLK_MAP, op, new DmaBuffer(cur.id, gpa(cur, buf), op.dmaAddr(), LEN[buf], cur.dir(buf)), 0, this);
    }

    private DriverWork unmap(int cpu, int buf) {
        return new DriverWork(DriverWork.Kind.BLK_UNMAP, iommu.unmap(cpu, cur.dma[buf], LEN[buf]),
                new DmaBuffer(cur.id, gpa(cur, buf), cur.dma[buf], LEN[buf], cur.dir(buf)), 0, this);
    }

    /** The request is over: the block layer reads the status (and a read's block) and the pages go back. */
    private void done(Req r) {
        completed++;
        if (data) {
            int status = mem.readByte(gpa(r, STATUS)) & 0xff;
            if (status != S_OK) {
                symptoms.add(new Symptom("disk-status", r.pfn[STATUS], String.format("disk request %d (sector %d) completed with status %d",
                        r.id, r.sector, status)));
            }
            if (r.type == T_IN) {
                mem.read(gpa(r, DATA), scratch, 0, BLOCK_BYTES);
                long seq = Payload.check(scratch, BLOCK_BYTES, STREAM);
                if (seq != r.sector) {
                    symptoms.add(new Symptom("disk-read-data", r.pfn[DATA], String.format("disk read of sector %d into page 0x%x holds %s",
                            r.sector, gpa(r, DATA), seq < 0 ? "foreign bytes" : "sector " + seq)));
                }
            }
        }
        for (long p : r.pfn) pages.free(p);
    }

    /** {@code struct virtio_blk_outhdr}, little-endian: type, ioprio 0, sector. */
    private void writeHeader(Req r) {
        long g = gpa(r, HEADER);
        mem.writeLE(g, r.type, 4);
        mem.writeLE(g + 4, 0, 4);
        mem.writeLE(g + 8, r.sector, 8);
    }

    /** The indirect table {@code virtqueue_add_split} fills as it maps: header, data, status, chained. */
    private void writeTable(Req r) {
        long g = gpa(r, TABLE);
        for (int i = 0; i < 3; i++) {
            long d = g + 16L * i;
            mem.writeLE(d, r.dma[i], 8);
            mem.writeLE(d + 8, LEN[i], 4);
            mem.writeLE(d + 12, (i < 2 ? VRING_DESC_F_NEXT : 0) | (r.dir(i) == DmaDirection.FROM_DEVICE ? VRING_DESC_F_WRITE : 0), 2);
            mem.writeLE(d + 14, i < 2 ? i + 1 : 0, 2);
        }
        r.tableWritten = true;
    }

    /**
     * Counters, the request in progress with where its calls are, the posted requests and the ring. The header and
     * indirect table the device reads are in guest memory, which is not saved: restore writes them again.
     */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(submitted, completed);
        out.put(nextId);
        out.put(cur != null);
        if (cur != null) {
            save(out, cur);
            out.put(cur.phase.ordinal(), cur.step);
            out.put(cur.failedAt);
        }
        out.put(posted.size());
        for (Req r : posted) save(out, r);
        ring.save(out);
    }

    private static void save(tcesim.state.StateWriter out, Req r) {
        out.put(((long) r.id << 2) | (r.type << 1) | (r.tableWritten ? 1 : 0), r.sector);
        for (int i = 0; i < BUFFERS; i++) out.put(r.pfn[i], r.dma[i]);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        submitted = in.next();
        completed = in.next();
        nextId = in.nextInt();
        cur = null;
        if (in.nextBool()) {
            cur = restoreReq(in);
            cur.phase = Phase.values()[in.nextInt()];
            cur.step = in.nextInt();
            cur.failedAt = in.nextInt();
        }
        posted.clear();
        for (int n = in.nextInt(); n > 0; n--) posted.add(restoreReq(in));
        ring.restore(in);
    }

    private Req restoreReq(tcesim.state.StateReader in) {
        long h = in.next();
        Req r = new Req((int) (h >>> 2), (int) ((h >>> 1) & 1), in.next());
        for (int i = 0; i < BUFFERS; i++) {
            r.pfn[i] = in.next();
            r.dma[i] = in.next();
        }
        writeHeader(r);
        if ((h & 1) != 0) writeTable(r);
        return r;
    }
}
