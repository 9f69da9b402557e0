package tcesim.qemu;

/**
 * The QEMU release the model runs, as far as its IOMMU and vhost glue go.
 *
 * <ul>
 * <li>{@link #Q4_2}: the seed's. vhost listens on each IOMMU region with {@code IOMMU_NOTIFIER_UNMAP}
 *     ({@code vhost_iommu_region_add}, hw/virtio/vhost.c).
 * <li>{@link #Q5_2}: as 4.2 for every rule the model covers: 5.2.0's {@code vhost_iommu_region_add} still registers
 *     {@code IOMMU_NOTIFIER_UNMAP} (a 5.2.0 tree's hw/virtio/vhost.c), the same {@code put_tce_emu} and placement rule.
 * <li>{@link #Q6_0_DEV}: QEMU's master branch between b68ba1ca5767 "memory: Add IOMMU_NOTIFIER_DEVIOTLB_UNMAP
 *     IOMMUTLBNotificationType" (pulled on top of the v5.2.0 release, Dec 2020) and its fixes (Feb 2021): vhost
 *     registered for {@code IOMMU_NOTIFIER_DEVIOTLB_UNMAP} only. spapr's IOMMU sends plain UNMAP events
 *     ({@code put_tce_emu}, hw/ppc/spapr_iommu.c) and accepted the registration ({@code spapr_tce_notify_flag_changed}
 *     sees a notifier and sets need_vfio), so vhost heard of no clear at all: QEMU never sent an INVALIDATE. No release
 *     shipped it; it is here so that the bug history can replay it.
 * <li>{@link #CURRENT}: 958ec334bca3 "vhost: Unbreak SMMU and virtio-iommu on dev-iotlb support" (vhost falls back to
 *     UNMAP when the IOMMU refuses DEVIOTLB_UNMAP) and 1a8e22bd20c2 "spapr_iommu: Fix vhost integration regression"
 *     (spapr refuses it), both QEMU 6.0; later releases pick DEVIOTLB_UNMAP only for a device with ATS, which spapr's
 *     virtio-pci devices do not have. vhost listens to UNMAPs again.
 * </ul>
 */
public enum QemuVersion {
    Q4_2("4.2"), Q5_2("5.2"), Q6_0_DEV("6.0-dev"), CURRENT("current");

    private final String label;

    QemuVersion(String label) { this.label = label; }

    /** The release as users type it: 4.2, 5.2, 6.0-dev or current. */
    public String label() { return label; }

    /** The release users typed, or null. */
    public static QemuVersion of(String label) {
        for (QemuVersion v : values()) if (v.label.equals(label.trim())) return v;
        return null;
    }

    /** Whether vhost's notifier receives spapr's UNMAP events (false where it registered for DEVIOTLB_UNMAP only). */
    public boolean vhostHearsUnmaps() { return this != Q6_0_DEV; }

    /** The labels, for messages: "4.2, 5.2, 6.0-dev or current". */
    public static String choices() {
        StringBuilder sb = new StringBuilder();
        QemuVersion[] all = values();
        for (int i = 0; i < all.length; i++) sb.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ").append(all[i].label);
        return sb.toString();
    }

    @Override
    public String toString() { return label; }
}
