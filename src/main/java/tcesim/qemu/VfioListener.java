package tcesim.qemu;

import tcesim.kvm.AttachedTable;

/**
 * VFIO's IOMMU notifier in QEMU for a passthrough device on an sPAPR window.
 *
 * <p>Models {@code vfio_iommu_map_notify} ({@code hw/vfio/common.c}): every MAP and UNMAP of the guest
 * table that QEMU sees becomes a {@code VFIO_IOMMU_MAP_DMA} / {@code VFIO_IOMMU_UNMAP_DMA} ioctl on the
 * container, which the sPAPR TCE IOMMU driver ({@code drivers/vfio/vfio_iommu_spapr_tce.c},
 * {@code tce_iommu_build} / {@code tce_iommu_clear}) turns into an exchange of the hardware entry and a
 * TCE kill. When the table lives in KVM and the group is attached to it, hypercalls KVM finishes update
 * the hardware table through the same attachment without QEMU; only those that reach QEMU come here.
 */
public final class VfioListener implements IommuNotifier {
    private final AttachedTable container;
    private final long busOffset;
    private final int pageShift;

    public VfioListener(AttachedTable container, SpaprTceTable window) {
        this.container = container;
        this.busOffset = window.busOffset();
        this.pageShift = window.pageShift();
    }

    @Override
    public boolean wantsMap() { return true; }

    @Override
    public void notify(IommuTlbEvent e) {
        long idx = (busOffset + e.iova()) >>> pageShift;
        boolean map = e.type() == IommuTlbEvent.Type.MAP;
        container.exchange(idx, map ? e.translatedAddr() : 0, map ? e.perm() : 0);
        container.kill(idx, 1);
    }
}
