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
 * virtqueue's mutex, which vhost-net's handle_rx/handle_tx hold from entry to exit, across every
 * packet of a run. So an UPDATE/INVALIDATE is atomic with respect to every translation of
 * every virtqueue, and waits while a handler runs: once write() returns, no translation can see
 * the old contents. This model represents that as {@link #write} / {@link #writeMsg} being one
 * atomic step that its writers take only when {@link #acceptsIotlbMsg()} (no handler holds a
 * virtqueue mutex: {@link #lockVq}), and {@link #translate} being one atomic step. (Each
 * UPDATE/INVALIDATE also resets every virtqueue's metadata cache, vhost_vq_meta_reset, so that
 * cache never outlives an entry; it is therefore not modelled.)
 *
 * <p><b>The worker.</b> One kernel thread per device runs the queued works in order
 * ({@code vhost_worker}); {@link #queueWork} / {@link #takeWork} model its list and the
 * VHOST_WORK_QUEUED bit that keeps a work from being queued twice.
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
 * -EINVAL; UPDATE with size 0 gives -EFAULT on 2019 kernels (the insert refuses it: "vhost: reject
 * zero size iova range", v5.1), is accepted from v5.7 to v5.16 (0bbe30668d89 lost the check), and gives
 * -EINVAL again from upstream e2ae38cf3d91 (v5.17, 2022); INVALIDATE with size 0
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
public final class VhostDevice implements VhostFd, tcesim.state.Composite {

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
     * Kernel-era switches, one value per era of drivers/vhost/vhost.c and iotlb.c.
     *
     * @param maxIotlbEntries          vhost.c's max_iotlb_entries module parameter (default 2048)
     * @param refuseZeroSizeInsert     an UPDATE of size 0 is refused when it is inserted: vhost_new_umem_range's
     *                                 {@code if (!size) return -EFAULT;} from "vhost: reject zero size iova range"
     *                                 (v5.1, 2019), reported by write() as -EFAULT. The check went with
     *                                 0bbe30668d89 "vhost: factor out IOTLB" (posted 26 Mar 2020 with the vDPA
     *                                 series, merged for v5.7, not v5.8 as first noted), whose vhost_iotlb_add_range
     *                                 has no such test
     * @param rejectZeroSizeUpdate     UPDATE with size 0 is -EINVAL before it is processed (e2ae38cf3d91, v5.17)
     * @param rejectZeroSizeInvalidate INVALIDATE with size 0 is -EINVAL (only between e2ae38cf3d91
     *                                 and the 2023 "Allow invalidation of all IOTLB entries" fix)
     * @param splitFullRange           [0, 2^64-1] is stored as two entries (since e2ae38cf3d91)
     * @param refuseWrappedRange       an UPDATE whose {@code iova + size - 1} wraps below iova is refused (-EFAULT from
     *                                 vhost_iotlb_add_range, 0bbe30668d89, v5.7); v5.1 to v5.6 stored it
     * @param overflowAllowsEnd        {@code vhost_overflow} is {@code uaddr > ULONG_MAX - size + 1} (f7ad318ea0ad
     *                                 "vhost: Fix the calculation in vhost_overflow()", v5.14), so {@code uaddr + size}
     *                                 may be exactly 2^64; before it, {@code uaddr > ULONG_MAX - size}
     */
    public record Config(int maxIotlbEntries, boolean refuseZeroSizeInsert, boolean rejectZeroSizeUpdate,
                         boolean rejectZeroSizeInvalidate, boolean splitFullRange, boolean refuseWrappedRange, boolean overflowAllowsEnd) {
        public Config {
            if (maxIotlbEntries < 0) throw new IllegalArgumentException("maxIotlbEntries < 0");
        }

        /** Current kernels (after the 2023 fix). */
        public static Config current(int maxIotlbEntries) {
            return new Config(maxIotlbEntries, false, true, false, true, true, true);
        }

        /** Kernels between e2ae38cf3d91 (v5.17, 2022) and the 2023 fix: size 0 refused for both. */
        public static Config v2022(int maxIotlbEntries) {
            return new Config(maxIotlbEntries, false, true, true, true, true, true);
        }

        /**
         * Kernels with drivers/vhost/iotlb.c but before e2ae38cf3d91 (v5.7 .. v5.16): size 0 accepted, so
         * UPDATE(iova 0, size 0) stores [0, 2^64-1] as one entry whose size overflows (with any other iova the end
         * falls below the start and the insert fails: -EFAULT). Its vhost_overflow is the one before v5.14.
         */
        public static Config pre2022(int maxIotlbEntries) {
            return new Config(maxIotlbEntries, false, false, false, false, true, false);
        }

        /** Late-2019 kernels (v5.1 .. v5.6, the seed's v5.4/v5.5): the vhost_umem IOTLB, which refuses an empty range. */
        public static Config v2019(int maxIotlbEntries) {
            return new Config(maxIotlbEntries, true, false, false, false, false, false);
        }
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

        /** -EAGAIN: a MISS for {@code iova} (first untranslated byte) was queued. */
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

    /**
     * Changes to vhost's IOTLB message handling that no kernel has, proposed as fixes (each a patch to
     * drivers/vhost/vhost.c; {@link #NONE} is every kernel).
     *
     * @param dropLateUpdate an UPDATE that answers a MISS userspace read before an overlapping INVALIDATE arrived is
     *     dropped, and that MISS sent again: the retry pattern KVM uses against its MMU notifiers
     *     ({@code mmu_invalidate_seq} taken before the translation, {@code mmu_invalidate_retry} after). The patch:
     *     {@code struct vhost_msg_node} gains a {@code bool invalidated}; in {@code vhost_process_iotlb_msg}, an
     *     INVALIDATE, besides {@code vhost_iotlb_del_range}, walks {@code dev->pending_list} (under
     *     {@code dev->iotlb_lock}) and marks every node whose {@code msg.iova} lies in the invalidated range; an UPDATE
     *     first walks {@code pending_list} for the last node it covers (the MISS userspace read last: QEMU answers one
     *     MISS at a time, in the order it reads them; older covered nodes are MISSes it could not translate) and, if
     *     that one is marked, moves it back to {@code read_list} unmarked, wakes {@code dev->wait} (EPOLLIN: the MISS is
     *     sent again) and returns 0 without inserting. Userspace reads and translates a MISS after vhost
     *     queued it, so a MISS still on read_list when the INVALIDATE comes is translated after the table changed: only
     *     read MISSes (pending_list) can have a stale answer.
     * @param singleMiss no MISS is queued while the same one (virtqueue, IOVA, access) is on read_list or pending_list.
     *     The patch: {@code vhost_iotlb_miss} walks both lists (under {@code dev->iotlb_lock}) for a node of the same
     *     {@code vq}, {@code iova} and {@code perm} and returns 0 without queuing when it finds one; the UPDATE
     *     answering that node re-kicks the virtqueue as before.
     */
    public record Fixes(boolean dropLateUpdate, boolean singleMiss) implements java.io.Serializable {
        public static final Fixes NONE = new Fixes(false, false);
    }

    private final int nvqs;
    private final Config config;
    private final Fixes fixes;

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
        /** {@link Fixes#dropLateUpdate}: an overlapping INVALIDATE came after userspace read this MISS. */
        boolean invalidated;

        Pending(QueuedMsg msg) {
            this.msg = msg;
        }
    }

    /**
     * The worker's work list ({@code dev->work_list}, vhost.c): the queued works in the order the worker will run them
     * ({@code vhost_worker} takes the whole list and reverses it, so first queued, first run), and each work's
     * VHOST_WORK_QUEUED bit. Work {@code vq} is virtqueue {@code vq}'s {@code vq->poll} (its kick handler, also queued by
     * {@code vhost_iotlb_notify_vq} and {@code vhost_exceeds_weight}); the device's user registers others
     * ({@link #registerWorks}): vhost-net's socket polls.
     */
    private int[] workList = new int[4];
    private int works;
    private boolean[] workQueued;
    /** Whether the worker holds a virtqueue mutex (a handler is running): IOTLB messages wait for it. */
    private boolean vqLocked;
    private final java.util.function.IntConsumer onQueued;

    private long translations;
    private long missesQueued;
    private long lastMissIova;
    private long permFailures;
    private long rekicks;
    private long updates;
    private long invalidates;
    private long lateUpdatesDropped;
    /** The address of the last translation that missed (not state: read right after the translation). */
    private long missAddr;

    private final Segments scratch = new Segments();

    /** A device with current-kernel behaviour. */
    public VhostDevice(int nvqs, int maxIotlbEntries) {
        this(nvqs, Config.current(maxIotlbEntries));
    }

    public VhostDevice(int nvqs, Config config) {
        this(nvqs, config, w -> { });
    }

    /** @param queued told of each work queued (not one already queued), for whoever times the worker */
    public VhostDevice(int nvqs, Config config, java.util.function.IntConsumer queued) {
        this(nvqs, config, Fixes.NONE, queued);
    }

    /** @param fixes the message-handling fixes in this kernel ({@link Fixes#NONE}: as every kernel is) */
    public VhostDevice(int nvqs, Config config, Fixes fixes, java.util.function.IntConsumer queued) {
        if (nvqs <= 0) throw new IllegalArgumentException("nvqs must be > 0: " + nvqs);
        this.nvqs = nvqs;
        this.config = config;
        this.fixes = fixes;
        this.onQueued = queued;
        this.readList = new ArrayDeque<>();
        this.workQueued = new boolean[nvqs];
    }

    /** Makes room for {@code n} more works after the virtqueues' own, numbered from the returned id on. */
    public int registerWorks(int n) {
        int first = workQueued.length;
        workQueued = Arrays.copyOf(workQueued, first + n);
        return first;
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
            iotlb = new VhostIotlb(config.maxIotlbEntries(), config.splitFullRange(), config.refuseWrappedRange());
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
        Arrays.fill(workQueued, false);
        works = 0;
        vqLocked = false;
    }

    // ------------------------------------------------------------------ the worker

    /**
     * {@code vhost_work_queue} (through {@code vhost_poll_queue}): appends the work unless its VHOST_WORK_QUEUED bit is
     * set already (a queued work is not queued twice).
     */
    public void queueWork(int work) {
        if (workQueued[work]) return;
        workQueued[work] = true;
        if (works == workList.length) workList = Arrays.copyOf(workList, works * 2);
        workList[works++] = work;
        onQueued.accept(work);
    }

    public boolean hasWork() { return works > 0; }

    /** The work the worker takes next, or -1. */
    public int peekWork() { return works == 0 ? -1 : workList[0]; }

    public boolean isQueued(int work) { return workQueued[work]; }

    /**
     * The worker takes the next work: its VHOST_WORK_QUEUED bit is cleared before its function runs
     * ({@code vhost_worker}: {@code clear_bit(VHOST_WORK_QUEUED, &work->flags); work->fn(work);}), so queueing it while
     * it runs makes it run once more. Returns -1 when none is queued.
     */
    public int takeWork() {
        if (works == 0) return -1;
        int w = workList[0];
        System.arraycopy(workList, 1, workList, 0, --works);
        workQueued[w] = false;
        return w;
    }

    /** The worker takes ({@code true}) or releases a virtqueue mutex for a handler run. */
    public void lockVq(boolean locked) { vqLocked = locked; }

    /**
     * Whether an IOTLB message written now is processed now: {@code vhost_process_iotlb_msg} takes the device mutex and
     * every virtqueue mutex ({@code vhost_dev_lock_vqs}), so a writer waits while a handler runs.
     */
    public boolean acceptsIotlbMsg() { return !vqLocked; }

    // ------------------------------------------------------------------ translation (worker side)

    /**
     * translate_desc() (vhost.c) for one guest buffer: translates [iova, iova + len) for
     * {@code access} (VHOST_ACCESS_RO for a device read, WO for a device write).
     *
     * <p>Walks the IOTLB from {@code iova}: at each address the entry {@link VhostIotlb#find}
     * returns must exist and start at or before it, else a MISS (iova = that first untranslated
     * byte, perm = access, size 0) is queued on read_list and
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
        return out.count;
    }

    /** {@link #translate(int, long, long, int, Segments, int)} with UIO_MAXIOV segments, as a value. */
    public TranslateResult translate(int vq, long iova, long len, int access) {
        int r = translate(vq, iova, len, access, scratch, UIO_MAXIOV);
        if (r >= 0) return new TranslateResult.Mapped(Collections.unmodifiableList(scratch.toList()));
        if (r == -Errno.EAGAIN) {
            // The MISS is for the first untranslated byte (the one queued, or with Fixes#singleMiss the one already out).
            return new TranslateResult.Miss(missAddr, access);
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
     * @return 0 if the whole range is mapped; -EAGAIN if a MISS was queued;
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
        return 0;
    }

    private void queueMiss(int vq, long addr, int access) {
        // vhost_iotlb_miss(): node framed as v2 iff the vq acked VHOST_BACKEND_F_IOTLB_MSG_V2;
        // iova and perm set, everything else zero; appended to read_list. It looks for no MISS already
        // queued or pending for the same iova (drivers/vhost/vhost.c: vhost_new_msg + vhost_enqueue_msg,
        // nothing else), so each run of a handler that meets the same missing translation queues one more. Which runs
        // there are is vhost-net's business (VhostNet): after a descriptor's MISS, handle_rx/handle_tx leave the socket
        // poll stopped and guest notifications off, so only an UPDATE's re-kick, a kick already on its way, or the other
        // work of the same queue runs them again.
        int version = hasBackendFeature(VHOST_BACKEND_F_IOTLB_MSG_V2)
                ? VhostMsgCodec.VHOST_IOTLB_MSG_V2 : VhostMsgCodec.VHOST_IOTLB_MSG;
        IotlbMsg miss = IotlbMsg.miss(addr, access & 0xFF);
        missAddr = addr;
        if (fixes.singleMiss() && outstanding(vq, miss)) return; // Fixes#singleMiss: the one queued or pending will re-kick vq
        readList.addLast(new QueuedMsg(vq, version, miss));
        missesQueued++;
        lastMissIova = addr;
    }

    /** Whether the MISS {@code miss} of {@code vq} is already on read_list or pending_list. */
    private boolean outstanding(int vq, IotlbMsg miss) {
        for (QueuedMsg q : readList) if (q.vq() == vq && q.msg().equals(miss)) return true;
        for (Pending p = pendingHead; p != null; p = p.next) if (p.msg.vq() == vq && p.msg.msg().equals(miss)) return true;
        return false;
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
    @Override
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
    @Override
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
        if (vqLocked) throw new IllegalStateException("an IOTLB message written while a handler holds a virtqueue mutex: the writer must wait");
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
                if (uaddrOverflows(msg.uaddr(), msg.size(), config.overflowAllowsEnd())) return -Errno.EFAULT; // umem_access_ok
                if (msg.size() == 0 && config.refuseZeroSizeInsert()) return -Errno.ENOMEM; // vhost_new_umem_range: -EFAULT, reported as -ENOMEM
                // vhost_iotlb_add_range(iova, iova + size - 1): -EFAULT when last < start, which
                // vhost_process_iotlb_msg reports as -ENOMEM.
                if (fixes.dropLateUpdate() && resendInvalidated(msg)) return 0;
                if (iotlb.insert(msg.iova(), msg.last(), msg.uaddr(), msg.perm()) != 0) return -Errno.ENOMEM;
                updates++;
                notifyVqs(msg);
                return 0;
            }
            case IotlbMsg.INVALIDATE: {
                if (iotlb == null) return -Errno.EFAULT;
                iotlb.delete(msg.iova(), msg.last());
                invalidates++;
                if (fixes.dropLateUpdate()) markInvalidated(msg);
                return 0;
            }
            default:
                // MISS, ACCESS_FAIL, BATCH_BEGIN/END (vhost-vdpa only) and unknown types.
                return -Errno.EINVAL;
        }
    }

    /** {@link Fixes#dropLateUpdate}: marks the read MISSes whose IOVA the INVALIDATE covers. */
    private void markInvalidated(IotlbMsg inv) {
        long first = inv.iova(), last = inv.last();
        boolean all = inv.size() == 0; // size 0 (where accepted) invalidates everything
        for (Pending p = pendingHead; p != null; p = p.next) {
            long a = p.msg.msg().iova();
            if (all || (Long.compareUnsigned(a, first) >= 0 && Long.compareUnsigned(a, last) <= 0)) p.invalidated = true;
        }
    }

    /**
     * {@link Fixes#dropLateUpdate}: the UPDATE answers the read MISS it covers that userspace read last (QEMU reads one
     * MISS, translates it and writes its UPDATE before it reads the next, under the BQL; older covered MISSes are ones
     * it could not answer); when an INVALIDATE marked that MISS since, the UPDATE is dropped and the MISS goes back to
     * read_list, to be read and translated again. Returns whether it was dropped.
     */
    private boolean resendInvalidated(IotlbMsg upd) {
        long first = upd.iova(), last = upd.last();
        if (Long.compareUnsigned(last, first) < 0) return false;
        Pending answered = null;
        for (Pending p = pendingHead; p != null; p = p.next) {
            long a = p.msg.msg().iova();
            if (Long.compareUnsigned(a, first) >= 0 && Long.compareUnsigned(a, last) <= 0) answered = p;
        }
        if (answered == null || !answered.invalidated) return false;
        List<QueuedMsg> keep = new ArrayList<>();
        List<Boolean> marks = new ArrayList<>();
        for (Pending p = pendingHead; p != null; p = p.next) {
            if (p == answered) continue;
            keep.add(p.msg);
            marks.add(p.invalidated);
        }
        clearPending();
        for (int i = 0; i < keep.size(); i++) {
            addPending(keep.get(i));
            pendingTail.invalidated = marks.get(i);
        }
        readList.addLast(answered.msg);
        missesQueued++;
        lateUpdatesDropped++;
        return true;
    }

    /** UPDATEs dropped because they answered an invalidated MISS ({@link Fixes#dropLateUpdate}). */
    public long lateUpdatesDropped() { return lateUpdatesDropped; }

    public Fixes fixes() { return fixes; }

    /**
     * vhost_overflow(): on 64-bit, {@code uaddr > ULONG_MAX - size} before v5.14; from f7ad318ea0ad ({@code allowsEnd}),
     * false for size 0 and else {@code uaddr > ULONG_MAX - size + 1}.
     */
    static boolean uaddrOverflows(long uaddr, long size, boolean allowsEnd) {
        if (allowsEnd) return size != 0 && Long.compareUnsigned(uaddr, -size) > 0;
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
                rekicks++;
                queueWork(n.msg.vq()); // vhost_poll_queue(&node->vq->poll)
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

    // ------------------------------------------------------------------ observation

    /** The queued works, in the order the worker will run them. */
    public int[] queuedWorks() {
        return Arrays.copyOf(workList, works);
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
    @Override
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

    /** The address of the last MISS queued (its first untranslated byte). */
    public long lastMissIova() {
        return lastMissIova;
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
     * The behavioural state: features, IOTLB contents, both message lists, the worker's queued works and whether it
     * holds a virtqueue mutex. Counters are not saved. Four parts, each restored on its own: the features and the
     * IOTLB, the MISSes to read, the MISSes pending, the works.
     */
    @Override
    public tcesim.state.Snapshot[] parts() { return snapshotParts; }

    private final tcesim.state.Snapshot[] snapshotParts = {new IotlbState(), new ReadListState(), new PendingState(), new WorkState()};

    /** The features and the IOTLB's contents. */
    private final class IotlbState implements tcesim.state.Snapshot {
        @Override
        public void save(tcesim.state.StateWriter out) {
            out.put(features, backendFeatures);
            out.put(iotlb != null);
            if (iotlb != null) iotlb.save(out);
        }

        @Override
        public void restore(tcesim.state.StateReader in) {
            features = in.next();
            backendFeatures = in.next();
            if (in.nextBool()) {
                if (iotlb == null) iotlb = new VhostIotlb(config.maxIotlbEntries(), config.splitFullRange(), config.refuseWrappedRange());
                iotlb.restore(in);
            } else {
                iotlb = null;
            }
        }
    }

    /**
     * The messages vhost has queued for QEMU to read (its MISSes), each with the drop-late-update mark. Each list and
     * the works are parts of their own: a kick or a tap wake-up changes the works alone, and putting the state back
     * then leaves the message lists as they are.
     */
    private final class ReadListState implements tcesim.state.Snapshot {
        @Override
        public void save(tcesim.state.StateWriter out) {
            out.put(readList.size());
            for (QueuedMsg n : readList) saveMsg(out, n, false);
        }

        @Override
        public void restore(tcesim.state.StateReader in) {
            readList.clear();
            for (int n = in.nextInt(); n > 0; n--) readList.addLast(restoreMsg(in.next(), in));
        }
    }

    /** The MISSes sent and not yet answered, each with its drop-late-update mark. */
    private final class PendingState implements tcesim.state.Snapshot {
        @Override
        public void save(tcesim.state.StateWriter out) {
            out.put(pendingCount);
            for (Pending n = pendingHead; n != null; n = n.next) saveMsg(out, n.msg, n.invalidated);
        }

        @Override
        public void restore(tcesim.state.StateReader in) {
            clearPending();
            for (int n = in.nextInt(); n > 0; n--) {
                long h = in.next();
                addPending(restoreMsg(h, in));
                pendingTail.invalidated = h < 0;
            }
        }
    }

    /** The worker's queued works, in order, and whether it holds a virtqueue mutex. */
    private final class WorkState implements tcesim.state.Snapshot {
        @Override
        public void save(tcesim.state.StateWriter out) {
            out.put(works | (vqLocked ? 1L << 32 : 0));
            for (int i = 0; i < works; i++) out.put(workList[i]);
        }

        @Override
        public void restore(tcesim.state.StateReader in) {
            long w = in.next();
            works = (int) (w & 0xffffffffL);
            vqLocked = (w >>> 32) != 0;
            if (workList.length < works) workList = new int[works];
            Arrays.fill(workQueued, false);
            for (int i = 0; i < works; i++) {
                workList[i] = in.nextInt();
                workQueued[workList[i]] = true;
            }
        }
    }

    /** One message: a header word (vq, version, perm, type; bit 63 the {@link Fixes#dropLateUpdate} mark), iova, size, uaddr. */
    private static void saveMsg(tcesim.state.StateWriter out, QueuedMsg n, boolean invalidated) {
        IotlbMsg m = n.msg();
        out.put(n.vq() | ((long) n.version() << 16) | ((long) m.perm() << 32) | ((long) m.type() << 48) | (invalidated ? 1L << 63 : 0));
        out.put(m.iova(), m.size());
        out.put(m.uaddr());
    }

    private static QueuedMsg restoreMsg(long h, tcesim.state.StateReader in) {
        long iova = in.next();
        long size = in.next();
        long uaddr = in.next();
        return new QueuedMsg((int) (h & 0xffff), (int) ((h >>> 16) & 0xffff),
                new IotlbMsg(iova, size, uaddr, (int) ((h >>> 32) & 0xffff), (int) ((h >>> 48) & 0x7fff)));
    }

    /** A deep copy (told of nothing it queues). */
    public VhostDevice copy() {
        VhostDevice c = new VhostDevice(nvqs, config, fixes, w -> { });
        c.workQueued = workQueued.clone();
        c.workList = workList.clone();
        c.works = works;
        c.vqLocked = vqLocked;
        c.iotlb = iotlb == null ? null : iotlb.copy();
        c.features = features;
        c.backendFeatures = backendFeatures;
        c.readList.addAll(readList);
        for (Pending n = pendingHead; n != null; n = n.next) {
            c.addPending(n.msg);
            c.pendingTail.invalidated = n.invalidated;
        }
        c.lateUpdatesDropped = lateUpdatesDropped;
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
