package tcesim.qemu;

/**
 * A listener on an IOMMU memory region.
 *
 * <p>Models QEMU's {@code IOMMUNotifier} registered with {@code memory_region_register_iommu_notifier}
 * ({@code softmmu/memory.c}): VFIO listens to MAP and UNMAP, vhost to UNMAP only
 * ({@code IOMMU_NOTIFIER_UNMAP} in {@code hw/virtio/vhost.c}, {@code vhost_iommu_region_add}).
 */
public interface IommuNotifier {
    /** Whether this notifier wants MAP events (vhost's does not). */
    boolean wantsMap();

    /** Whether this notifier wants UNMAP events (not one registered for DEVIOTLB_UNMAP only: vhost on QEMU master early in 2021). */
    default boolean wantsUnmap() { return true; }

    void notify(IommuTlbEvent event);
}
