package tcesim.kvm;

/**
 * Something KVM keeps in step with a guest TCE table from inside its hypercall handlers.
 *
 * <p>Models the list {@code stt->iommu_tables} of {@code struct kvmppc_spapr_tce_iommu_table}
 * (Linux {@code arch/powerpc/kvm/book3s_64_vio.c}): QEMU attaches a VFIO group's hardware table with
 * {@code KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE}; each TCE the guest writes is exchanged into the hardware
 * table and, once per hypercall, the PHB's TCE cache is invalidated for the range
 * ({@code iommu_tce_kill}). Designs that let KVM tell vhost about cleared entries attach through the
 * same hook (see {@code tcesim.design}).
 */
public interface AttachedTable {
    /** Whether the real-mode handlers may drive this attachment; if not, real mode returns H_TOO_HARD to fall back to virtual mode. */
    boolean realModeCapable();

    /**
     * Exchanges entry {@code idx} (absolute index in the guest window) for a translation to guest physical
     * address {@code gpa} with permission bits {@code perm} (0 = unmap). Returns H_SUCCESS, or an hcall
     * error which aborts the hypercall.
     */
    long exchange(long idx, long gpa, int perm);

    /** Invalidates whatever caches translations of entries {@code [idx, idx + npages)}: one call per hypercall. */
    void kill(long idx, long npages);
}
