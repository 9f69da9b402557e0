package tcesim.qemu;

/**
 * The QEMU release the model runs, as far as its IOMMU and vhost glue go.
 *
 * <ul>
 * <li>{@link #Q4_2}: the seed's. vhost listens on each IOMMU region with {@code IOMMU_NOTIFIER_UNMAP}
 *     ({@code vhost_iommu_region_add}, hw/virtio/vhost.c).
 * <li>{@link #Q5_2}: b68ba1ca5767 "memory: Add IOMMU_NOTIFIER_DEVIOTLB_UNMAP IOMMUTLBNotificationType" (QEMU 5.2.0) made
 *     vhost register for {@code IOMMU_NOTIFIER_DEVIOTLB_UNMAP} only. spapr's IOMMU sends plain UNMAP events
 *     ({@code put_tce_emu}, hw/ppc/spapr_iommu.c) and accepts the registration ({@code spapr_tce_notify_flag_changed}
 *     sees a notifier and sets need_vfio), so vhost hears of no clear at all: QEMU never sends an INVALIDATE.
 * <li>{@link #CURRENT}: 958ec334bca3 "vhost: Unbreak SMMU and virtio-iommu on dev-iotlb support" (vhost falls back to
 *     UNMAP when the IOMMU refuses DEVIOTLB_UNMAP) and 1a8e22bd20c2 "spapr_iommu: Fix vhost integration regression"
 *     (spapr refuses it), both QEMU 6.0; later releases pick DEVIOTLB_UNMAP only for a device with ATS, which spapr's
 *     virtio-pci devices do not have. vhost listens to UNMAPs again.
 * </ul>
 */
public enum QemuVersion {
    Q4_2("4.2"), Q5_2("5.2"), CURRENT("current");

    private final String label;

    QemuVersion(String label) { this.label = label; }

    /** The release as users type it: 4.2, 5.2 or current. */
    public String label() { return label; }

    /** The release users typed, or null. */
    public static QemuVersion of(String label) {
        for (QemuVersion v : values()) if (v.label.equals(label.trim())) return v;
        return null;
    }

    /** Whether vhost's notifier receives spapr's UNMAP events (false where it registered for DEVIOTLB_UNMAP only). */
    public boolean vhostHearsUnmaps() { return this != Q5_2; }

    @Override
    public String toString() { return label; }
}
