package tcesim.qemu;

import java.util.ArrayList;
import java.util.List;
import tcesim.mem.GuestMemory;
import tcesim.vhost.IotlbMsg;
import tcesim.vhost.VhostFd;
import tcesim.vhost.VhostMsgCodec;

/**
 * QEMU's half of the vhost device IOTLB: it answers vhost's misses and forwards unmaps.
 *
 * <p>Models QEMU {@code hw/virtio/vhost.c} ({@code vhost_iommu_region_add}/{@code _del},
 * {@code vhost_iommu_unmap_notify}, {@code vhost_device_iotlb_miss}, the used-ring pre-load in
 * {@code vhost_dev_start}) and {@code hw/virtio/vhost-backend.c} (the fd read handler and
 * {@code vhost_backend_update_device_iotlb} / {@code _invalidate_device_iotlb}), talking to vhost only
 * with 72-byte frames on the vhost fd.
 * <ul>
 * <li>An UNMAP-only notifier on each IOMMU region of the device's DMA address space; an UNMAP event sends
 *     INVALIDATE(iova + region offset, addr_mask + 1) synchronously, inside the hypercall that caused it (whose
 *     vCPU thread waits in write() while a vhost handler holds a virtqueue mutex).
 *     A MAP event (valid to valid overwrite) sends nothing. Removing a region only unregisters the
 *     notifier: no INVALIDATE.
 * <li>A MISS is translated through the IOMMU region as the table is at that moment; when there is no
 *     translation (entry outside the window, or without the permission the access needs, or a target
 *     outside RAM) nothing is sent and the virtqueue stays stalled. Otherwise UPDATE(iova & ~addr_mask,
 *     size = IOMMU page, uaddr = QEMU's address of the page, perm = RW): {@code address_space_get_iotlb_entry}
 *     reports IOMMU_RW whatever the TCE allows, so a read-only TCE is cached read-write by vhost.
 * <li>The fd handler runs in the main loop under the BQL; reading and translating is one step, writing the
 *     UPDATE another, and a KVM hypercall on another vCPU may come between them.
 * </ul>
 */
public final class VhostIommu {
    private final VhostFd fd;
    private final Spapr spapr;
    private final GuestMemory mem;
    private final int msgVersion;
    /** The LIOBNs of the windows whose IOMMU regions vhost listens on, with their notifiers at the same index. */
    private final com.carrotsearch.hppc.LongArrayList windows = new com.carrotsearch.hppc.LongArrayList();
    private final List<IommuNotifier> notifiers = new ArrayList<>();
    private final QemuVersion qemu;
    private Listener listener = Listener.NONE;
    private final Planted planted;
    private final Answer answer;
    private long invalidatesSent;
    private long updatesSent;
    private long missesUnanswered;
    /** The frame the fd handler reads into and the messages are built in (QEMU's {@code struct vhost_msg_v2} on the stack). */
    private final byte[] frame = new byte[VhostMsgCodec.FRAME_SIZE];

    /** What the glue did, for traces. */
    public interface Listener {
        Listener NONE = new Listener() {};

        default void invalidate(long iova, long size, long rc) {}

        default void missRead(long iova, int perm) {}

        default void translated(long iova, IotlbMsg update) {}

        default void updateSent(IotlbMsg update, long rc) {}
    }

    /**
     * Faults a mutation test plants in the glue; none in any QEMU.
     *
     * @param dropInvalidate UNMAP events are ignored (the mutation "remove QEMU's INVALIDATE on UNMAP")
     * @param zeroSizeUpdate UPDATEs go out with size 0 (a userspace bug; vhost refuses them in late 2019 and from v5.17,
     *     accepted them from v5.7 to v5.16)
     */
    public record Planted(boolean dropInvalidate, boolean zeroSizeUpdate) {
        public static final Planted NONE = new Planted(false, false);
    }

    /**
     * The permission an UPDATE carries.
     * <ul>
     * <li>{@link #RW}: IOMMU_RW whatever the TCE allows, as every QEMU does ({@code address_space_get_iotlb_entry},
     *     softmmu/physmem.c, returns {@code .perm = IOMMU_RW} for the RAM section the translation ends in, the IOMMU's
     *     own permission checked against the access and then forgotten).
     * <li>{@link #TCE_PERM}: the TCE's own permission (IOMMU_RO, IOMMU_WO or IOMMU_RW). The patch: let
     *     {@code address_space_translate_iommu} hand the IOMMU entry's {@code iotlb.perm} (ANDed along the IOMMU chain)
     *     back to {@code flatview_do_translate}, return it in {@code address_space_get_iotlb_entry}'s entry instead of
     *     IOMMU_RW, and pass it on in {@code vhost_device_iotlb_miss} (hw/virtio/vhost.c), whose call to
     *     {@code vhost_backend_update_device_iotlb} already takes a permission: vhost then caches a read-only TCE as
     *     read-only, and a write through it fails in {@code translate_desc} (-EPERM) instead of reaching the page.
     * </ul>
     */
    public enum Answer { RW, TCE_PERM }

    public VhostIommu(VhostFd fd, Spapr spapr, GuestMemory mem, int msgVersion) {
        this(fd, spapr, mem, msgVersion, QemuVersion.Q4_2, Planted.NONE);
    }

    public VhostIommu(VhostFd fd, Spapr spapr, GuestMemory mem, int msgVersion, QemuVersion qemu, Planted planted) {
        this(fd, spapr, mem, msgVersion, qemu, planted, Answer.RW);
    }

    /**
     * @param qemu the QEMU release: which notifier type vhost registers ({@link QemuVersion#vhostHearsUnmaps})
     * @param planted the faults a test plants ({@link Planted#NONE} as QEMU is)
     * @param answer the permission of the UPDATEs ({@link Answer#RW} as QEMU is)
     */
    public VhostIommu(VhostFd fd, Spapr spapr, GuestMemory mem, int msgVersion, QemuVersion qemu, Planted planted, Answer answer) {
        this.qemu = qemu;
        this.answer = answer;
        this.planted = planted;
        this.fd = fd;
        this.spapr = spapr;
        this.mem = mem;
        this.msgVersion = msgVersion;
    }

    public void setListener(Listener l) { this.listener = l; }

    /** {@code vhost_iommu_region_add}: listen for UNMAPs on the window {@code liobn}. */
    public void regionAdd(long liobn) {
        SpaprTceTable t = spapr.table(liobn);
        long busOffset = t.busOffset();
        IommuNotifier n = new IommuNotifier() {
            @Override
            public boolean wantsMap() { return false; }

            @Override
            public boolean wantsUnmap() { return qemu.vhostHearsUnmaps(); }

            @Override
            public void notify(IommuTlbEvent e) {
                if (e.type() != IommuTlbEvent.Type.UNMAP || planted.dropInvalidate()) return;
                invalidate(e.iova() + busOffset, e.addrMask() + 1);
            }
        };
        windows.add(liobn);
        notifiers.add(n);
        spapr.registerNotifier(liobn, n, true);
    }

    /** {@code vhost_iommu_region_del}: the notifier goes, nothing is sent to vhost. */
    public void regionDel(long liobn) {
        int i = windows.indexOf(liobn);
        if (i < 0) return;
        spapr.unregisterNotifier(liobn, notifiers.get(i));
        windows.removeAt(i);
        notifiers.remove(i);
    }

    /** Writes INVALIDATE(iova, size) on the vhost fd: for an IOMMU UNMAP, or a range KVM reported (designs D3a/D3b). */
    public long invalidate(long iova, long size) {
        VhostMsgCodec.encodeInto(frame, 0, msgVersion, 0, IotlbMsg.invalidate(iova, size));
        long rc = fd.writeFrame(frame);
        invalidatesSent++;
        listener.invalidate(iova, size, rc);
        return rc;
    }

    /** Whether vhost has a MISS for QEMU to read (the fd is readable). */
    public boolean missPending() { return fd.readable(); }

    /**
     * Reads one MISS and translates it. Returns the UPDATE to send, or null when there is nothing to send
     * (no message, or no translation: the virtqueue stays stalled).
     */
    public IotlbMsg readAndTranslate() {
        if (fd.read(frame) != VhostMsgCodec.FRAME_SIZE) return null;
        VhostMsgCodec.DecodeResult r = VhostMsgCodec.decode(frame);
        if (!(r instanceof VhostMsgCodec.DecodeResult.Ok ok) || ok.msg().type() != IotlbMsg.MISS) return null;
        IotlbMsg miss = ok.msg();
        listener.missRead(miss.iova(), miss.perm());
        IotlbMsg upd = translate(miss.iova(), miss.perm());
        if (upd == null) missesUnanswered++;
        listener.translated(miss.iova(), upd);
        return upd;
    }

    /** {@code vhost_device_iotlb_miss}'s translation: the UPDATE for {@code iova}, or null. */
    public IotlbMsg translate(long iova, int access) {
        for (int i = 0; i < windows.size(); i++) {
            SpaprTceTable t = spapr.table(windows.get(i));
            if (t == null) continue;
            IommuTlbEvent e = t.translate(iova);
            if (e == null) continue;
            if ((e.perm() & access) != access || e.perm() == 0) return null;
            long gpa = e.translatedAddr();
            long size = e.addrMask() + 1;
            if (!mem.contains(gpa, size)) return null;
            return IotlbMsg.update(iova & ~e.addrMask(), size, mem.gpaToHva(gpa), answer == Answer.RW ? IotlbMsg.RW : e.perm());
        }
        return null;
    }

    /** Writes an UPDATE on the vhost fd. */
    public long sendUpdate(IotlbMsg upd) {
        if (planted.zeroSizeUpdate()) upd = IotlbMsg.update(upd.iova(), 0, upd.uaddr(), upd.perm());
        VhostMsgCodec.encodeInto(frame, 0, msgVersion, 0, upd);
        long rc = fd.writeFrame(frame);
        updatesSent++;
        listener.updateSent(upd, rc);
        return rc;
    }

    /** The used-ring pre-load of {@code vhost_dev_start}: translate and send at once. */
    public void preload(long iova) {
        IotlbMsg upd = translate(iova, IotlbMsg.WO);
        if (upd != null) sendUpdate(upd);
    }

    public long invalidatesSent() { return invalidatesSent; }
    public long updatesSent() { return updatesSent; }
    public long missesUnanswered() { return missesUnanswered; }
}
