package tcesim.vhost;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Models {@code struct vhost_dev} with its virtqueues (drivers/vhost/vhost.c, as used by
 * vhost-net in drivers/vhost/net.c), as far as the device IOTLB goes: feature negotiation that
 * creates the IOTLB, address translation by a virtqueue worker, the MISS messages queued for
 * userspace, and the UPDATE / INVALIDATE messages userspace writes back on the vhost fd.
 *
 * <p><b>Locking / atomicity.</b> In the kernel, vhost_process_iotlb_msg() takes the device mutex
 * and then every virtqueue mutex (vhost_dev_lock_vqs) around the whole UPDATE or INVALIDATE, and
 * every ring access of a virtqueue worker (translate + copy + used-ring update) runs under that
 * virtqueue's mutex. So an UPDATE/INVALIDATE is atomic with respect to every translation of
 * every virtqueue: once write() returns, no translation can see the old contents. This model
 * represents that as {@link #write} / {@link #writeMsg} being one atomic step, and
 * {@link #translate} being one atomic step; the engine may interleave them only at call
 * boundaries. (Each UPDATE/INVALIDATE also resets every virtqueue's metadata cache,
 * vhost_vq_meta_reset, so that cache never outlives an entry; it is therefore not modelled.)
 *
 * <p><b>Message lists</b> (names as in the kernel, vhost.c):
 * <ul>
 * <li>{@code read_list}: messages queued for userspace, not yet read. vhost_iotlb_miss() appends
 *     a MISS here; vhost_chr_read_iter() takes the first one; poll() reports EPOLLIN while it is
 *     non-empty.</li>
 * <li>{@code pending_list}: MISS messages userspace has read, awaiting an UPDATE.
 *     vhost_chr_read_iter() moves a MISS here after copying it out.</li>
 * </ul>
 * vhost_iotlb_notify_vq(), called after a successful UPDATE, walks only {@code pending_list}: for
 * each MISS with {@code upd.iova <= miss.iova <= upd.iova + upd.size - 1} it queues the
 * virtqueue's poll work (a re-kick) and frees the message. A MISS still on {@code read_list} is
 * not looked at, so an UPDATE that arrives before userspace read the MISS re-kicks nothing.
 * Neither list is cleared by SET_FEATURES; only vhost_dev_cleanup() (vhost_clear_msg) empties
 * them ({@link #cleanup}).
 *
 * <p><b>Errors of write()</b> (vhost_chr_write_iter): a short frame or unknown header type gives
 * -EINVAL; UPDATE with size 0 gives -EINVAL (upstream e2ae38cf3d91, 2022); INVALIDATE with size 0
 * gave -EINVAL from that fix until upstream "vhost: Allow invalidation of all IOTLB entries"
 * (Eric Auger, 2023, Message-Id 20230927140544.205088-1-eric.auger@redhat.com), after which
 * size 0 means last = iova - 1, i.e. everything when iova = 0. Every failure inside
 * vhost_process_iotlb_msg() (no IOTLB, uaddr + size overflow, last < start, an unknown type,
 * MISS / ACCESS_FAIL / BATCH_BEGIN / BATCH_END written by userspace) is returned to userspace as
 * -EFAULT, because vhost_chr_write_iter() maps any non-zero result to -EFAULT. Success returns
 * sizeof(struct vhost_msg) = 72. See {@link Config} for the kernel-era switches.
 *
 * <p>Not modelled: the guest-physical memory table (dev->umem) used when there is no IOTLB
 * ({@link #translate} answers -EFAULT then), access_ok() limits on uaddr, dirty logging,
 * TX zero-copy.
 */
public final class VhostDevice implements tcesim.state.Snapshot {

    /** VIRTIO_F_ACCESS_PLATFORM feature bit (include/uapi/linux/virtio_config.h: 33). */
    public static final int VIRTIO_F_ACCESS_PLATFORM = 33;
    /** VHOST_BACKEND_F_IOTLB_MSG_V2: a bit <em>number</em> (vhost_types.h: 0x1), used as 1ULL << 1. */
    public static final int VHOST_BACKEND_F_IOTLB_MSG_V2 = 0x1;
    /** VHOST_BACKEND_F_IOTLB_BATCH bit number (vhost_types.h: 0x2); vhost-net does not offer it. */
    public static final int VHOST_BACKEND_F_IOTLB_BATCH = 0x2;
    /** VHOST_BACKEND_F_IOTLB_ASID bit number (vhost_types.h: 0x3); vhost-net does not offer it. */
    public static final int VHOST_BACKEND_F_IOTLB_ASID = 0x3;
    /** drivers/vhost/net.c: VHOST_NET_BACKEND_FEATURES = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2). */
    public static final long VHOST_NET_BACKEND_FEATURES = 1L << VHOST_BACKEND_F_IOTLB_MSG_V2;
    /** UIO_MAXIOV, the iovec array size vhost_get_vq_desc() translates descriptors into. */
    public static final int UIO_MAXIOV = 1024;

    /**
     * Kernel-era switches.
     *
     * @param maxIotlbEntries          vhost.c's max_iotlb_entries module parameter (default 2048)
     * @param rejectZeroSizeUpdate     UPDATE with size 0 is -EINVAL (since e2ae38cf3d91, v5.17, 2022)
     * @param rejectZeroSizeInvalidate INVALIDATE with size 0 is -EINVAL (only between e2ae38cf3d91
     *                                 and the 2023 "Allow invalidation of all IOTLB entries" fix)
     * @param splitFullRange           [0, 2^64-1] is stored as two entries (since e2ae38cf3d91)
     */
    public record Config(int maxIotlbEntries, boolean rejectZeroSizeUpdate,
                         boolean rejectZeroSizeInvalidate, boolean splitFullRange) {
        public Config {
            if (maxIotlbEntries < 0) throw new IllegalArgumentException("maxIotlbEntries < 0");
        }

        /** Current kernels (after the 2023 fix). */
        public static Config current(int maxIotlbEntries) {
            return new Config(maxIotlbEntries, true, false, true);
        }

        /** Kernels between e2ae38cf3d91 (2022) and the 2023 fix: size 0 refused for both. */
        public static Config v2022(int maxIotlbEntries) {
            return new Config(maxIotlbEntries, true, true, true);
        }

        /**
         * Kernels with drivers/vhost/iotlb.c but before e2ae38cf3d91 (v5.8 .. v5.16): size 0
         * accepted, so UPDATE(iova 0, size 0) stores [0, 2^64-1] as one entry whose size overflows.
         */
        public static Config pre2022(int maxIotlbEntries) {
            return new Config(maxIotlbEntries, false, false, false);
        }
    }

    /** Receives a virtqueue re-kick (vhost_poll_queue on the virtqueue's poll work). */
    @FunctionalInterface
    public interface VirtqueueKick {
        void kick(int vq);
    }

    /** A message on read_list or pending_list: owning virtqueue, frame version, contents. */
    public record QueuedMsg(int vq, int version, IotlbMsg msg) {}

    /** One translated piece of an access: host virtual address and length. */
    public record Segment(long hva, long len) {}

    /** Result of {@link #translate(int, long, long, int)}. */
    public sealed interface TranslateResult
            permits TranslateResult.Mapped, TranslateResult.Miss, TranslateResult.Failed {
        /** Every byte translated. */
        record Mapped(List<Segment> segments) implements TranslateResult {}

        /** -EAGAIN: a MISS for {@code iova} (first untranslated byte) was queued; the vq is stalled. */
        record Miss(long iova, int access) implements TranslateResult {}

        /** Any other failure; {@code errno} is negative (-EPERM, -ENOBUFS, -EFAULT). */
        record Failed(int errno) implements TranslateResult {}
    }

    /** Reusable output buffer for the allocation-free {@link #translate(int, long, long, int, Segments, int)}. */
    public static final class Segments {
        private long[] hva = new long[8];
        private long[] len = new long[8];
        private int count;

        public int count() {
            return count;
        }

        public long hva(int i) {
            return hva[i];
        }

        public long len(int i) {
            return len[i];
        }

        void clear() {
            count = 0;
        }

        void add(long h, long l) {
            if (count == hva.length) {
                hva = Arrays.copyOf(hva, count * 2);
                len = Arrays.copyOf(len, count * 2);
            }
            hva[count] = h;
            len[count] = l;
            count++;
        }

        public List<Segment> toList() {
            List<Segment> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) out.add(new Segment(hva[i], len[i]));
            return out;
        }
    }

    private final int nvqs;
    private final Config config;

    private VhostIotlb iotlb; // dev->iotlb; null until SET_FEATURES with ACCESS_PLATFORM
    private long features;
    private long backendFeatures;

    private final ArrayDeque<QueuedMsg> readList;
    /**
     * pending_list: the MISSes userspace has read, waiting for a covering UPDATE, in the list's order (a doubly
     * linked list, as the kernel's {@code struct vhost_msg_node}s on {@code dev->pending_list}). MISSes nobody answers
     * stay here for good, as in the kernel (until vhost_dev_cleanup), so the list can grow long: an index by IOVA keeps
     * an UPDATE's scan to the entries it covers.
     */
    private Pending pendingHead, pendingTail;
    private int pendingCount;
    /**
     * The index: the distinct IOVAs on pending_list, ascending unsigned (stored XOR {@link Long#MIN_VALUE}, so that
     * signed order is unsigned order), each with its MISSes in list order (a chain through {@link Pending#nextAtIova},
     * from its first to its last: unanswered MISSes pile up at one IOVA).
     */
    private long[] pendingIovaB = new long[16];
    private Pending[] pendingAtIova = new Pending[16];
    private Pending[] pendingLastAtIova = new Pending[16];
    private int pendingIovas;

    /** A read MISS on pending_list. */
    private static final class Pending {
        final QueuedMsg msg;
        Pending prev, next;
        /** The next MISS for the same IOVA, in list order. */
        Pending nextAtIova;

        Pending(QueuedMsg msg) {
            this.msg = msg;
        }
    }

    private final boolean[] stalled;
    private final boolean[] kickQueued;
    private VirtqueueKick kickListener;

    private long translations;
    private long missesQueued;
    private long permFailures;
    private long rekicks;
    private long updates;
    private long invalidates;

    private final Segments scratch = new Segments();

    /** A device with current-kernel behaviour. */
    public VhostDevice(int nvqs, int maxIotlbEntries) {
        this(nvqs, Config.current(maxIotlbEntries));
    }

    public VhostDevice(int nvqs, Config config) {
        if (nvqs <= 0) throw new IllegalArgumentException("nvqs must be > 0: " + nvqs);
        this.nvqs = nvqs;
        this.config = config;
        this.readList = new ArrayDeque<>();
        this.stalled = new boolean[nvqs];
        this.kickQueued = new boolean[nvqs];
    }

    // ------------------------------------------------------------------ ioctls

    /**
     * VHOST_SET_FEATURES as vhost_net_set_features() (drivers/vhost/net.c) handles it: when
     * VIRTIO_F_ACCESS_PLATFORM is set, vhost_init_device_iotlb() installs a fresh, empty IOTLB
     * (every such call, even on a running device). When the bit is clear, the IOTLB is left as it
     * is: an IOTLB created earlier stays in use (noted as a probable bug by M. Tsirkin on the
     * virtualization list, thread on vhost_init_device_iotlb's unused "enabled" argument).
     * read_list / pending_list are not touched. Returns 0.
     */
    public int setFeatures(long features) {
        if ((features & (1L << VIRTIO_F_ACCESS_PLATFORM)) != 0) {
            iotlb = new VhostIotlb(config.maxIotlbEntries(), config.splitFullRange());
        }
        this.features = features;
        return 0;
    }

    /**
     * VHOST_SET_BACKEND_FEATURES as vhost-net handles it: anything outside
     * VHOST_NET_BACKEND_FEATURES (only IOTLB_MSG_V2) is -EOPNOTSUPP; otherwise every virtqueue's
     * acked_backend_features is set. MSG_V2 makes the kernel frame its MISS messages as
     * vhost_msg_v2 (vhost_iotlb_miss). Returns 0 or -EOPNOTSUPP.
     */
    public int setBackendFeatures(long backendFeatures) {
        if ((backendFeatures & ~VHOST_NET_BACKEND_FEATURES) != 0) return -Errno.EOPNOTSUPP;
        this.backendFeatures = backendFeatures;
        return 0;
    }

    /**
     * vhost_dev_cleanup() (release or VHOST_RESET_OWNER): frees the IOTLB, empties read_list and
     * pending_list (vhost_clear_msg), resets the virtqueues' acked features.
     */
    public void cleanup() {
        iotlb = null;
        readList.clear();
        clearPending();
        features = 0;
        backendFeatures = 0;
        Arrays.fill(stalled, false);
        Arrays.fill(kickQueued, false);
    }

    public void setKickListener(VirtqueueKick listener) {
        this.kickListener = listener;
    }

    // ------------------------------------------------------------------ translation (worker side)

    /**
     * translate_desc() (vhost.c) for one guest buffer: translates [iova, iova + len) for
     * {@code access} (VHOST_ACCESS_RO for a device read, WO for a device write).
     *
     * <p>Walks the IOTLB from {@code iova}: at each address the entry {@link VhostIotlb#find}
     * returns must exist and start at or before it, else a MISS (iova = that first untranslated
     * byte, perm = access, size 0) is queued on read_list, the virtqueue is marked stalled and
     * -EAGAIN returned (segments already produced are discarded, as the descriptor is not
     * consumed); the entry must share a bit with {@code access} ({@code map->perm & access}),
     * else -EPERM with no MISS. Each entry yields one segment (hva = uaddr + offset), up to
     * {@code maxSegments} (-ENOBUFS beyond). Without an IOTLB the real code would translate
     * through the memory table, which is not modelled: -EFAULT.
     *
     * @return the number of segments written to {@code out}, or a negative errno
     */
    public int translate(int vq, long iova, long len, int access, Segments out, int maxSegments) {
        checkVq(vq);
        out.clear();
        translations++;
        if (iotlb == null) return -Errno.EFAULT;
        long addr = iova;
        long remaining = len; // unsigned
        while (remaining != 0) {
            if (out.count >= maxSegments) return -Errno.ENOBUFS;
            int h = iotlb.find(addr);
            if (h < 0) {
                queueMiss(vq, addr, access);
                return -Errno.EAGAIN;
            }
            if ((iotlb.entryPerm(h) & access) == 0) {
                permFailures++;
                return -Errno.EPERM;
            }
            long start = iotlb.entryStart(h);
            // map->size - addr + map->start == last - addr + 1 (mod 2^64); 0 only for an
            // unsplit [0, 2^64-1] entry read from address 0 (pre-e2ae38cf3d91 kernels): the kernel
            // then emits zero-length iovecs without progress until the iovec array is full.
            long avail = iotlb.entryLast(h) - addr + 1;
            long hva = iotlb.entryUaddr(h) + (addr - start);
            if (avail == 0) {
                out.add(hva, 0);
                continue;
            }
            if (Long.compareUnsigned(avail, remaining) >= 0) {
                out.add(hva, remaining);
                remaining = 0;
            } else {
                out.add(hva, avail);
                remaining -= avail;
                addr += avail;
            }
        }
        stalled[vq] = false;
        return out.count;
    }

    /** {@link #translate(int, long, long, int, Segments, int)} with UIO_MAXIOV segments, as a value. */
    public TranslateResult translate(int vq, long iova, long len, int access) {
        int r = translate(vq, iova, len, access, scratch, UIO_MAXIOV);
        if (r >= 0) return new TranslateResult.Mapped(Collections.unmodifiableList(scratch.toList()));
        if (r == -Errno.EAGAIN) {
            QueuedMsg last = readList.peekLast();
            return new TranslateResult.Miss(last.msg().iova(), access);
        }
        return new TranslateResult.Failed(r);
    }

    /**
     * iotlb_access_ok() (vhost.c), used by vq_meta_prefetch() for the ring addresses (desc and
     * avail rings with RO, used ring with WO) before a worker processes a virtqueue. Differences
     * from translate_desc: no iovec bound, and a permission mismatch just returns false (no MISS,
     * no -EPERM reported: the worker silently stops). An unsplit [0, 2^64-1] entry read from
     * address 0 made this loop spin forever before e2ae38cf3d91 (the syzbot hang).
     *
     * @return 0 if the whole range is mapped; -EAGAIN if a MISS was queued (vq stalled);
     *         -EPERM for the silent permission failure; -{@link Errno#EHUNG_MODEL} for the hang
     */
    public int accessOk(int vq, long addr, long len, int access) {
        checkVq(vq);
        if (iotlb == null) return -Errno.EFAULT;
        long remaining = len;
        while (remaining != 0) {
            int h = iotlb.find(addr);
            if (h < 0) {
                queueMiss(vq, addr, access);
                return -Errno.EAGAIN;
            }
            if ((iotlb.entryPerm(h) & access) == 0) {
                permFailures++;
                return -Errno.EPERM;
            }
            long avail = iotlb.entryLast(h) - addr + 1;
            if (avail == 0) return -Errno.EHUNG_MODEL;
            if (Long.compareUnsigned(avail, remaining) >= 0) break;
            remaining -= avail;
            addr += avail;
        }
        stalled[vq] = false;
        return 0;
    }

    private void queueMiss(int vq, long addr, int access) {
        // vhost_iotlb_miss(): node framed as v2 iff the vq acked VHOST_BACKEND_F_IOTLB_MSG_V2;
        // iova and perm set, everything else zero; appended to read_list. It looks for no MISS already
        // queued or pending for the same iova (drivers/vhost/vhost.c: vhost_new_msg + vhost_enqueue_msg,
        // nothing else), so each retry of a stalled queue queues one more. handle_rx is retried by every packet
        // the tap receives (drivers/vhost/net.c polls the tap socket for EPOLLIN: vhost_poll_init(..., handle_rx_net,
        // EPOLLIN, dev)): the repeated MISSes of the cost reports are the kernel's, not the model's.
        int version = hasBackendFeature(VHOST_BACKEND_F_IOTLB_MSG_V2)
                ? VhostMsgCodec.VHOST_IOTLB_MSG_V2 : VhostMsgCodec.VHOST_IOTLB_MSG;
        readList.addLast(new QueuedMsg(vq, version, IotlbMsg.miss(addr, access & 0xFF)));
        stalled[vq] = true;
        missesQueued++;
    }

    // ------------------------------------------------------------------ the fd (userspace side)

    /**
     * A non-blocking read() of the vhost fd: the first message of read_list as a 72-byte frame,
     * or null when read_list is empty (the kernel returns -EAGAIN). A MISS moves to pending_list
     * (vhost_chr_read_iter).
     */
    public byte[] readFrame() {
        QueuedMsg n = dequeueForRead();
        if (n == null) return null;
        return VhostMsgCodec.encode(n.version(), 0, n.msg());
    }

    /**
     * read() into {@code dst}: 0 when {@code dst} is shorter than sizeof(struct vhost_msg)
     * (vhost_chr_read_iter returns 0 then, consuming nothing), -EAGAIN when nothing is queued,
     * else 72.
     */
    public long read(byte[] dst) {
        if (dst.length < VhostMsgCodec.FRAME_SIZE) return 0;
        QueuedMsg n = dequeueForRead();
        if (n == null) return -Errno.EAGAIN;
        VhostMsgCodec.encodeInto(dst, 0, n.version(), 0, n.msg());
        return VhostMsgCodec.FRAME_SIZE;
    }

    /** Like {@link #readFrame} without the byte encoding (for fast exploration). */
    public QueuedMsg readMsg() {
        return dequeueForRead();
    }

    private QueuedMsg dequeueForRead() {
        QueuedMsg n = readList.pollFirst();
        if (n != null && n.msg().type() == IotlbMsg.MISS) addPending(n);
        return n;
    }

    /** write() of a whole array on the vhost fd. */
    public long writeFrame(byte[] frame) {
        return write(frame, frame == null ? 0 : frame.length);
    }

    /**
     * write() of {@code len} bytes: decodes like vhost_chr_write_iter() and processes the message
     * atomically (see the class comment). Returns 72 or a negative errno.
     */
    public long write(byte[] buf, int len) {
        VhostMsgCodec.DecodeResult r = VhostMsgCodec.decode(buf, len,
                hasBackendFeature(VHOST_BACKEND_F_IOTLB_ASID));
        if (r instanceof VhostMsgCodec.DecodeResult.Err e) return e.errno();
        VhostMsgCodec.DecodeResult.Ok ok = (VhostMsgCodec.DecodeResult.Ok) r;
        return writeMsg(ok.msg());
    }

    /**
     * The part of write() after decoding, for callers that skip the bytes. Note that the kernel
     * accepts either frame version whatever the negotiated backend features (the header type is
     * only used to find the payload), so the version does not matter here.
     */
    public long writeMsg(IotlbMsg msg) {
        if (msg.size() == 0) {
            if (msg.type() == IotlbMsg.UPDATE && config.rejectZeroSizeUpdate()) return -Errno.EINVAL;
            if (msg.type() == IotlbMsg.INVALIDATE && config.rejectZeroSizeInvalidate()) return -Errno.EINVAL;
        }
        int ret = processIotlbMsg(msg);
        if (ret != 0) return -Errno.EFAULT; // vhost_chr_write_iter: "if (ret) { ret = -EFAULT; ...}"
        return VhostMsgCodec.FRAME_SIZE;
    }

    /**
     * vhost_process_iotlb_msg(): runs under dev->mutex and every vq->mutex (one atomic step here).
     * Returns the kernel's internal result (0, -EFAULT, -ENOMEM, -EINVAL) before write() maps it.
     */
    private int processIotlbMsg(IotlbMsg msg) {
        switch (msg.type()) {
            case IotlbMsg.UPDATE: {
                if (iotlb == null) return -Errno.EFAULT;
                if (uaddrOverflows(msg.uaddr(), msg.size())) return -Errno.EFAULT; // umem_access_ok
                // vhost_iotlb_add_range(iova, iova + size - 1): -EFAULT when last < start, which
                // vhost_process_iotlb_msg reports as -ENOMEM.
                if (iotlb.insert(msg.iova(), msg.last(), msg.uaddr(), msg.perm()) != 0) return -Errno.ENOMEM;
                updates++;
                notifyVqs(msg);
                return 0;
            }
            case IotlbMsg.INVALIDATE: {
                if (iotlb == null) return -Errno.EFAULT;
                iotlb.delete(msg.iova(), msg.last());
                invalidates++;
                return 0;
            }
            default:
                // MISS, ACCESS_FAIL, BATCH_BEGIN/END (vhost-vdpa only) and unknown types.
                return -Errno.EINVAL;
        }
    }

    /** vhost_overflow(): on 64-bit, {@code uaddr > ULONG_MAX - size}. */
    static boolean uaddrOverflows(long uaddr, long size) {
        return Long.compareUnsigned(uaddr, -1L - size) > 0;
    }

    private void addPending(QueuedMsg n) {
        Pending p = new Pending(n);
        p.prev = pendingTail;
        if (pendingTail == null) pendingHead = p;
        else pendingTail.next = p;
        pendingTail = p;
        pendingCount++;
        long key = n.msg().iova() ^ Long.MIN_VALUE;
        int i = Arrays.binarySearch(pendingIovaB, 0, pendingIovas, key);
        if (i >= 0) {
            pendingLastAtIova[i].nextAtIova = p;
            pendingLastAtIova[i] = p;
            return;
        }
        i = -i - 1;
        if (pendingIovas == pendingIovaB.length) {
            pendingIovaB = Arrays.copyOf(pendingIovaB, pendingIovas * 2);
            pendingAtIova = Arrays.copyOf(pendingAtIova, pendingIovas * 2);
            pendingLastAtIova = Arrays.copyOf(pendingLastAtIova, pendingIovas * 2);
        }
        System.arraycopy(pendingIovaB, i, pendingIovaB, i + 1, pendingIovas - i);
        System.arraycopy(pendingAtIova, i, pendingAtIova, i + 1, pendingIovas - i);
        System.arraycopy(pendingLastAtIova, i, pendingLastAtIova, i + 1, pendingIovas - i);
        pendingIovaB[i] = key;
        pendingAtIova[i] = p;
        pendingLastAtIova[i] = p;
        pendingIovas++;
    }

    private void unlinkPending(Pending p) {
        if (p.prev == null) pendingHead = p.next;
        else p.prev.next = p.next;
        if (p.next == null) pendingTail = p.prev;
        else p.next.prev = p.prev;
        p.prev = p.next = null;
        pendingCount--;
    }

    private void clearPending() {
        pendingHead = pendingTail = null;
        pendingCount = 0;
        Arrays.fill(pendingAtIova, 0, pendingIovas, null);
        Arrays.fill(pendingLastAtIova, 0, pendingIovas, null);
        pendingIovas = 0;
    }

    /** vhost_iotlb_notify_vq(): re-kick the owners of read MISSes that the UPDATE covers. */
    private void notifyVqs(IotlbMsg upd) {
        long first = upd.iova();
        long last = upd.last(); // msg->iova + msg->size - 1, wrapping like the kernel
        if (Long.compareUnsigned(last, first) < 0) return; // first + size - 1 wrapped: no MISS satisfies both bounds
        // The covered IOVAs, [from, to) of the index: ascending IOVA, each in list order.
        int from = Arrays.binarySearch(pendingIovaB, 0, pendingIovas, first ^ Long.MIN_VALUE);
        if (from < 0) from = -from - 1;
        long lastB = last ^ Long.MIN_VALUE;
        int to = from;
        while (to < pendingIovas && pendingIovaB[to] <= lastB) to++;
        if (to == from) return;
        for (int i = from; i < to; i++) {
            for (Pending n = pendingAtIova[i]; n != null; n = n.nextAtIova) {
                queueKick(n.msg.vq());
                unlinkPending(n);
            }
        }
        System.arraycopy(pendingIovaB, to, pendingIovaB, from, pendingIovas - to);
        System.arraycopy(pendingAtIova, to, pendingAtIova, from, pendingIovas - to);
        System.arraycopy(pendingLastAtIova, to, pendingLastAtIova, from, pendingIovas - to);
        Arrays.fill(pendingAtIova, pendingIovas - (to - from), pendingIovas, null);
        Arrays.fill(pendingLastAtIova, pendingIovas - (to - from), pendingIovas, null);
        pendingIovas -= to - from;
    }

    /** A kick from outside the IOTLB (the tap's or the guest's eventfd): a vq stalled on a miss is handled again and will translate anew. */
    public void pollKick(int vq) {
        checkVq(vq);
        stalled[vq] = false;
    }

    /** vhost_poll_queue(): queues the vq's work unless already queued (VHOST_WORK_QUEUED bit). */
    private void queueKick(int vq) {
        rekicks++;
        stalled[vq] = false;
        if (!kickQueued[vq]) {
            kickQueued[vq] = true;
            if (kickListener != null) kickListener.kick(vq);
        }
    }

    // ------------------------------------------------------------------ observation

    /**
     * The virtqueues re-kicked since the last call, ascending, and forgets them (models the
     * worker taking the queued work).
     */
    public int[] drainRekicked() {
        int c = 0;
        for (boolean b : kickQueued) if (b) c++;
        int[] out = new int[c];
        int j = 0;
        for (int i = 0; i < nvqs; i++) {
            if (kickQueued[i]) {
                out[j++] = i;
                kickQueued[i] = false;
            }
        }
        return out;
    }

    /** Whether vq's last translation missed and no UPDATE has re-kicked it since. */
    public boolean isStalled(int vq) {
        checkVq(vq);
        return stalled[vq];
    }

    /** The stalled virtqueues, ascending. */
    public int[] stalledVqs() {
        int c = 0;
        for (boolean b : stalled) if (b) c++;
        int[] out = new int[c];
        int j = 0;
        for (int i = 0; i < nvqs; i++) if (stalled[i]) out[j++] = i;
        return out;
    }

    /** Messages queued for userspace, not yet read (read_list), oldest first. */
    public List<QueuedMsg> readList() {
        return List.copyOf(readList);
    }

    /** MISS messages read by userspace, awaiting an UPDATE (pending_list), oldest first. */
    public List<QueuedMsg> pendingList() {
        List<QueuedMsg> out = new ArrayList<>(pendingCount);
        for (Pending n = pendingHead; n != null; n = n.next) out.add(n.msg);
        return Collections.unmodifiableList(out);
    }

    /** poll(): EPOLLIN iff read_list is non-empty (vhost_chr_poll). */
    public boolean readable() {
        return !readList.isEmpty();
    }

    /** The current device IOTLB (dev->iotlb), or null when ACCESS_PLATFORM was never set. */
    public VhostIotlb iotlb() {
        return iotlb;
    }

    public int nvqs() {
        return nvqs;
    }

    public Config config() {
        return config;
    }

    public long features() {
        return features;
    }

    public long backendFeatures() {
        return backendFeatures;
    }

    public boolean hasBackendFeature(int bit) {
        return (backendFeatures & (1L << bit)) != 0;
    }

    public long translations() {
        return translations;
    }

    public long missesQueued() {
        return missesQueued;
    }

    public long permFailures() {
        return permFailures;
    }

    public long rekicks() {
        return rekicks;
    }

    public long updates() {
        return updates;
    }

    public long invalidates() {
        return invalidates;
    }

    /**
     * The behavioural state: features, IOTLB contents, both message lists, stalled and queued-kick flags.
     * Counters are not saved.
     */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(features, backendFeatures);
        out.put(iotlb != null);
        if (iotlb != null) iotlb.save(out);
        out.put(readList.size());
        for (QueuedMsg n : readList) saveMsg(out, n);
        out.put(pendingCount);
        for (Pending n = pendingHead; n != null; n = n.next) saveMsg(out, n.msg);
        for (int i = 0; i < nvqs; i++) out.put((stalled[i] ? 1 : 0) | (kickQueued[i] ? 2 : 0));
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        features = in.next();
        backendFeatures = in.next();
        if (in.nextBool()) {
            if (iotlb == null) iotlb = new VhostIotlb(config.maxIotlbEntries(), config.splitFullRange());
            iotlb.restore(in);
        } else {
            iotlb = null;
        }
        readList.clear();
        for (int n = in.nextInt(); n > 0; n--) readList.addLast(restoreMsg(in));
        clearPending();
        for (int n = in.nextInt(); n > 0; n--) addPending(restoreMsg(in));
        for (int i = 0; i < nvqs; i++) {
            int f = in.nextInt();
            stalled[i] = (f & 1) != 0;
            kickQueued[i] = (f & 2) != 0;
        }
    }

    private static void saveMsg(tcesim.state.StateWriter out, QueuedMsg n) {
        IotlbMsg m = n.msg();
        out.put(n.vq() | ((long) n.version() << 16) | ((long) m.perm() << 32) | ((long) m.type() << 48));
        out.put(m.iova(), m.size());
        out.put(m.uaddr());
    }

    private static QueuedMsg restoreMsg(tcesim.state.StateReader in) {
        long h = in.next();
        long iova = in.next();
        long size = in.next();
        long uaddr = in.next();
        return new QueuedMsg((int) (h & 0xffff), (int) ((h >>> 16) & 0xffff),
                new IotlbMsg(iova, size, uaddr, (int) ((h >>> 32) & 0xffff), (int) (h >>> 48)));
    }

    /** A deep copy (the kick listener is not copied). */
    public VhostDevice copy() {
        VhostDevice c = new VhostDevice(nvqs, config);
        c.iotlb = iotlb == null ? null : iotlb.copy();
        c.features = features;
        c.backendFeatures = backendFeatures;
        c.readList.addAll(readList);
        for (Pending n = pendingHead; n != null; n = n.next) c.addPending(n.msg);
        System.arraycopy(stalled, 0, c.stalled, 0, nvqs);
        System.arraycopy(kickQueued, 0, c.kickQueued, 0, nvqs);
        c.translations = translations;
        c.missesQueued = missesQueued;
        c.permFailures = permFailures;
        c.rekicks = rekicks;
        c.updates = updates;
        c.invalidates = invalidates;
        return c;
    }

    private void checkVq(int vq) {
        if (vq < 0 || vq >= nvqs) throw new IndexOutOfBoundsException("vq " + vq + " of " + nvqs);
    }
}
