package tcesim.qemu;

/**
 * QEMU's variant in force.
 *
 * @param vhostForcesUserspaceTable design D2: a table with vhost's IOMMU notifier registered is kept in
 *     QEMU memory even on a host with KVM_CAP_SPAPR_TCE_VFIO, so that every TCE hypercall exits to QEMU,
 *     which notifies vhost ("disable in-kernel handlers in QEMU, as for VFIO on older host kernels")
 */
public record QemuPolicy(boolean vhostForcesUserspaceTable) {
    public static final QemuPolicy STOCK = new QemuPolicy(false);
}
