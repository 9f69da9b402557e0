package tcesim.qemu;

/**
 * QEMU's variant in force.
 *
 * @param vhostForcesUserspaceTable design D2: a table with vhost's IOMMU notifier registered is kept in
 *     QEMU memory even on a host with KVM_CAP_SPAPR_TCE_VFIO, so that every TCE hypercall exits to QEMU,
 *     which notifies vhost ("disable in-kernel handlers in QEMU, as for VFIO on older host kernels")
 * @param planted a fault planted by a mutation test; {@link Planted#NONE} in every real QEMU
 */
public record QemuPolicy(boolean vhostForcesUserspaceTable, Planted planted) {
    public static final QemuPolicy STOCK = new QemuPolicy(false);

    /** Faults no QEMU has, planted so that a test can see the oracles catch them. */
    public enum Planted {
        NONE,
        /**
         * {@code put_tce_emu}'s bound check lets {@code index == nb_table} through: the handlers then write one entry past
         * {@code tcet->table}, which the {@code host_memory} oracle must catch.
         */
        INDEX_BOUND_ONE_PAST
    }

    public QemuPolicy(boolean vhostForcesUserspaceTable) {
        this(vhostForcesUserspaceTable, Planted.NONE);
    }

    /** This variant with {@code p} planted. */
    public QemuPolicy planting(Planted p) {
        return new QemuPolicy(vhostForcesUserspaceTable, p);
    }
}
